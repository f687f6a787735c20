//! The nf_tables ruleset generation, read over nfnetlink: one round trip
//! says whether anybody committed anything since holdfast last looked.

use super::super::DataPlaneError;

/// The ruleset's generation: nf_tables counts every committed transaction
/// in the namespace (any table's). One netlink round trip, so the drift
/// check costs nothing while nobody touches nftables.
pub fn generation() -> Result<u32, DataPlaneError> {
    const NFNL_SUBSYS_NFTABLES: u16 = 10;
    const NFT_MSG_GETGEN: u16 = 16;
    const NFT_MSG_NEWGEN: u16 = 15;
    const NFTA_GEN_ID: u16 = 1;
    let err = |what: &str| {
        DataPlaneError::Kernel(format!(
            "nftables generation: {what}: {}",
            std::io::Error::last_os_error()
        ))
    };
    // SAFETY: plain socket call; the fd is owned right after.
    let fd = unsafe {
        libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            libc::NETLINK_NETFILTER,
        )
    };
    if fd < 0 {
        return Err(err("socket"));
    }
    // SAFETY: a fresh descriptor nobody else owns.
    let fd = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
    let raw = std::os::fd::AsRawFd::as_raw_fd(&fd);
    let timeout = libc::timeval {
        tv_sec: 2,
        tv_usec: 0,
    };
    // SAFETY: a valid fd and a timeval of the size passed.
    unsafe {
        libc::setsockopt(
            raw,
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            (&timeout as *const libc::timeval).cast(),
            std::mem::size_of::<libc::timeval>() as libc::socklen_t,
        )
    };
    // nlmsghdr (16 bytes) + nfgenmsg (family AF_UNSPEC, version 0, res_id 0).
    let mut req = Vec::with_capacity(20);
    req.extend_from_slice(&20u32.to_ne_bytes());
    req.extend_from_slice(&((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETGEN).to_ne_bytes());
    req.extend_from_slice(&(libc::NLM_F_REQUEST as u16).to_ne_bytes());
    req.extend_from_slice(&1u32.to_ne_bytes());
    req.extend_from_slice(&0u32.to_ne_bytes());
    req.extend_from_slice(&[libc::AF_UNSPEC as u8, 0, 0, 0]);
    // SAFETY: the buffer is live for the call; the kernel is the address.
    let sent = unsafe { libc::send(raw, req.as_ptr().cast(), req.len(), 0) };
    if sent < 0 {
        return Err(err("send"));
    }
    let mut buf = [0u8; 4096];
    // SAFETY: the buffer is live and its size is passed.
    let n = unsafe { libc::recv(raw, buf.as_mut_ptr().cast(), buf.len(), 0) };
    if n < 0 {
        return Err(err("recv"));
    }
    parse_generation(
        &buf[..n as usize],
        NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_NEWGEN,
        NFTA_GEN_ID,
    )
    .ok_or_else(|| DataPlaneError::Kernel("nftables generation: unreadable answer".into()))
}

/// NFTA_GEN_ID (big-endian u32) from a NEWGEN message.
pub(super) fn parse_generation(msg: &[u8], kind: u16, attr: u16) -> Option<u32> {
    let len = u32::from_ne_bytes(msg.get(0..4)?.try_into().ok()?) as usize;
    let ty = u16::from_ne_bytes(msg.get(4..6)?.try_into().ok()?);
    if ty != kind || len > msg.len() || len < 20 {
        return None;
    }
    let mut at = 20;
    while at + 4 <= len {
        let alen = usize::from(u16::from_ne_bytes(msg.get(at..at + 2)?.try_into().ok()?));
        let atype = u16::from_ne_bytes(msg.get(at + 2..at + 4)?.try_into().ok()?) & 0x3fff;
        if alen < 4 {
            return None;
        }
        if atype == attr && alen >= 8 {
            return Some(u32::from_be_bytes(
                msg.get(at + 4..at + 8)?.try_into().ok()?,
            ));
        }
        at += (alen + 3) & !3;
    }
    None
}
