//! SSL_GET against a TLS server on 127.0.0.1 with a certificate from a CA
//! made by `openssl`: keepalived's default trusts any certificate; with the
//! `SSL { ca }` block the chain and the name are checked; the digest is
//! the body's, as for HTTP_GET, and matches Debian's `genhash -S`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use holdfast_core::check::schedule::Outcome;
use holdfast_core::config::model::{
    Checker, CheckerKind, Connect, Digest, HttpCheck, SslSettings, Url,
};
use holdfast_runtime::probes::{self, ProbeEnv, Tls};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const BODY: &[u8] = b"<html>served over TLS</html>\n";

fn openssl(args: &[&str], dir: &Path) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA `name`, and a server certificate it signed for `rs.example` and
/// 127.0.0.1: (CA certificate, server certificate, server key), in `dir`.
fn certificates(dir: &Path, name: &str) -> (PathBuf, PathBuf, PathBuf) {
    let f = |s: &str| format!("{name}-{s}");
    openssl(
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=holdfast test CA",
            "-keyout",
            &f("ca.key"),
            "-out",
            &f("ca.pem"),
        ],
        dir,
    );
    openssl(
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=rs.example",
            "-keyout",
            &f("server.key"),
            "-out",
            &f("server.csr"),
        ],
        dir,
    );
    std::fs::write(
        dir.join(f("ext")),
        "basicConstraints=CA:FALSE\nsubjectAltName=DNS:rs.example,IP:127.0.0.1\n",
    )
    .unwrap();
    openssl(
        &[
            "x509",
            "-req",
            "-in",
            &f("server.csr"),
            "-CA",
            &f("ca.pem"),
            "-CAkey",
            &f("ca.key"),
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            &f("ext"),
            "-out",
            &f("server.pem"),
        ],
        dir,
    );
    (
        dir.join(f("ca.pem")),
        dir.join(f("server.pem")),
        dir.join(f("server.key")),
    )
}

/// Serves BODY over TLS to every connection until the test ends; with
/// `close_notify` false it ends the connection without saying so (as many
/// servers do), which must read as the end of the answer.
async fn serve(cert: &Path, key: &Path, close_notify: bool) -> SocketAddr {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(key).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut req = Vec::new();
                let mut buf = [0u8; 512];
                while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => req.extend_from_slice(&buf[..n]),
                    }
                }
                let head = format!("HTTP/1.0 200 OK\r\nContent-Length: {}\r\n\r\n", BODY.len());
                let _ = tls.write_all(head.as_bytes()).await;
                let _ = tls.write_all(BODY).await;
                if close_notify {
                    let _ = tls.shutdown().await;
                } else {
                    let _ = tls.flush().await;
                    let (mut tcp, _) = tls.into_inner();
                    let _ = tcp.shutdown().await;
                }
            });
        }
    });
    addr
}

fn checker(digest: Digest, vhost: Option<&str>) -> Checker {
    let h = HttpCheck {
        urls: vec![Url {
            path: "/".into(),
            digest: Some(digest),
            status_codes: vec![(200, 299)],
            virtualhost: None,
        }],
        virtualhost: vhost.map(String::from),
        ..HttpCheck::default()
    };
    Checker {
        kind: CheckerKind::SslGet(h),
        connect: Connect::default(),
        connect_timeout: Duration::from_secs(3),
        retry: 0,
        delay_before_retry: Duration::from_secs(1),
        warmup: Duration::ZERO,
        delay_loop: Duration::from_secs(5),
        alpha: false,
        log_all_failures: false,
    }
}

fn env(ssl: Option<SslSettings>) -> ProbeEnv {
    // With a CA, the test asks for verification (--ssl-verify).
    let verify = ssl.as_ref().is_some_and(|s| s.ca.is_some());
    ProbeEnv {
        tls: Arc::new(Tls::new(ssl.as_ref(), verify)),
        script_user: None,
        enforce_security: false,
    }
}

#[tokio::test]
async fn ssl_get_trusts_like_keepalived_and_verifies_with_a_ca() {
    let dir =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("ssl-get-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (ca_pem, cert, key) = certificates(&dir, "good");
    let (other, _, _) = certificates(&dir, "other");
    let addr = serve(&cert, &key, true).await;
    let abrupt = serve(&cert, &key, false).await;
    let mut response = b"HTTP/1.0 200 OK\r\n\r\n".to_vec();
    response.extend_from_slice(BODY);
    let digest = holdfast_core::check::http::body_digest(&response);
    let wrong = Digest([0; 16]);
    let t = Duration::from_secs(5);
    let run = |c: Checker, e: ProbeEnv| async move {
        probes::run(&c, addr.ip(), addr.port(), 0, t, &e).await
    };

    // keepalived's default: a self-signed certificate is fine; the digest
    // decides.
    assert_eq!(run(checker(digest, None), env(None)).await, Outcome::Pass);
    let c = checker(digest, None);
    let cut = probes::run(&c, abrupt.ip(), abrupt.port(), 0, t, &env(None)).await;
    assert_eq!(cut, Outcome::Pass, "an answer cut without close_notify");
    assert!(matches!(
        run(checker(wrong, None), env(None)).await,
        Outcome::Fail(_)
    ));

    // With a CA: the right one passes, by address or by virtualhost name...
    let ca = |p: &Path| SslSettings {
        ca: Some(p.display().to_string()),
        ..SslSettings::default()
    };
    assert_eq!(
        run(checker(digest, None), env(Some(ca(&ca_pem)))).await,
        Outcome::Pass
    );
    assert_eq!(
        run(checker(digest, Some("rs.example")), env(Some(ca(&ca_pem)))).await,
        Outcome::Pass
    );
    // ...a name the certificate does not carry fails, and so does another CA.
    let Outcome::Fail(why) = run(
        checker(digest, Some("other.example")),
        env(Some(ca(&ca_pem))),
    )
    .await
    else {
        panic!("a wrong name passed")
    };
    assert!(why.contains("TLS handshake"), "{why}");
    assert!(matches!(
        run(checker(digest, None), env(Some(ca(&other)))).await,
        Outcome::Fail(_)
    ));
    // keepalived's reading of a CA without --ssl-verify: loaded, never
    // checked; any certificate passes.
    let unverified = ProbeEnv {
        tls: Arc::new(Tls::new(Some(&ca(&other)), false)),
        script_user: None,
        enforce_security: false,
    };
    assert_eq!(run(checker(digest, None), unverified).await, Outcome::Pass);
    // --ssl-verify without a CA, and a certificate without its key: every
    // probe fails, saying why.
    let no_ca = Tls::new(None, true);
    assert!(no_ca.error().is_some_and(|e| e.contains("needs the CA")));
    let half = SslSettings {
        certificate: Some(cert.display().to_string()),
        ..SslSettings::default()
    };
    assert!(Tls::new(Some(&half), false)
        .error()
        .is_some_and(|e| e.contains("go together")));
    // A broken SSL block fails every probe with its reason.
    let broken = env(Some(ca(&dir.join("missing.pem"))));
    assert!(broken
        .tls
        .error()
        .is_some_and(|e| e.contains("missing.pem")));
    let Outcome::Fail(why) = run(checker(digest, None), broken).await else {
        panic!("a broken SSL block passed")
    };
    assert!(why.contains("missing.pem"), "{why}");

    // genhash: ours prints what Debian's `genhash -S` prints.
    let req = holdfast_runtime::genhash::Request {
        server: addr.ip(),
        port: addr.port(),
        path: "/".into(),
        ssl: true,
        sni: None,
        virtualhost: None,
        protocol: Default::default(),
        fwmark: None,
        timeout: t,
        tls: None,
    };
    let ours = holdfast_runtime::genhash::fetch(&req)
        .await
        .expect("genhash over TLS");
    assert_eq!(ours.digest, digest.to_hex());
    if Command::new("genhash").arg("-h").output().is_ok() {
        let port = addr.port().to_string();
        let theirs = tokio::process::Command::new("timeout")
            .args([
                "20",
                "genhash",
                "-S",
                "-s",
                "127.0.0.1",
                "-p",
                &port,
                "-u",
                "/",
            ])
            .output()
            .await
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&theirs.stdout).trim(), ours.digest);
    } else {
        assert!(
            std::env::var_os("HOLDFAST_REQUIRE_GENHASH").is_none(),
            "genhash is required here but not installed"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
