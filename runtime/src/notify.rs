//! systemd readiness (`Type=notify`): "READY=1" on $NOTIFY_SOCKET once the
//! sockets are open and the instances started. Nothing when not under
//! systemd.

use std::os::unix::net::UnixDatagram;

/// Tells systemd the daemon is ready.
pub fn ready() {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    let Ok(sock) = UnixDatagram::unbound() else {
        return;
    };
    let bytes = path.as_encoded_bytes();
    let sent = match bytes.strip_prefix(b"@") {
        // An abstract socket name.
        Some(name) => {
            use std::os::linux::net::SocketAddrExt;
            std::os::unix::net::SocketAddr::from_abstract_name(name)
                .and_then(|a| sock.send_to_addr(b"READY=1", &a))
        }
        None => sock.send_to(b"READY=1", &path),
    };
    if let Err(e) = sent {
        tracing::warn!("telling systemd we are ready: {e}");
    }
}
