//! Real servers and clients for the data-plane tests, as threads of the
//! test process bound inside the lab's namespaces: an HTTP/1.0 server that
//! serves set bodies (and `/who`: its name) and counts connections, and a
//! client that fetches from a chosen source address.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use super::Lab;

/// A real server's HTTP listener.
pub struct Server {
    stop: Arc<AtomicBool>,
    /// Client requests (`/who`) answered; the checkers' requests and
    /// connections do not count.
    pub hits: Arc<AtomicUsize>,
    bodies: Arc<Mutex<HashMap<String, Vec<u8>>>>,
    thread: Option<JoinHandle<()>>,
}

fn answer(
    mut conn: TcpStream,
    name: &str,
    bodies: &Mutex<HashMap<String, Vec<u8>>>,
    hits: &AtomicUsize,
) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
    let mut req = Vec::new();
    let mut buf = [0u8; 1024];
    while !req.windows(4).any(|w| w == b"\r\n\r\n") && req.len() < 8192 {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => req.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&req);
    let path = text.split_whitespace().nth(1).unwrap_or("/").to_string();
    let body = if path == "/who" {
        hits.fetch_add(1, Ordering::Relaxed);
        Some(name.as_bytes().to_vec())
    } else {
        bodies.lock().unwrap().get(&path).cloned()
    };
    let head = match &body {
        Some(b) => format!("HTTP/1.0 200 OK\r\nContent-Length: {}\r\n\r\n", b.len()),
        None => "HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_string(),
    };
    let _ = conn.write_all(head.as_bytes());
    let _ = conn.write_all(&body.unwrap_or_default());
}

impl Server {
    /// Listens on `addr` in `host`'s namespace.
    pub fn start(lab: &Lab, host: &str, addr: SocketAddr, name: &str) -> Server {
        let listener = lab.in_ns(host, move || TcpListener::bind(addr));
        let listener = listener.unwrap_or_else(|e| panic!("bind {addr}: {e}"));
        listener.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let hits = Arc::new(AtomicUsize::new(0));
        let bodies: Arc<Mutex<HashMap<String, Vec<u8>>>> = Arc::default();
        let (s, h, b, name) = (stop.clone(), hits.clone(), bodies.clone(), name.to_string());
        let thread = std::thread::spawn(move || {
            // Polling keeps the loop bounded by the stop flag; the listener
            // closes when the loop ends, so connections are refused after.
            while !s.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((conn, _)) => {
                        let _ = conn.set_nonblocking(false);
                        let (b, name, h) = (b.clone(), name.clone(), h.clone());
                        std::thread::spawn(move || answer(conn, &name, &b, &h));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(2)),
                }
            }
        });
        Server {
            stop,
            hits,
            bodies,
            thread: Some(thread),
        }
    }

    /// Serves `body` at `path` from now on.
    pub fn set(&self, path: &str, body: &[u8]) {
        self.bodies
            .lock()
            .unwrap()
            .insert(path.to_string(), body.to_vec());
    }

    /// Connections so far.
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::Relaxed)
    }

    /// Stops listening: connections are refused from now on.
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One GET from `src` (any port) to `to`: the body, or why not.
pub fn get(src: Option<IpAddr>, to: SocketAddr, path: &str) -> Result<String, String> {
    let domain = socket2::Domain::for_address(to);
    let sock =
        socket2::Socket::new(domain, socket2::Type::STREAM, None).map_err(|e| e.to_string())?;
    if let Some(src) = src {
        sock.bind(&SocketAddr::new(src, 0).into())
            .map_err(|e| format!("bind {src}: {e}"))?;
    }
    sock.connect_timeout(&to.into(), Duration::from_secs(2))
        .map_err(|e| format!("connect {to}: {e}"))?;
    let mut conn: TcpStream = sock.into();
    conn.set_read_timeout(Some(Duration::from_secs(2)))
        .map_err(|e| e.to_string())?;
    conn.write_all(format!("GET {path} HTTP/1.0\r\n\r\n").as_bytes())
        .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    conn.read_to_end(&mut out).map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&out);
    text.split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .ok_or_else(|| format!("no answer from {to}: {text:?}"))
}
