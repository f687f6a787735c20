//! SSL_GET's TLS client, on rustls.
//!
//! keepalived never verifies the real server's certificate, even when the
//! top-level `SSL` block names a `ca` (it loads the file but never asks
//! OpenSSL to check the peer); holdfast does the same by default. Any
//! certificate is accepted, but the handshake's signatures are still
//! checked (the server must hold the key of the certificate it shows).
//! Verification is asked for explicitly (`holdfast run --ssl-verify`, or
//! `genhash --ca`): the chain must then lead to the `SSL` block's `ca` and
//! name the server (`sni_name`, else the virtualhost, else its address).
//! SNI is sent only with `enable_sni`, as keepalived does. rustls speaks
//! TLS 1.2 and 1.3 with AEAD ciphers only: a server that offers nothing
//! newer than CBC suites or RSA key exchange fails the handshake.

use std::sync::Arc;

use holdfast_core::config::model::{HttpCheck, SslSettings};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

/// Accepts any certificate (keepalived's default), checking signatures.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// The TLS client settings every SSL_GET probe shares: one configuration
/// that sends SNI and one that does not. A broken `SSL` block makes every
/// SSL_GET fail with its error (never a silent fall back to trusting all).
pub struct Tls {
    configs: Result<(TlsConnector, TlsConnector), String>,
}

fn read_certs(path: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("SSL: reading {path}: {e}"))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("SSL: reading {path}: {e}"))?;
    if certs.is_empty() {
        return Err(format!("SSL: {path} holds no PEM certificate"));
    }
    Ok(certs)
}

fn build(ssl: Option<&SslSettings>, verify: bool) -> Result<(TlsConnector, TlsConnector), String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("SSL: {e}"))?;
    let ca = ssl.and_then(|s| s.ca.as_deref());
    if verify && ca.is_none() {
        return Err("SSL: certificate verification needs the CA: SSL { ca FILE }".into());
    }
    let builder = match ca.filter(|_| verify) {
        Some(ca) => {
            let mut roots = RootCertStore::empty();
            for c in read_certs(ca)? {
                roots.add(c).map_err(|e| format!("SSL: ca {ca}: {e}"))?;
            }
            let verifier =
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                    .build()
                    .map_err(|e| format!("SSL: ca {ca}: {e}"))?;
            builder.with_webpki_verifier(verifier)
        }
        None => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider.clone()))),
    };
    if let Some(s) = ssl {
        if s.certificate.is_some() != s.key.is_some() {
            return Err("SSL: certificate and key go together: give both or neither".into());
        }
    }
    let mut config = match ssl.and_then(|s| s.certificate.as_deref().zip(s.key.as_deref())) {
        Some((cert, key)) => {
            if ssl.is_some_and(|s| s.password.is_some()) {
                return Err(
                    "SSL: password (an encrypted key) is not implemented: give key an unencrypted PEM key"
                        .into(),
                );
            }
            let key = PrivateKeyDer::from_pem_file(key)
                .map_err(|e| format!("SSL: reading key {key}: {e}"))?;
            builder
                .with_client_auth_cert(read_certs(cert)?, key)
                .map_err(|e| format!("SSL: certificate {cert}: {e}"))?
        }
        None => builder.with_no_client_auth(),
    };
    let with_sni = TlsConnector::from(Arc::new(config.clone()));
    config.enable_sni = false;
    Ok((with_sni, TlsConnector::from(Arc::new(config))))
}

impl Tls {
    /// The settings of a configuration's `SSL` block (none: keepalived's
    /// defaults); `verify` checks certificates against its `ca`.
    pub fn new(ssl: Option<&SslSettings>, verify: bool) -> Tls {
        Tls {
            configs: build(ssl, verify),
        }
    }

    /// What is wrong with the `SSL` block, if anything.
    pub fn error(&self) -> Option<&str> {
        self.configs.as_ref().err().map(String::as_str)
    }

    /// The TLS handshake over a connected stream, naming the server as the
    /// checker does.
    pub async fn handshake(
        &self,
        h: &HttpCheck,
        url: usize,
        address: std::net::IpAddr,
        stream: TcpStream,
    ) -> Result<TlsStream<TcpStream>, String> {
        let (with_sni, without) = self.configs.as_ref().map_err(Clone::clone)?;
        // The name the Host header carries, as keepalived picks it: the
        // url's virtualhost, then the checker's (which holds the real and
        // virtual server's when it has none of its own).
        let named = h.sni_name.clone().or_else(|| {
            h.urls
                .get(url)
                .and_then(|u| u.virtualhost.clone())
                .or_else(|| h.virtualhost.clone())
        });
        let name = named
            .and_then(|n| ServerName::try_from(n).ok())
            .unwrap_or_else(|| ServerName::IpAddress(address.into()));
        let connector = if h.enable_sni { with_sni } else { without };
        connector
            .connect(name, stream)
            .await
            .map_err(|e| format!("TLS handshake: {e}"))
    }
}
