//! An HTTPS front for the simulator: the appliances without a listener of their own
//! served over TLS with a certificate the caller hands in, which can be swapped as if the
//! appliance restarted with a new one. Appliances configured with `tls` get their own
//! listeners from `own_tls` instead.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use anyhow::Context;
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use super::Simulator;
use super::connection::{Entrance, PickCertificate, accept_loop};

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
        let shared = Arc::clone(&current);
        let pick: PickCertificate = Box::new(move || {
            let current = lock(&shared);
            (current.acceptor.clone(), current.connections.clone())
        });
        let accept_task = tokio::spawn(accept_loop(
            listener,
            simulator.router(),
            Entrance::Shared,
            Some(pick),
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
pub(crate) fn acceptor(identity: &TlsIdentity) -> anyhow::Result<TlsAcceptor> {
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

fn lock(current: &Mutex<Current>) -> MutexGuard<'_, Current> {
    current
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
