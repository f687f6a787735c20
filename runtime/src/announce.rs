//! Sending the announcements core asks for: gratuitous ARPs over a packet
//! socket, unsolicited neighbour advertisements over ICMPv6 (frames from
//! `holdfast_core::announce`).

use std::io;
use std::net::{IpAddr, Ipv6Addr, SocketAddr, SocketAddrV6};
use std::os::fd::AsRawFd;

use holdfast_core::announce::{garp_frame, unsolicited_na};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

const ETH_P_ARP: u16 = 0x0806;

/// Sends gratuitous ARPs on one interface.
pub struct Announcer {
    packet: Socket,
    icmp6: Option<Socket>,
    ifindex: u32,
    mac: [u8; 6],
}

impl Announcer {
    /// Opens the sockets for interface `ifname` (index `ifindex`, address `mac`).
    pub fn open(ifname: &str, ifindex: u32, mac: [u8; 6]) -> io::Result<Announcer> {
        // Protocol 0: a send-only socket that receives nothing.
        let packet = Socket::new(Domain::PACKET, Type::RAW, Some(Protocol::from(0)))?;
        // IPv6 may be off on the host: then there is nothing to announce.
        let icmp6 = Socket::new(Domain::IPV6, Type::RAW, Some(Protocol::ICMPV6))
            .and_then(|s| {
                s.bind_device(Some(ifname.as_bytes()))?;
                s.set_multicast_hops_v6(255)?;
                s.set_unicast_hops_v6(255)?;
                s.set_multicast_if_v6(ifindex)?;
                // Send-only: nothing queues up unread.
                s.shutdown(std::net::Shutdown::Read)?;
                Ok(s)
            })
            .ok();
        Ok(Announcer {
            packet,
            icmp6,
            ifindex,
            mac,
        })
    }

    /// Announces `address` `count` times, back to back (keepalived's
    /// default `vrrp_garp_interval` 0).
    pub fn announce(&self, address: IpAddr, count: u32) -> io::Result<()> {
        for _ in 0..count.max(1) {
            match address {
                IpAddr::V4(a) => self.send_frame(&garp_frame(self.mac, a))?,
                IpAddr::V6(a) => self.send_na(a)?,
            }
        }
        Ok(())
    }

    fn send_frame(&self, frame: &[u8]) -> io::Result<()> {
        // SAFETY: a zeroed sockaddr_ll, filled field by field.
        let mut ll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        ll.sll_family = libc::AF_PACKET as u16;
        ll.sll_protocol = ETH_P_ARP.to_be();
        ll.sll_ifindex = self.ifindex as i32;
        ll.sll_halen = 6;
        ll.sll_addr[..6].copy_from_slice(&[0xff; 6]);
        // SAFETY: frame and ll are live for the call, with their sizes.
        let n = unsafe {
            libc::sendto(
                self.packet.as_raw_fd(),
                frame.as_ptr().cast(),
                frame.len(),
                0,
                (&ll as *const libc::sockaddr_ll).cast(),
                std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        if n < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(())
        }
    }

    fn send_na(&self, target: Ipv6Addr) -> io::Result<()> {
        let Some(s) = &self.icmp6 else {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "no IPv6 on this interface",
            ));
        };
        let all_nodes = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
        let to: SockAddr = SocketAddr::V6(SocketAddrV6::new(all_nodes, 0, 0, self.ifindex)).into();
        s.send_to(&unsolicited_na(self.mac, target), &to)
            .map(|_| ())
    }
}
