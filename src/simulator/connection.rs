//! Serving one accepted connection, plain or TLS. The simulator serves its connections
//! itself rather than through `axum::serve` so that a handler can reset the connection
//! it arrived on with a real TCP RST, and so that each listener can say which appliances
//! it stands for.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

/// A client that opens a connection and says nothing must not hold a task forever.
const HANDSHAKE_LIMIT: Duration = Duration::from_secs(10);

/// Which appliances a listener stands for, handed to every request it carries.
#[derive(Clone, Debug)]
pub(crate) enum Entrance {
    /// The shared listener (plain, or a TLS front for the whole fleet): every appliance
    /// without a listener of its own.
    Shared,
    /// The own HTTPS listener of this one appliance.
    Own(Arc<str>),
}

impl Entrance {
    /// True when a request for `appliance` may be answered on this listener.
    pub(crate) fn admits(&self, appliance: &str, has_own_listener: bool) -> bool {
        match self {
            Entrance::Shared => !has_own_listener,
            Entrance::Own(own) => **own == *appliance,
        }
    }
}

/// Handed to every request: pulling it resets the connection the request came on.
#[derive(Clone, Debug)]
pub(crate) struct ResetSwitch(CancellationToken);

impl ResetSwitch {
    /// Ends the connection with a TCP RST instead of a FIN; nothing more is sent on it.
    pub(crate) fn pull(&self) {
        self.0.cancel();
    }
}

/// Picks the TLS certificate for a new connection, with a token that drops the
/// connection when cancelled (the certificate was replaced).
pub(crate) type PickCertificate = Box<dyn FnMut() -> (TlsAcceptor, CancellationToken) + Send>;

/// Accepts connections until the future is dropped, which also ends every connection it
/// accepted. Connections are plain HTTP when `tls` is `None`.
pub(crate) async fn accept_loop(
    listener: TcpListener,
    router: Router,
    entrance: Entrance,
    mut tls: Option<PickCertificate>,
) {
    let stop = CancellationToken::new();
    let _stop_on_drop = stop.clone().drop_guard();
    loop {
        let socket = match listener.accept().await {
            Ok((socket, _)) => socket,
            Err(err) => {
                // Out of file descriptors, say: wait rather than spin.
                tracing::debug!(error = %err, "simulator could not accept a connection");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };

        let (acceptor, dropped) = match tls.as_mut() {
            Some(pick) => {
                let (acceptor, dropped) = pick();
                (Some(acceptor), dropped)
            }
            None => (None, CancellationToken::new()),
        };
        let connection = Connection {
            router: router.clone(),
            entrance: entrance.clone(),
            reset: CancellationToken::new(),
        };
        let stop = stop.clone();
        tokio::spawn(async move {
            let reset = connection.reset.clone();
            let stream = ResettableStream {
                inner: socket,
                reset: reset.clone(),
            };
            // Leaving the select drops the connection, and with it the socket: with a
            // zero linger when the reset switch was pulled.
            tokio::select! {
                () = stop.cancelled() => {}
                () = dropped.cancelled() => {}
                () = reset.cancelled() => {}
                () = connection.serve(stream, acceptor) => {}
            }
        });
    }
}

/// What serving one connection needs.
struct Connection {
    router: Router,
    entrance: Entrance,
    reset: CancellationToken,
}

impl Connection {
    async fn serve(self, stream: ResettableStream, tls: Option<TlsAcceptor>) {
        match tls {
            None => self.serve_http(stream).await,
            Some(acceptor) => {
                let handshake = tokio::time::timeout(HANDSHAKE_LIMIT, acceptor.accept(stream));
                match handshake.await {
                    Ok(Ok(stream)) => self.serve_http(stream).await,
                    // The client refusing our certificate ends up here: the point of the
                    // certificate faults.
                    Ok(Err(err)) => tracing::debug!(error = %err, "simulated TLS handshake failed"),
                    Err(_) => tracing::debug!("simulated TLS handshake timed out"),
                }
            }
        }
    }

    async fn serve_http<S>(self, stream: S)
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let Connection {
            router,
            entrance,
            reset,
        } = self;
        let service = hyper::service::service_fn(move |mut request: Request<_>| {
            let extensions = request.extensions_mut();
            extensions.insert(entrance.clone());
            extensions.insert(ResetSwitch(reset.clone()));
            router.clone().oneshot(request.map(axum::body::Body::new))
        });
        let served = auto::Builder::new(TokioExecutor::new())
            .serve_connection(TokioIo::new(stream), service)
            .await;
        if let Err(err) = served {
            tracing::debug!(error = %err, "simulated connection ended with an error");
        }
    }
}

/// A TCP stream that is reset rather than closed when dropped after its switch was
/// pulled: a zero linger makes the kernel send RST and discard anything unsent.
struct ResettableStream {
    inner: TcpStream,
    reset: CancellationToken,
}

impl Drop for ResettableStream {
    fn drop(&mut self) {
        if self.reset.is_cancelled()
            && let Err(err) = self.inner.set_zero_linger()
        {
            tracing::debug!(error = %err, "cannot arm the simulated connection reset");
        }
    }
}

impl AsyncRead for ResettableStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for ResettableStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
