//! VRRP's raw sockets: IP protocol 112 on one interface and family, the
//! group (224.0.0.18 / ff02::12) joined on that interface, TTL / hop limit
//! 255 on everything sent, multicast loop off, and the received TTL / hop
//! limit reported so that core can drop what did not come from the link;
//! and one bound to no interface for unicast instances without one.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::AsRawFd;

use socket2::{Domain, InterfaceIndexOrAddress, Protocol, SockAddr, Socket, Type};
use tokio::io::unix::AsyncFd;

/// IP protocol number of VRRP.
pub const IPPROTO_VRRP: i32 = 112;

/// A raw VRRP socket with what every one has: TTL / hop limit 255, TOS /
/// traffic class 0xc0 (network control) as keepalived, no DF, a
/// transparent source, and the received hop limit and destination for
/// IPv6.
fn base(ipv6: bool) -> io::Result<Socket> {
    let domain = if ipv6 { Domain::IPV6 } else { Domain::IPV4 };
    let sock = Socket::new(domain, Type::RAW, Some(Protocol::from(IPPROTO_VRRP)))?;
    // A Master whose source address was just removed still sends its
    // priority-0 advert from it (keepalived builds its own IP header for
    // this): the kernel takes a source that is no longer local only from
    // a transparent socket. It needs CAP_NET_ADMIN; without it only that
    // advert is lost.
    if ipv6 {
        sock.set_unicast_hops_v6(255)?;
        setsockopt_int(&sock, libc::IPPROTO_IPV6, libc::IPV6_TCLASS, 0xc0)?;
        let _ = setsockopt_int(&sock, libc::IPPROTO_IPV6, libc::IPV6_TRANSPARENT, 1);
        setsockopt_int(&sock, libc::IPPROTO_IPV6, libc::IPV6_RECVHOPLIMIT, 1)?;
        setsockopt_int(&sock, libc::IPPROTO_IPV6, libc::IPV6_RECVPKTINFO, 1)?;
    } else {
        sock.set_ttl_v4(255)?;
        setsockopt_int(&sock, libc::IPPROTO_IP, libc::IP_TOS, 0xc0)?;
        setsockopt_int(
            &sock,
            libc::IPPROTO_IP,
            libc::IP_MTU_DISCOVER,
            libc::IP_PMTUDISC_DONT,
        )?;
        let _ = setsockopt_int(&sock, libc::IPPROTO_IP, libc::IP_TRANSPARENT, 1);
    }
    Ok(sock)
}

/// The kernel's receive time on, non-blocking, registered with tokio.
fn finish(sock: Socket, ipv6: bool, ifindex: u32) -> io::Result<VrrpSocket> {
    // The master-down timer runs from the advert's arrival, not from when
    // the reading task got to it.
    setsockopt_int(&sock, libc::SOL_SOCKET, libc::SO_TIMESTAMPNS, 1)?;
    sock.set_nonblocking(true)?;
    // SAFETY: the Socket owns its descriptor, open and unchanged, for as
    // long as the AsyncFd owns the Socket.
    let fd = unsafe { AsyncFd::register(sock) }.map_err(|e| io::Error::other(e.to_string()))?;
    Ok(VrrpSocket { fd, ipv6, ifindex })
}

/// One advert as read off the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// IP source.
    pub src: IpAddr,
    /// IP destination.
    pub dst: IpAddr,
    /// TTL / hop limit as received.
    pub ttl: u8,
    /// The VRRP message.
    pub bytes: Vec<u8>,
    /// When the kernel received it (CLOCK_MONOTONIC ns), if it said.
    pub arrived_ns: Option<u64>,
}

/// A VRRP socket on one interface and family.
pub struct VrrpSocket {
    fd: AsyncFd<Socket>,
    ipv6: bool,
    ifindex: u32,
}

fn setsockopt_int(sock: &Socket, level: i32, name: i32, value: i32) -> io::Result<()> {
    // SAFETY: a valid fd, and a pointer to an int of the size passed.
    let rc = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            level,
            name,
            (&value as *const i32).cast(),
            std::mem::size_of::<i32>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

impl VrrpSocket {
    /// Opens the socket for `ifname` (index `ifindex`); IPv4 multicast
    /// leaves by `local` (the interface's primary address) unless it is
    /// unspecified (no address yet): the socket is bound to the device
    /// and every advert names its source.
    pub fn open(
        ifname: &str,
        ifindex: u32,
        local: IpAddr,
        group: IpAddr,
    ) -> io::Result<VrrpSocket> {
        let ipv6 = local.is_ipv6();
        let sock = base(ipv6)?;
        // Only this interface's traffic, whatever other sockets joined.
        sock.bind_device(Some(ifname.as_bytes()))?;
        match (local, group) {
            (IpAddr::V4(local), IpAddr::V4(group)) => {
                sock.set_multicast_ttl_v4(255)?;
                sock.set_multicast_loop_v4(false)?;
                if !local.is_unspecified() {
                    sock.set_multicast_if_v4(&local)?;
                }
                sock.join_multicast_v4_n(&group, &InterfaceIndexOrAddress::Index(ifindex))?;
                setsockopt_int(&sock, libc::IPPROTO_IP, libc::IP_MULTICAST_ALL, 0)?;
            }
            (IpAddr::V6(_), IpAddr::V6(group)) => {
                sock.set_multicast_hops_v6(255)?;
                sock.set_multicast_loop_v6(false)?;
                sock.set_multicast_if_v6(ifindex)?;
                sock.join_multicast_v6(&group, ifindex)?;
            }
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "group of the other family",
                ))
            }
        }
        finish(sock, ipv6, ifindex)
    }

    /// Opens the socket bound to no interface, for the instances that have
    /// none (unicast only, as keepalived's): it joins no group, and the
    /// kernel routes what it sends by destination. It still hears IPv6
    /// multicast the interfaces' sockets joined: its reader drops every
    /// message with a multicast destination (`System::read`).
    pub fn open_unbound(ipv6: bool) -> io::Result<VrrpSocket> {
        let sock = base(ipv6)?;
        if !ipv6 {
            // Not the groups the interfaces' sockets joined (on by default).
            setsockopt_int(&sock, libc::IPPROTO_IP, libc::IP_MULTICAST_ALL, 0)?;
        }
        finish(sock, ipv6, 0)
    }

    /// The interface index.
    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    /// Sends a VRRP message from `src` to `dst` with TTL / hop limit
    /// `ttl`. The source core computed the checksum with is the one on the
    /// wire (IP_PKTINFO / IPV6_PKTINFO), whatever the interface's primary.
    pub fn send(&self, src: IpAddr, dst: IpAddr, ttl: u8, bytes: &[u8]) -> io::Result<()> {
        let to: SockAddr = match dst {
            IpAddr::V4(a) => SocketAddr::V4(SocketAddrV4::new(a, 0)).into(),
            IpAddr::V6(a) => {
                let scope = if a.segments()[0] & 0xffc0 == 0xfe80 || a.is_multicast() {
                    self.ifindex
                } else {
                    0
                };
                SocketAddr::V6(SocketAddrV6::new(a, 0, 0, scope)).into()
            }
        };
        // cmsghdr needs its alignment: a u64 buffer gives it.
        let mut control = [0u64; 16];
        let mut iov = libc::iovec {
            iov_base: bytes.as_ptr() as *mut libc::c_void,
            iov_len: bytes.len(),
        };
        // SAFETY: a zeroed msghdr, filled with pointers to live buffers.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_name = to.as_ptr() as *mut libc::c_void;
        msg.msg_namelen = to.len();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        let ttl = i32::from(ttl);
        // SAFETY: CMSG_* walk the aligned control buffer, sized by CMSG_SPACE
        // for the two messages written into it.
        unsafe {
            let (level, info_type, info_len, ttl_type) = match (src, self.ipv6) {
                (IpAddr::V4(_), false) => (
                    libc::IPPROTO_IP,
                    libc::IP_PKTINFO,
                    std::mem::size_of::<libc::in_pktinfo>(),
                    libc::IP_TTL,
                ),
                (IpAddr::V6(_), true) => (
                    libc::IPPROTO_IPV6,
                    libc::IPV6_PKTINFO,
                    std::mem::size_of::<libc::in6_pktinfo>(),
                    libc::IPV6_HOPLIMIT,
                ),
                _ => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        "source of the other family",
                    ))
                }
            };
            let space = libc::CMSG_SPACE(info_len as u32) + libc::CMSG_SPACE(4);
            msg.msg_controllen = space as _;
            let c = libc::CMSG_FIRSTHDR(&msg);
            (*c).cmsg_level = level;
            (*c).cmsg_type = info_type;
            (*c).cmsg_len = libc::CMSG_LEN(info_len as u32) as _;
            match src {
                IpAddr::V4(a) => {
                    let info = libc::in_pktinfo {
                        ipi_ifindex: 0,
                        ipi_spec_dst: libc::in_addr {
                            s_addr: u32::from_ne_bytes(a.octets()),
                        },
                        ipi_addr: libc::in_addr { s_addr: 0 },
                    };
                    std::ptr::write_unaligned(libc::CMSG_DATA(c).cast(), info);
                }
                IpAddr::V6(a) => {
                    let info = libc::in6_pktinfo {
                        ipi6_addr: libc::in6_addr {
                            s6_addr: a.octets(),
                        },
                        ipi6_ifindex: self.ifindex,
                    };
                    std::ptr::write_unaligned(libc::CMSG_DATA(c).cast(), info);
                }
            }
            let c2 = libc::CMSG_NXTHDR(&msg, c);
            (*c2).cmsg_level = level;
            (*c2).cmsg_type = ttl_type;
            (*c2).cmsg_len = libc::CMSG_LEN(4) as _;
            std::ptr::write_unaligned(libc::CMSG_DATA(c2).cast(), ttl);
        }
        // SAFETY: msg points at live buffers for the call.
        let n = unsafe { libc::sendmsg(self.fd.get_ref().as_raw_fd(), &msg, 0) };
        if n < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(())
        }
    }

    /// Waits for the next advert.
    pub async fn recv(&self) -> io::Result<Received> {
        loop {
            let mut guard = self.fd.readable().await?;
            let result = guard.try_io(|fd| recv_one(fd.get_ref(), self.ipv6));
            match result {
                Ok(Ok(Some(r))) => return Ok(r),
                // Not a VRRP message we can read: wait for the next one.
                Ok(Ok(None)) => continue,
                Ok(Err(e)) => return Err(e),
                Err(_would_block) => continue,
            }
        }
    }
}

/// Reads one message with recvmsg. An IPv4 raw socket hands over the IP
/// header too; an IPv6 one gives the payload only, with hop limit and
/// destination as ancillary data. Both carry the kernel's receive time.
fn recv_one(sock: &Socket, ipv6: bool) -> io::Result<Option<Received>> {
    let mut buf = [0u8; 2048];
    // cmsghdr needs its alignment: a u64 buffer gives it.
    let mut control = [0u64; 32];
    // SAFETY: zeroed plain-old-data structs filled in by recvmsg.
    let mut from: libc::sockaddr_in6 = unsafe { std::mem::zeroed() };
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: as above.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_name = (&mut from as *mut libc::sockaddr_in6).cast();
    msg.msg_namelen = std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t;
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&control) as _;
    // SAFETY: every pointer in msg points at live buffers of the given sizes.
    let n = unsafe { libc::recvmsg(sock.as_raw_fd(), &mut msg, 0) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let b = &buf[..n as usize];
    let mut hop_limit = None;
    let mut dst6 = None;
    let mut arrived_ns = None;
    // SAFETY: the CMSG macros walk the control buffer recvmsg filled.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(&msg);
        while !c.is_null() {
            let data = libc::CMSG_DATA(c);
            match ((*c).cmsg_level, (*c).cmsg_type) {
                (libc::IPPROTO_IPV6, libc::IPV6_HOPLIMIT) => {
                    let v = std::ptr::read_unaligned(data.cast::<i32>());
                    hop_limit = u8::try_from(v).ok();
                }
                (libc::IPPROTO_IPV6, libc::IPV6_PKTINFO) => {
                    let info = std::ptr::read_unaligned(data.cast::<libc::in6_pktinfo>());
                    dst6 = Some(Ipv6Addr::from(info.ipi6_addr.s6_addr));
                }
                (libc::SOL_SOCKET, libc::SCM_TIMESTAMPNS) => {
                    let ts = std::ptr::read_unaligned(data.cast::<libc::timespec>());
                    arrived_ns = Some(crate::clock::realtime_to_monotonic(&ts));
                }
                _ => {}
            }
            c = libc::CMSG_NXTHDR(&msg, c);
        }
    }
    if ipv6 {
        let (Some(ttl), Some(dst)) = (hop_limit, dst6) else {
            return Ok(None);
        };
        return Ok(Some(Received {
            src: IpAddr::V6(Ipv6Addr::from(from.sin6_addr.s6_addr)),
            dst: IpAddr::V6(dst),
            ttl,
            bytes: b.to_vec(),
            arrived_ns,
        }));
    }
    if b.len() < 20 || b[0] >> 4 != 4 {
        return Ok(None);
    }
    let ihl = usize::from(b[0] & 0x0f) * 4;
    let total = usize::from(u16::from_be_bytes([b[2], b[3]])).min(b.len());
    if ihl < 20 || total < ihl {
        return Ok(None);
    }
    Ok(Some(Received {
        src: IpAddr::V4(Ipv4Addr::new(b[12], b[13], b[14], b[15])),
        dst: IpAddr::V4(Ipv4Addr::new(b[16], b[17], b[18], b[19])),
        ttl: b[8],
        bytes: b[ihl..total].to_vec(),
        arrived_ns,
    }))
}
