//! Certificate checking per appliance, and TLS failures in plain words.

use std::error::Error as StdError;
use std::path::Path;

use reqwest::{Certificate, ClientBuilder};
use rustls::CertificateError;

use super::error::VcError;
use super::target::TlsMode;

/// Sets up certificate checking on a client builder for one target.
pub fn configure(
    builder: ClientBuilder,
    mode: &TlsMode,
    appliance: &str,
) -> Result<ClientBuilder, VcError> {
    match mode {
        TlsMode::Verify => Ok(builder),
        TlsMode::CaFile(path) => Ok(builder.tls_certs_only(read_ca_file(path)?)),
        TlsMode::Insecure => {
            tracing::warn!(
                appliance.name = appliance,
                "certificate checks are switched off for this appliance"
            );
            Ok(builder.tls_danger_accept_invalid_certs(true))
        }
    }
}

/// Reads the certificates of a PEM file; the error names the file.
pub fn read_ca_file(path: &Path) -> Result<Vec<Certificate>, VcError> {
    let ca_error = |reason: String| VcError::CaFile {
        path: path.display().to_string(),
        reason,
    };

    let pem = std::fs::read(path).map_err(|err| ca_error(err.to_string()))?;
    let certs = Certificate::from_pem_bundle(&pem)
        .map_err(|_| ca_error("the file is not a PEM certificate bundle".to_owned()))?;
    if certs.is_empty() {
        return Err(ca_error("the file holds no PEM certificate".to_owned()));
    }
    Ok(certs)
}

/// The failed TLS check behind an error, found by walking its `source()` chain; `None`
/// when the error has nothing to do with TLS.
pub fn tls_failure(err: &(dyn StdError + 'static)) -> Option<String> {
    let mut current = Some(err);
    while let Some(err) = current {
        if let Some(rustls_err) = as_rustls(err) {
            return Some(describe(rustls_err));
        }
        current = err.source();
    }
    None
}

/// A rustls error in the error itself, or wrapped in one or more `io::Error`s. Their
/// `source()` skips the error they wrap, and the TLS stream wraps twice, so each layer is
/// opened by hand.
fn as_rustls<'a>(err: &'a (dyn StdError + 'static)) -> Option<&'a rustls::Error> {
    let mut current: &'a (dyn StdError + 'static) = err;
    loop {
        if let Some(found) = current.downcast_ref::<rustls::Error>() {
            return Some(found);
        }
        current = current.downcast_ref::<std::io::Error>()?.get_ref()?;
    }
}

/// A rustls error in plain words.
pub fn describe(err: &rustls::Error) -> String {
    match err {
        rustls::Error::InvalidCertificate(cert) => describe_certificate(cert),
        other => other.to_string(),
    }
}

/// A certificate check failure in plain words.
pub fn describe_certificate(err: &CertificateError) -> String {
    let words = match err {
        CertificateError::UnknownIssuer => "certificate signed by an unknown issuer",
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            "certificate is for another host name"
        }
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            "certificate has expired"
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            "certificate is not valid yet"
        }
        CertificateError::Revoked => "certificate has been revoked",
        CertificateError::BadSignature => "certificate signature is invalid",
        CertificateError::BadEncoding => "certificate is malformed",
        other => return format!("certificate rejected: {other}"),
    };
    words.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_rustls_inside_an_io_error() {
        let rustls_err = rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer);
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, rustls_err);
        assert_eq!(
            tls_failure(&io).as_deref(),
            Some("certificate signed by an unknown issuer")
        );
    }

    #[test]
    fn finds_rustls_inside_two_io_errors() {
        let rustls_err = rustls::Error::InvalidCertificate(CertificateError::Expired);
        let inner = std::io::Error::new(std::io::ErrorKind::InvalidData, rustls_err);
        let outer = std::io::Error::other(inner);
        assert_eq!(
            tls_failure(&outer).as_deref(),
            Some("certificate has expired")
        );
    }

    #[test]
    fn plain_io_errors_are_not_tls() {
        let io = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert_eq!(tls_failure(&io), None);
    }

    #[test]
    fn missing_ca_file_is_named() {
        let err = read_ca_file(Path::new("no-such-dir/ca.pem")).unwrap_err();
        assert!(err.to_string().contains("no-such-dir/ca.pem"), "{err}");
    }
}
