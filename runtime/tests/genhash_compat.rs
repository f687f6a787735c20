//! Our HTTP_GET digest against Debian keepalived's `genhash`, on the same
//! responses from a server on 127.0.0.1. Skips (saying so) when genhash is
//! not installed, unless HOLDFAST_REQUIRE_GENHASH is set (as `.ci/run` does).

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::Command;
use std::time::Duration;

use holdfast_core::check::http::body_digest;

/// Serves `response` to one connection after reading the request.
fn serve_once(listener: &TcpListener, response: &[u8]) {
    let (mut conn, _) = listener.accept().expect("genhash connects");
    conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut request = [0u8; 2048];
    let mut got = 0;
    // Read until the end of the request headers (bounded by the buffer).
    while got < request.len() {
        match conn.read(&mut request[got..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                got += n;
                if request[..got].windows(4).any(|w| w == b"\r\n\r\n") {
                    break;
                }
            }
        }
    }
    assert!(
        request.starts_with(b"GET /check HTTP/1.0\r\n"),
        "{:?}",
        String::from_utf8_lossy(&request[..got])
    );
    conn.write_all(response).unwrap();
}

#[test]
fn digests_match_genhash() {
    let available = Command::new("genhash").arg("-h").output().is_ok();
    if !available {
        assert!(
            std::env::var_os("HOLDFAST_REQUIRE_GENHASH").is_none(),
            "genhash is required here but not installed"
        );
        eprintln!("skipped: genhash (Debian package keepalived) is not installed");
        return;
    }
    let big: Vec<u8> = (0..20000u32).map(|i| ((i * 7 + 3) % 251) as u8).collect();
    let mut responses: Vec<Vec<u8>> = vec![
        b"HTTP/1.0 200 OK\r\nContent-Length: 11\r\n\r\nhello world".to_vec(),
        b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello world".to_vec(),
        b"HTTP/1.0 200 OK\r\nServer: x\r\n\r\nno length, to the end".to_vec(),
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n".to_vec(),
        b"HTTP/1.0 200 OK\r\ncontent-length: 5\r\n\r\nhello world".to_vec(),
        b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n".to_vec(),
    ];
    let mut long = b"HTTP/1.0 200 OK\r\nContent-Length: 10000\r\n\r\n".to_vec();
    long.extend_from_slice(&big);
    responses.push(long);

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let served = responses.clone();
    let server = std::thread::spawn(move || {
        // Each answer twice: once for genhash, once for `holdfast genhash`.
        for r in &served {
            serve_once(&listener, r);
            serve_once(&listener, r);
        }
    });
    for r in &responses {
        // `timeout` bounds each run even if something goes wrong.
        let out = Command::new("timeout")
            .args([
                "20",
                "genhash",
                "-s",
                "127.0.0.1",
                "-p",
                &port.to_string(),
                "-u",
                "/check",
            ])
            .output()
            .expect("runs genhash");
        let theirs = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let ours = body_digest(r).to_hex();
        assert_eq!(
            ours,
            theirs,
            "response {:?}",
            String::from_utf8_lossy(&r[..r.len().min(60)])
        );
        let fetched =
            holdfast_runtime::genhash::fetch_blocking(&holdfast_runtime::genhash::Request {
                server: "127.0.0.1".parse().unwrap(),
                port,
                path: "/check".into(),
                ssl: false,
                sni: None,
                virtualhost: None,
                protocol: Default::default(),
                fwmark: None,
                timeout: Duration::from_secs(10),
                tls: None,
            })
            .expect("holdfast genhash");
        assert_eq!(fetched.digest, theirs, "holdfast genhash");
    }
    server.join().unwrap();
}
