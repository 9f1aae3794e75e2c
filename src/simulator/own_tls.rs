//! Appliances configured with `tls`, each served over HTTPS on a listener of its own, as
//! a real appliance answers on its own address. Each presents the certificate its
//! [`SimTls`] names, which [`Simulator::set_tls`] changes as if the appliance restarted.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use super::Simulator;
use super::certificates::Certificates;
use super::config::SimTls;
use super::connection::{Entrance, PickCertificate, accept_loop};
use super::tls::acceptor;

/// One TLS acceptor per certificate kind of one appliance.
struct Acceptors {
    valid: TlsAcceptor,
    unknown_ca: TlsAcceptor,
    wrong_name: TlsAcceptor,
    expired: TlsAcceptor,
}

impl Acceptors {
    fn new(certificates: &Certificates, names: &[String]) -> anyhow::Result<Acceptors> {
        let make = |kind| acceptor(&certificates.identity(kind, names)?);
        Ok(Acceptors {
            valid: make(SimTls::Valid)?,
            unknown_ca: make(SimTls::UnknownCa)?,
            wrong_name: make(SimTls::WrongName)?,
            expired: make(SimTls::Expired)?,
        })
    }

    fn get(&self, kind: SimTls) -> &TlsAcceptor {
        match kind {
            SimTls::Valid => &self.valid,
            SimTls::UnknownCa => &self.unknown_ca,
            SimTls::WrongName => &self.wrong_name,
            SimTls::Expired => &self.expired,
        }
    }
}

/// What a `tls` appliance presents now, and the token that drops the connections made
/// with it. Shared between the simulator, which changes it, and the appliance's listener.
#[derive(Debug)]
pub(crate) struct Presenting {
    kind: SimTls,
    connections: CancellationToken,
}

/// The switchable certificate of one `tls` appliance.
#[derive(Debug, Clone)]
pub(crate) struct TlsSwitch {
    /// Address from the configuration; a free port when `None`.
    pub(crate) listen: Option<SocketAddr>,
    presenting: Arc<Mutex<Presenting>>,
}

impl TlsSwitch {
    pub(crate) fn new(kind: SimTls, listen: Option<SocketAddr>) -> TlsSwitch {
        TlsSwitch {
            listen,
            presenting: Arc::new(Mutex::new(Presenting {
                kind,
                connections: CancellationToken::new(),
            })),
        }
    }

    /// Presents `kind` from the next handshake on and drops the open connections.
    pub(crate) fn set(&self, kind: SimTls) {
        let mut presenting = lock(&self.presenting);
        presenting.connections.cancel();
        *presenting = Presenting {
            kind,
            connections: CancellationToken::new(),
        };
    }
}

/// The own HTTPS listeners of every `tls` appliance, serving until dropped.
pub struct TlsAppliances {
    ca_pem: String,
    addrs: Vec<(String, SocketAddr)>,
    tasks: Vec<JoinHandle<()>>,
}

impl TlsAppliances {
    /// The certificate of the CA that signed every certificate but `unknown_ca`, as PEM:
    /// what a dashboard's `ca_file` should hold.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The address `appliance` listens on, if it is served with `tls`.
    pub fn addr(&self, appliance: &str) -> Option<SocketAddr> {
        self.addrs
            .iter()
            .find(|(name, _)| name == appliance)
            .map(|(_, addr)| *addr)
    }

    /// The base URL of `appliance` (`https://addr/name`), if it is served with `tls`.
    pub fn url(&self, appliance: &str) -> Option<String> {
        self.addr(appliance)
            .map(|addr| format!("https://{addr}/{appliance}"))
    }

    /// Every `tls` appliance and its address, in configuration order.
    pub fn addrs(&self) -> &[(String, SocketAddr)] {
        &self.addrs
    }
}

impl Drop for TlsAppliances {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl Simulator {
    /// Makes a CA and the certificates, binds each `tls` appliance's own listener (its
    /// `tls_listen`, else a free port on `ip`) and serves them until the result is
    /// dropped. Must be called inside a Tokio runtime.
    pub async fn serve_tls_appliances(&self, ip: IpAddr) -> anyhow::Result<TlsAppliances> {
        let certificates = Certificates::generate()?;
        let mut served = TlsAppliances {
            ca_pem: certificates.ca_pem().to_owned(),
            addrs: Vec::new(),
            tasks: Vec::new(),
        };

        for name in &self.inner.names {
            let Some(switch) = self.inner.tls.get(name) else {
                continue;
            };
            let listen = switch.listen.unwrap_or(SocketAddr::new(ip, 0));
            let listener = TcpListener::bind(listen)
                .await
                .with_context(|| format!("cannot listen on {listen} for {name}"))?;
            let addr = listener.local_addr()?;

            let acceptors = Acceptors::new(&certificates, &host_names(name, addr.ip()))?;
            let task = tokio::spawn(accept_loop(
                listener,
                self.router(),
                Entrance::Own(Arc::from(name.as_str())),
                Some(picker(acceptors, Arc::clone(&switch.presenting))),
            ));
            tracing::debug!(appliance.name = %name, %addr, "simulated appliance serves HTTPS");
            served.addrs.push((name.clone(), addr));
            served.tasks.push(task);
        }
        Ok(served)
    }
}

/// Hands each new connection the acceptor of the certificate presented now.
fn picker(acceptors: Acceptors, presenting: Arc<Mutex<Presenting>>) -> PickCertificate {
    Box::new(move || {
        let presenting = lock(&presenting);
        let acceptor = acceptors.get(presenting.kind).clone();
        (acceptor, presenting.connections.clone())
    })
}

/// The names a good certificate is for: the appliance's name, loopback in both families
/// and the address it listens on, unless that is the wildcard.
// Known gap: no other host name can be added, so a dashboard reaching a `valid` appliance
// by another name (a compose service name, say) sees a name mismatch.
fn host_names(appliance: &str, listening: IpAddr) -> Vec<String> {
    let mut names = vec![
        appliance.to_owned(),
        "localhost".to_owned(),
        Ipv4Addr::LOCALHOST.to_string(),
        Ipv6Addr::LOCALHOST.to_string(),
    ];
    let ip = listening.to_string();
    if !listening.is_unspecified() && !names.contains(&ip) {
        names.push(ip);
    }
    names
}

fn lock(presenting: &Mutex<Presenting>) -> MutexGuard<'_, Presenting> {
    presenting
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
