//! Running a checker's probe for core and reporting how it went: TCP_CHECK
//! (connect), HTTP_GET and SSL_GET (keepalived's request, the answer judged
//! by core), MISC_CHECK (a script's exit status). Every probe ends by its
//! timeout.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use holdfast_core::check::http;
use holdfast_core::check::schedule::Outcome;
use holdfast_core::config::model::{Checker, CheckerKind, HttpCheck, HttpProtocol};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::scripts;
pub use crate::tls::Tls;

/// The most of an answer read (headers and the body that is hashed).
const MAX_RESPONSE: usize = 1 << 20;

/// Connects as the checker says: from `bindto` (and `bind_port`), out of
/// `bind_if`, with `fwmark` on its packets.
pub async fn connect(checker: &Checker, to: SocketAddr) -> std::io::Result<TcpStream> {
    let domain = match to {
        SocketAddr::V4(_) => socket2::Domain::IPV4,
        SocketAddr::V6(_) => socket2::Domain::IPV6,
    };
    let raw = socket2::Socket::new(domain, socket2::Type::STREAM, Some(socket2::Protocol::TCP))?;
    if let Some(dev) = &checker.connect.bind_if {
        raw.bind_device(Some(dev.as_bytes()))?;
    }
    if let Some(mark) = checker.connect.fwmark {
        raw.set_mark(mark)?;
    }
    raw.set_nonblocking(true)?;
    let sock = TcpSocket::from_std_stream(raw.into());
    if let Some(from) = checker.connect.bindto {
        let port = checker.connect.bind_port.unwrap_or(0);
        sock.bind(SocketAddr::new(from, port))?;
    }
    sock.connect(to).await
}

/// keepalived's request (docs/keepalived.md, "HTTP_GET digests"):
/// HTTP/1.0 (or 1.1), its User-Agent, `Connection: close` for 1.0C and
/// 1.1, and Host: the virtualhost if any, else address:port.
pub fn request(h: &HttpCheck, url: usize, address: IpAddr, port: u16) -> String {
    let u = h.urls.get(url);
    let path = u.map_or("/", |u| u.path.as_str());
    let host = u
        .and_then(|u| u.virtualhost.clone())
        .or_else(|| h.virtualhost.clone())
        .unwrap_or_else(|| match address {
            IpAddr::V4(a) => format!("{a}:{port}"),
            IpAddr::V6(a) => format!("[{a}]:{port}"),
        });
    let (version, close) = match h.http_protocol {
        HttpProtocol::Http10 => ("1.0", ""),
        HttpProtocol::Http10Close => ("1.0", "Connection: close\r\n"),
        HttpProtocol::Http11 => ("1.1", "Connection: close\r\n"),
    };
    format!(
        "GET {path} HTTP/{version}\r\nUser-Agent: KeepAliveClient\r\n{close}Host: {host}\r\n\r\n"
    )
}

/// Sends the request and reads the answer to its end (the server closes;
/// keepalived never stops at Content-Length), at most [`MAX_RESPONSE`].
/// A TLS stream cut without close_notify ends the answer as EOF does.
pub async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    request: &str,
) -> Result<Vec<u8>, String> {
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| format!("send: {e}"))?;
    let mut response = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) => break,
            Ok(n) => {
                response.extend_from_slice(&buf[..n]);
                if response.len() >= MAX_RESPONSE {
                    break;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !response.is_empty() => {
                break
            }
            Err(e) => return Err(format!("read: {e}")),
        }
    }
    Ok(response)
}

/// Fetches a url as the checker would, over TLS when `tls` is given: the
/// whole raw answer.
pub async fn fetch(
    checker: &Checker,
    h: &HttpCheck,
    url: usize,
    to: SocketAddr,
    tls: Option<&Tls>,
) -> Result<Vec<u8>, String> {
    let stream = connect(checker, to)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let req = request(h, url, to.ip(), to.port());
    match tls {
        None => {
            let mut stream = stream;
            exchange(&mut stream, &req).await
        }
        Some(tls) => {
            let mut stream = tls.handshake(h, url, to.ip(), stream).await?;
            let response = exchange(&mut stream, &req).await?;
            if h.tls_compliant {
                // close_notify, as keepalived's tls_compliant asks.
                let _ = stream.shutdown().await;
            }
            Ok(response)
        }
    }
}

async fn http_get(
    checker: &Checker,
    h: &HttpCheck,
    url: usize,
    to: SocketAddr,
    tls: Option<&Tls>,
) -> Outcome {
    let response = match fetch(checker, h, url, to, tls).await {
        Ok(r) => r,
        Err(e) => return Outcome::Fail(e),
    };
    let Some(u) = h.urls.get(url) else {
        return Outcome::Pass;
    };
    match http::judge(&response, u) {
        Ok(()) => Outcome::Pass,
        Err(e) => Outcome::Fail(e.to_string()),
    }
}

/// What a probe needs besides its checker: the TLS settings for SSL_GET,
/// and for MISC_CHECK the script user and whether script security holds.
#[derive(Clone)]
pub struct ProbeEnv {
    /// SSL_GET's client settings (from the `SSL` block).
    pub tls: Arc<Tls>,
    /// `script_user`: user and group.
    pub script_user: Option<(String, Option<String>)>,
    /// `enable_script_security`.
    pub enforce_security: bool,
}

impl ProbeEnv {
    /// Prepares a script as the configuration says every script runs: as
    /// `script_user` unless it names its own, under script security.
    pub fn prepare(
        &self,
        script: &holdfast_core::config::model::Script,
        args: &[String],
    ) -> Result<scripts::Prepared, scripts::ScriptError> {
        let user = self
            .script_user
            .as_ref()
            .map(|(u, g)| (u.as_str(), g.as_deref()));
        scripts::prepare(script, args, user, self.enforce_security)
    }
}

/// Runs one probe.
pub async fn run(
    checker: &Checker,
    address: IpAddr,
    port: u16,
    url: usize,
    timeout: Duration,
    env: &ProbeEnv,
) -> Outcome {
    let to = SocketAddr::new(address, port);
    let work = async {
        match &checker.kind {
            CheckerKind::TcpCheck => match connect(checker, to).await {
                Ok(_) => Outcome::Pass,
                Err(e) => Outcome::Fail(format!("connect: {e}")),
            },
            CheckerKind::HttpGet(h) => http_get(checker, h, url, to, None).await,
            CheckerKind::SslGet(h) => http_get(checker, h, url, to, Some(&env.tls)).await,
            CheckerKind::MiscCheck(m) => {
                let script = holdfast_core::config::model::Script {
                    command: m.path.clone(),
                    user: m.user.clone(),
                    group: None,
                };
                match env.prepare(&script, &[]) {
                    Err(e) => Outcome::Fail(e.to_string()),
                    Ok(p) => match p.run(timeout).await {
                        scripts::Exit::Code(c) => Outcome::Exit(c),
                        scripts::Exit::Signal(s) => Outcome::Fail(format!("killed by signal {s}")),
                        scripts::Exit::TimedOut => Outcome::Fail("timed out".into()),
                        scripts::Exit::Failed(e) => Outcome::Fail(e),
                    },
                }
            }
            // The reader never lets one through (CheckerKind::is_implemented).
            other => Outcome::Fail(format!(
                "{} is not implemented, and the configuration reader should have refused it",
                other.keyword()
            )),
        }
    };
    tokio::time::timeout(timeout, work)
        .await
        .unwrap_or_else(|_| Outcome::Fail("timed out".into()))
}
