//! `holdfast genhash`: keepalived's genhash. It fetches a url the way
//! HTTP_GET / SSL_GET do (the same request, connection and TLS code as
//! the probes) and prints the digest to paste into a `url { digest }`.
//! As genhash, it ignores the status code.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use holdfast_core::check::http;
use holdfast_core::config::model::{
    Checker, CheckerKind, Connect, HttpCheck, HttpProtocol, SslSettings, Url,
};

use crate::probes;
use crate::tls::Tls;

/// What to fetch.
#[derive(Debug, Clone)]
pub struct Request {
    /// Server address.
    pub server: IpAddr,
    /// Server port.
    pub port: u16,
    /// Path of the url.
    pub path: String,
    /// Over TLS (SSL_GET).
    pub ssl: bool,
    /// SNI name to send (SSL).
    pub sni: Option<String>,
    /// Host header.
    pub virtualhost: Option<String>,
    /// HTTP/1.0, 1.0 with `Connection: close`, or 1.1.
    pub protocol: HttpProtocol,
    /// fwmark on the connection's packets.
    pub fwmark: Option<u32>,
    /// Give up after this long.
    pub timeout: Duration,
    /// The `SSL` settings (a CA makes the certificate checked).
    pub tls: Option<SslSettings>,
}

/// What came back.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The raw answer.
    pub response: Vec<u8>,
    /// The digest of its body, as the checker computes it.
    pub digest: String,
}

impl Fetched {
    /// The headers, as text.
    pub fn headers(&self) -> String {
        let end = self
            .response
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .unwrap_or(self.response.len());
        String::from_utf8_lossy(&self.response[..end]).into_owned()
    }

    /// The hashed body bytes.
    pub fn body(&self) -> &[u8] {
        http::body(&self.response)
    }
}

/// Fetches the url and digests it.
pub async fn fetch(req: &Request) -> Result<Fetched, String> {
    let h = HttpCheck {
        urls: vec![Url {
            path: req.path.clone(),
            digest: None,
            status_codes: Vec::new(),
            virtualhost: None,
        }],
        http_protocol: req.protocol,
        virtualhost: req.virtualhost.clone(),
        enable_sni: req.sni.is_some(),
        sni_name: req.sni.clone(),
        ..HttpCheck::default()
    };
    let checker = Checker {
        kind: if req.ssl {
            CheckerKind::SslGet(h.clone())
        } else {
            CheckerKind::HttpGet(h.clone())
        },
        connect: Connect {
            fwmark: req.fwmark,
            ..Connect::default()
        },
        connect_timeout: req.timeout,
        retry: 0,
        delay_before_retry: Duration::ZERO,
        warmup: Duration::ZERO,
        delay_loop: req.timeout,
        alpha: false,
        log_all_failures: false,
    };
    // A CA given to genhash is there to be checked against.
    let verify = req.tls.as_ref().is_some_and(|t| t.ca.is_some());
    let tls = req.ssl.then(|| Tls::new(req.tls.as_ref(), verify));
    let to = SocketAddr::new(req.server, req.port);
    let work = probes::fetch(&checker, &h, 0, to, tls.as_ref());
    let response = tokio::time::timeout(req.timeout, work)
        .await
        .map_err(|_| format!("no complete answer within {:?}", req.timeout))??;
    if response.is_empty() {
        return Err("the server sent nothing".into());
    }
    let digest = http::body_digest(&response).to_hex();
    Ok(Fetched { response, digest })
}

/// [`fetch`] on a runtime of its own, for the command line.
pub fn fetch_blocking(req: &Request) -> Result<Fetched, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?
        .block_on(fetch(req))
}

/// A hex dump in genhash's `-v` layout: offset, 16 bytes, their text.
pub fn hex_dump(bytes: &[u8]) -> String {
    let mut out = String::new();
    for (i, chunk) in bytes.chunks(16).enumerate() {
        let hex: Vec<String> = chunk.iter().map(|b| format!("{b:02x}")).collect();
        let (left, right) = hex.split_at(hex.len().min(8));
        let text: String = chunk
            .iter()
            .map(|&b| {
                if b.is_ascii_graphic() || b == b' ' {
                    b as char
                } else {
                    '.'
                }
            })
            .collect();
        out.push_str(&format!(
            "{:04}  {:<23} - {:<23}   {text}\n",
            i * 16,
            left.join(" "),
            right.join(" ")
        ));
    }
    out
}
