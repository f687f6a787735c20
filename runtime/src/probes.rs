//! Running a checker's probe for core and reporting how it went: TCP_CHECK
//! (connect), HTTP_GET (keepalived's request, the answer judged by core),
//! MISC_CHECK (a script's exit status). Every probe ends by its timeout.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use holdfast_core::check::http;
use holdfast_core::check::schedule::Outcome;
use holdfast_core::config::model::{Checker, CheckerKind, HttpCheck};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::scripts;

/// Checker kinds this build runs; the others are reported at start-up.
pub fn supported(kind: &CheckerKind) -> bool {
    matches!(
        kind,
        CheckerKind::TcpCheck | CheckerKind::HttpGet(_) | CheckerKind::MiscCheck(_)
    )
}

/// The most of an answer read (headers and the body that is hashed).
const MAX_RESPONSE: usize = 1 << 20;

async fn connect(checker: &Checker, to: SocketAddr) -> std::io::Result<TcpStream> {
    let sock = match to {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    if let Some(from) = checker.connect.bindto {
        let port = checker.connect.bind_port.unwrap_or(0);
        sock.bind(SocketAddr::new(from, port))?;
    }
    sock.connect(to).await
}

/// keepalived's request (`http-get-digest.md`): HTTP/1.0, its User-Agent,
/// and Host: the virtualhost if any, else address:port.
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
    format!("GET {path} HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: {host}\r\n\r\n")
}

async fn http_get(checker: &Checker, h: &HttpCheck, url: usize, to: SocketAddr) -> Outcome {
    let mut stream = match connect(checker, to).await {
        Ok(s) => s,
        Err(e) => return Outcome::Fail(format!("connect: {e}")),
    };
    let req = request(h, url, to.ip(), to.port());
    if let Err(e) = stream.write_all(req.as_bytes()).await {
        return Outcome::Fail(format!("send: {e}"));
    }
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
            Err(e) => return Outcome::Fail(format!("read: {e}")),
        }
    }
    let Some(u) = h.urls.get(url) else {
        return Outcome::Pass;
    };
    match http::judge(&response, u) {
        Ok(()) => Outcome::Pass,
        Err(e) => Outcome::Fail(e.to_string()),
    }
}

/// Runs one probe; `script_user` and script security for MISC_CHECK.
pub async fn run(
    checker: &Checker,
    address: IpAddr,
    port: u16,
    url: usize,
    timeout: Duration,
    script_user: Option<(&str, Option<&str>)>,
    enforce_security: bool,
) -> Outcome {
    let to = SocketAddr::new(address, port);
    let work = async {
        match &checker.kind {
            CheckerKind::TcpCheck => match connect(checker, to).await {
                Ok(_) => Outcome::Pass,
                Err(e) => Outcome::Fail(format!("connect: {e}")),
            },
            CheckerKind::HttpGet(h) => http_get(checker, h, url, to).await,
            CheckerKind::MiscCheck(m) => {
                let script = holdfast_core::config::model::Script {
                    command: m.path.clone(),
                    user: m.user.clone(),
                    group: None,
                };
                match scripts::prepare(&script, &[], script_user, enforce_security) {
                    Err(e) => Outcome::Fail(e.to_string()),
                    Ok(p) => match p.run(timeout).await {
                        scripts::Exit::Code(c) => Outcome::Exit(c),
                        scripts::Exit::Signal(s) => Outcome::Fail(format!("killed by signal {s}")),
                        scripts::Exit::TimedOut => Outcome::Fail("timed out".into()),
                        scripts::Exit::Failed(e) => Outcome::Fail(e),
                    },
                }
            }
            other => Outcome::Fail(format!("{} is not run by this build", other.keyword())),
        }
    };
    tokio::time::timeout(timeout, work)
        .await
        .unwrap_or_else(|_| Outcome::Fail("timed out".into()))
}
