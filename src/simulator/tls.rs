//! An HTTPS front for the simulator: the same appliances served over TLS with a
//! certificate the caller hands in, which can be swapped as if the appliance restarted
//! with a new one. Certificate faults (unknown issuer, another host name, expired) are
//! scripted per appliance by serving that appliance behind a front of its own.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use super::Simulator;

/// A client that opens a connection and says nothing must not hold a task forever.
const HANDSHAKE_LIMIT: Duration = Duration::from_secs(10);

/// A certificate chain (leaf first) and its private key, both PEM text.
#[derive(Clone)]
pub struct TlsIdentity {
    /// One or more `CERTIFICATE` blocks, the server's own first.
    pub cert_chain_pem: String,
    /// The private key of the first certificate (PKCS#8, PKCS#1 or SEC1).
    pub key_pem: String,
}

impl std::fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsIdentity")
            .field("cert_chain_pem", &self.cert_chain_pem)
            .field("key_pem", &"(hidden)")
            .finish()
    }
}

/// The certificate handed to new connections, and the token that ends the connections
/// made with it.
struct Current {
    acceptor: TlsAcceptor,
    connections: CancellationToken,
}

/// The simulator served over HTTPS on one listener, until dropped.
pub struct TlsFront {
    addr: SocketAddr,
    current: Arc<Mutex<Current>>,
    accept_task: JoinHandle<()>,
}

impl TlsFront {
    /// Serves every appliance of `simulator` over TLS on `listener` with `identity`.
    /// Must be called inside a Tokio runtime.
    pub fn start(
        simulator: &Simulator,
        listener: TcpListener,
        identity: &TlsIdentity,
    ) -> anyhow::Result<TlsFront> {
        let addr = listener.local_addr()?;
        let current = Arc::new(Mutex::new(Current {
            acceptor: acceptor(identity)?,
            connections: CancellationToken::new(),
        }));
        let accept_task = tokio::spawn(accept_loop(
            listener,
            simulator.router(),
            Arc::clone(&current),
        ));
        Ok(TlsFront {
            addr,
            current,
            accept_task,
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Behaves like an appliance restarted with a new certificate: open connections are
    /// dropped and every new handshake presents `identity`.
    pub fn restart_with(&self, identity: &TlsIdentity) -> anyhow::Result<()> {
        let acceptor = acceptor(identity)?;
        let mut current = lock(&self.current);
        current.connections.cancel();
        *current = Current {
            acceptor,
            connections: CancellationToken::new(),
        };
        Ok(())
    }
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        self.accept_task.abort();
        lock(&self.current).connections.cancel();
    }
}

/// A TLS acceptor for one certificate, speaking HTTP/1.1 only.
fn acceptor(identity: &TlsIdentity) -> anyhow::Result<TlsAcceptor> {
    let chain = CertificateDer::pem_slice_iter(identity.cert_chain_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .context("the certificate chain is not PEM")?;
    anyhow::ensure!(
        !chain.is_empty(),
        "the certificate chain holds no certificate"
    );
    let key = PrivateKeyDer::from_pem_slice(identity.key_pem.as_bytes())
        .context("the private key is not PEM")?;

    // One provider named outright: more than one may be compiled in.
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("no TLS version in common with the crypto provider")?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .context("the certificate and key cannot be used")?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

async fn accept_loop(listener: TcpListener, router: Router, current: Arc<Mutex<Current>>) {
    loop {
        let socket = match listener.accept().await {
            Ok((socket, _)) => socket,
            Err(err) => {
                // Out of file descriptors, say: wait rather than spin.
                tracing::debug!(error = %err, "simulated TLS listener could not accept");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };

        let (acceptor, connections) = {
            let current = lock(&current);
            (current.acceptor.clone(), current.connections.clone())
        };
        let router = router.clone();
        tokio::spawn(async move {
            tokio::select! {
                () = connections.cancelled() => {}
                () = serve_connection(acceptor, socket, router) => {}
            }
        });
    }
}

async fn serve_connection(acceptor: TlsAcceptor, socket: TcpStream, router: Router) {
    let stream = match tokio::time::timeout(HANDSHAKE_LIMIT, acceptor.accept(socket)).await {
        Ok(Ok(stream)) => stream,
        // The client refusing our certificate ends up here: the point of most tests.
        Ok(Err(err)) => {
            tracing::debug!(error = %err, "simulated TLS handshake failed");
            return;
        }
        Err(_) => {
            tracing::debug!("simulated TLS handshake timed out");
            return;
        }
    };

    let service = TowerToHyperService::new(router);
    let served = auto::Builder::new(TokioExecutor::new())
        .serve_connection(TokioIo::new(stream), service)
        .await;
    if let Err(err) = served {
        tracing::debug!(error = %err, "simulated TLS connection ended with an error");
    }
}

fn lock(current: &Mutex<Current>) -> MutexGuard<'_, Current> {
    current
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
