//! Accepting connections for the dashboard.
//!
//! `axum::serve` keeps a connection open for as long as the client likes: a client that
//! sends its headers one byte a minute, or opens thousands of idle connections, holds
//! sockets and memory without end. Here every connection must deliver each request's
//! headers within a deadline (which also ends idle keep-alive connections), and at most a
//! fixed number are open at once; more wait in the kernel's backlog until one closes.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::extract::Request;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;
use tracing::{debug, warn};

/// How connections are bounded.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Time allowed for a request's headers, and for an idle connection to send another.
    pub header_timeout: Duration,
    /// Connections open at once.
    pub max_connections: usize,
    /// Time given to open requests to finish after shutdown is asked for.
    pub drain: Duration,
}

/// Serves `app` on `listener` until `shutdown` is cancelled, then lets open requests
/// finish for at most `limits.drain`.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: CancellationToken,
) -> io::Result<()> {
    // HTTP/1.1 only: browsers reach the dashboard directly or through a proxy that speaks
    // HTTP/1.1 upstream, and protocol sniffing would wait for the first byte without a
    // deadline.
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);

    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    loop {
        let slot = tokio::select! {
            _ = shutdown.cancelled() => break,
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
        };

        let (stream, peer) = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of descriptors and the like: pause instead of spinning.
                    warn!(error = %err, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };

        let service = TowerToHyperService::new(with_peer(app.clone(), peer));
        let connection = builder.serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                debug!(%peer, error = %err, "connection ended with an error");
            }
            drop(slot);
        });
    }

    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(limits.drain) => {
            warn!(drain_secs = limits.drain.as_secs(), "requests still open after the drain");
        }
    }
    Ok(())
}

/// The router with the client's address attached to each request, as handlers and the
/// sign-in limiter read it through `ConnectInfo`.
fn with_peer(
    app: Router,
    peer: SocketAddr,
) -> impl tower::Service<
    Request<Incoming>,
    Response = axum::response::Response,
    Error = Infallible,
    Future = impl Send,
> + Clone {
    app.map_request(move |mut request: Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        request
    })
}
