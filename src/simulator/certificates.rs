//! Certificates for the appliances served with `tls`, made at start: the simulator's own
//! CA, which a dashboard may be told to trust, a stranger CA nobody trusts, and for each
//! appliance one server certificate per [`SimTls`] kind.

use anyhow::Context;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    date_time_ymd,
};

use super::config::SimTls;
use super::tls::TlsIdentity;

/// The only name the `wrong_name` certificate is for.
pub const WRONG_HOST_NAME: &str = "wrong-name.example.test";

/// A CA: its certificate as PEM, and what it takes to sign with it.
struct Authority {
    params: CertificateParams,
    key: KeyPair,
    pem: String,
}

impl Authority {
    fn new(common_name: &str) -> anyhow::Result<Authority> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params.not_before = date_time_ymd(2020, 1, 1);
        params.not_after = date_time_ymd(2100, 1, 1);
        let key = KeyPair::generate()?;
        let pem = params.self_signed(&key)?.pem();
        Ok(Authority { params, key, pem })
    }

    /// A server certificate for `names` (host names or IP addresses), valid from the
    /// start of `years.0` to the start of `years.1`.
    fn sign(&self, names: &[String], years: (i32, i32)) -> anyhow::Result<TlsIdentity> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(names.to_vec())?;
        params
            .distinguished_name
            .push(DnType::CommonName, "simulated vCenter Server Appliance");
        params.not_before = date_time_ymd(years.0, 1, 1);
        params.not_after = date_time_ymd(years.1, 1, 1);
        let issuer = Issuer::from_params(&self.params, &self.key);
        let cert = params.signed_by(&key, &issuer)?;
        Ok(TlsIdentity {
            cert_chain_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }
}

/// The two CAs of one simulator start.
pub(crate) struct Certificates {
    own: Authority,
    stranger: Authority,
}

impl Certificates {
    /// Makes both CAs with fresh keys.
    pub(crate) fn generate() -> anyhow::Result<Certificates> {
        Ok(Certificates {
            own: Authority::new("vbdash simulator CA").context("cannot make the CA")?,
            stranger: Authority::new("unknown simulator CA")
                .context("cannot make the stranger CA")?,
        })
    }

    /// The certificate of the CA that signs every kind but `unknown_ca`, as PEM.
    pub(crate) fn ca_pem(&self) -> &str {
        &self.own.pem
    }

    /// A server certificate of `kind` for an appliance reached at `names`.
    pub(crate) fn identity(&self, kind: SimTls, names: &[String]) -> anyhow::Result<TlsIdentity> {
        let current = (2020, 2100);
        let made = match kind {
            SimTls::Valid => self.own.sign(names, current),
            SimTls::UnknownCa => self.stranger.sign(names, current),
            SimTls::WrongName => self.own.sign(&[WRONG_HOST_NAME.to_owned()], current),
            SimTls::Expired => self.own.sign(names, (2020, 2021)),
        };
        made.with_context(|| format!("cannot make the {} certificate", kind.word()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_makes_an_identity_rustls_accepts() {
        let certificates = Certificates::generate().unwrap();
        assert!(
            certificates
                .ca_pem()
                .starts_with("-----BEGIN CERTIFICATE-----")
        );
        let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
        for kind in [
            SimTls::Valid,
            SimTls::UnknownCa,
            SimTls::WrongName,
            SimTls::Expired,
        ] {
            let identity = certificates.identity(kind, &names).unwrap();
            assert!(super::super::tls::acceptor(&identity).is_ok(), "{kind:?}");
        }
    }
}
