//! A fast local real server for `bench/probes.sh`: accepts on the given
//! port on every local address, answers any request with a fixed 200, and
//! counts connections. Each SIGUSR1 prints the count so far.
//!
//!   http_sink PORT

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::signal::unix::{signal, SignalKind};

const ANSWER: &[u8] = b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok";

fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(8080);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = TcpListener::bind(("0.0.0.0", port)).await?;
        let count = Arc::new(AtomicU64::new(0));
        let mut usr1 = signal(SignalKind::user_defined1())?;
        loop {
            tokio::select! {
                r = listener.accept() => {
                    let Ok((mut conn, _)) = r else { continue };
                    count.fetch_add(1, Ordering::Relaxed);
                    tokio::spawn(async move {
                        let mut buf = [0u8; 1024];
                        // A TCP_CHECK closes at once; an HTTP_GET sends its
                        // request: answer whatever comes, then close.
                        if let Ok(n) = conn.read(&mut buf).await {
                            if n > 0 {
                                let _ = conn.write_all(ANSWER).await;
                            }
                        }
                    });
                }
                _ = usr1.recv() => println!("{}", count.load(Ordering::Relaxed)),
            }
        }
    })
}
