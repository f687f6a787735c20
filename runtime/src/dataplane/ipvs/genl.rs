//! A blocking generic-netlink socket: one request at a time, its replies
//! read until the ack (or, for a dump, `NLMSG_DONE`). The data plane runs on
//! its own thread, so blocking here delays no advert; a receive timeout
//! keeps a kernel that never answers from hanging that thread for good.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

use super::wire::{self, Reply, WireError};

/// How long one receive may wait for the kernel.
const RECV_TIMEOUT: Duration = Duration::from_secs(10);

/// Large enough for any datagram the kernel sends on a dump (it fills at
/// most one page, or 32 KiB, per datagram).
const RECV_BUF: usize = 64 * 1024;

/// Why a request failed.
#[derive(Debug)]
pub enum GenlError {
    /// The kernel answered with this (positive) errno.
    Kernel(i32),
    /// The socket failed.
    Io(io::Error),
    /// The reply was not well-formed.
    Wire(WireError),
}

impl std::fmt::Display for GenlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GenlError::Kernel(e) => write!(f, "{}", io::Error::from_raw_os_error(*e)),
            GenlError::Io(e) => write!(f, "netlink socket: {e}"),
            GenlError::Wire(e) => write!(f, "unreadable reply from the kernel: {e}"),
        }
    }
}

impl From<WireError> for GenlError {
    fn from(e: WireError) -> Self {
        GenlError::Wire(e)
    }
}

/// One genl message of a reply, copied out of the receive buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenlMsg {
    /// Its genl command.
    pub cmd: u8,
    /// Its attributes, unparsed.
    pub attrs: Vec<u8>,
}

/// A `NETLINK_GENERIC` socket bound to the calling thread's network
/// namespace at the time it was opened.
#[derive(Debug)]
pub struct GenlSocket {
    fd: OwnedFd,
    seq: u32,
    buf: Vec<u8>,
}

impl GenlSocket {
    /// Opens and binds the socket.
    pub fn open() -> io::Result<GenlSocket> {
        // SAFETY: plain socket(2); the result is checked before use.
        let fd = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                libc::NETLINK_GENERIC,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fd is a fresh descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: sockaddr_nl is plain old data; all zeroes is a valid value.
        let mut addr: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        addr.nl_family = libc::AF_NETLINK as libc::sa_family_t;
        // SAFETY: addr is a valid sockaddr_nl of the size passed.
        let rc = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                std::ptr::addr_of!(addr).cast(),
                std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        let tv = libc::timeval {
            tv_sec: RECV_TIMEOUT.as_secs() as libc::time_t,
            tv_usec: 0,
        };
        // SAFETY: tv is a valid timeval of the size passed.
        let rc = unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                std::ptr::addr_of!(tv).cast(),
                std::mem::size_of::<libc::timeval>() as libc::socklen_t,
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(GenlSocket {
            fd,
            seq: 0,
            buf: vec![0; RECV_BUF],
        })
    }

    /// A fresh sequence number for the next request.
    pub fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    fn send(&self, msg: &[u8]) -> io::Result<()> {
        // SAFETY: sockaddr_nl is plain old data; all zeroes (pid 0) is the kernel.
        let mut to: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        to.nl_family = libc::AF_NETLINK as libc::sa_family_t;
        loop {
            // SAFETY: msg and to are valid for the lengths passed.
            let n = unsafe {
                libc::sendto(
                    self.fd.as_raw_fd(),
                    msg.as_ptr().cast(),
                    msg.len(),
                    0,
                    std::ptr::addr_of!(to).cast(),
                    std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
                )
            };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            if n as usize != msg.len() {
                return Err(io::Error::new(
                    io::ErrorKind::WriteZero,
                    "short netlink send",
                ));
            }
            return Ok(());
        }
    }

    /// One datagram into `self.buf`; its length.
    fn recv(&mut self) -> io::Result<usize> {
        loop {
            // SAFETY: buf is valid for writes of its length. MSG_TRUNC makes
            // the kernel return the datagram's real length, so a datagram
            // larger than the buffer is detected instead of half-read.
            let n = unsafe {
                libc::recv(
                    self.fd.as_raw_fd(),
                    self.buf.as_mut_ptr().cast(),
                    self.buf.len(),
                    libc::MSG_TRUNC,
                )
            };
            if n < 0 {
                let e = io::Error::last_os_error();
                match e.kind() {
                    io::ErrorKind::Interrupted => continue,
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
                        return Err(io::Error::new(
                            io::ErrorKind::TimedOut,
                            format!("no answer from the kernel within {RECV_TIMEOUT:?}"),
                        ))
                    }
                    _ => return Err(e),
                }
            }
            let n = n as usize;
            if n > self.buf.len() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("netlink datagram of {n} bytes exceeds the {RECV_BUF}-byte buffer"),
                ));
            }
            return Ok(n);
        }
    }

    /// Sends `msg` (built with sequence number `seq` and, unless it is a
    /// dump, `NLM_F_ACK`) and collects the genl messages of `family` that
    /// answer it, until the ack or, for a dump, `NLMSG_DONE`.
    pub fn transact(
        &mut self,
        family: u16,
        seq: u32,
        msg: &[u8],
        dump: bool,
    ) -> Result<Vec<GenlMsg>, GenlError> {
        self.send(msg).map_err(GenlError::Io)?;
        let mut out = Vec::new();
        loop {
            let n = self.recv().map_err(GenlError::Io)?;
            // Replies to an earlier request that timed out carry its
            // sequence number; they are skipped, not mistaken for ours.
            for r in wire::parse_replies(&self.buf[..n], family)? {
                match r {
                    Reply::Genl { seq: s, cmd, attrs } if s == seq => out.push(GenlMsg {
                        cmd,
                        attrs: attrs.to_vec(),
                    }),
                    Reply::Ack { seq: s } if s == seq && !dump => return Ok(out),
                    Reply::Error { seq: s, errno } if s == seq => {
                        return Err(GenlError::Kernel(errno))
                    }
                    Reply::Done { seq: s, errno } if s == seq => {
                        return if errno != 0 {
                            Err(GenlError::Kernel(errno))
                        } else {
                            Ok(out)
                        };
                    }
                    _ => {}
                }
            }
        }
    }
}
