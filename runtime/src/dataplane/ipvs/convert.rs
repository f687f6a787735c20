//! Between core's table entries and the IPVS nests: what keepalived would
//! send for a service or a destination, and what a dump entry means.
//!
//! Decoding can fail for entries holdfast would never write (a forwarding
//! method of LOCALNODE, a scheduler core does not know, a netmask that is
//! not a prefix); such an entry reads as "settings unknown" (`None`), which
//! the data plane treats as drift when it owns the entry.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use holdfast_core::config::model::{
    Family, ForwardingMethod, Scheduler, SchedulerFlags, TunnelChecksum, TunnelType,
};
use holdfast_core::lvs::table::ProtocolKey;
use holdfast_core::lvs::{DestKey, DestParams, ServiceKey, ServiceParams};

use super::wire::{self, DestFull, DestRepr, ServiceRepr, SvcFull, SvcId, TunRepr};

fn af_of(a: IpAddr) -> u16 {
    match a {
        IpAddr::V4(_) => wire::AF_INET,
        IpAddr::V6(_) => wire::AF_INET6,
    }
}

fn af_of_family(f: Family) -> u16 {
    match f {
        Family::Ipv4 => wire::AF_INET,
        Family::Ipv6 => wire::AF_INET6,
    }
}

/// An address as IPVS carries it: network order, zero-padded to 16 bytes.
fn addr_bytes(a: IpAddr) -> [u8; 16] {
    match a {
        IpAddr::V4(v) => {
            let mut b = [0u8; 16];
            b[..4].copy_from_slice(&v.octets());
            b
        }
        IpAddr::V6(v) => v.octets(),
    }
}

fn addr_from(af: u16, b: &[u8; 16]) -> Option<IpAddr> {
    match af {
        wire::AF_INET => Some(IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3]))),
        wire::AF_INET6 => Some(IpAddr::V6(Ipv6Addr::from(*b))),
        _ => None,
    }
}

fn protocol_number(p: ProtocolKey) -> u16 {
    match p {
        ProtocolKey::Tcp => wire::IPPROTO_TCP,
        ProtocolKey::Udp => wire::IPPROTO_UDP,
        ProtocolKey::Sctp => wire::IPPROTO_SCTP,
    }
}

fn protocol_key(n: u16) -> Option<ProtocolKey> {
    match n {
        wire::IPPROTO_TCP => Some(ProtocolKey::Tcp),
        wire::IPPROTO_UDP => Some(ProtocolKey::Udp),
        wire::IPPROTO_SCTP => Some(ProtocolKey::Sctp),
        _ => None,
    }
}

fn service_af(key: &ServiceKey) -> u16 {
    match key {
        ServiceKey::Addr { address, .. } => af_of(*address),
        ServiceKey::Fwmark { family, .. } => af_of_family(*family),
    }
}

/// The service nest for `key`: identifying only, or full with `params`.
pub fn service_repr(key: &ServiceKey, params: Option<&ServiceParams>) -> ServiceRepr {
    let af = service_af(key);
    let id = match key {
        ServiceKey::Addr {
            address,
            port,
            protocol,
        } => SvcId::Addr {
            protocol: protocol_number(*protocol),
            addr: addr_bytes(*address),
            port: *port,
        },
        ServiceKey::Fwmark { mark, .. } => SvcId::Fwmark(*mark),
    };
    let full = params.map(|p| {
        let mut flags = scheduler_flag_bits(&p.flags);
        if p.persistence_timeout.is_some() {
            flags |= wire::SVC_F_PERSISTENT;
        }
        SvcFull {
            sched: p.scheduler.as_str().to_string(),
            flags,
            timeout: p.persistence_timeout.unwrap_or(0),
            netmask: netmask(af, p.persistence_granularity),
        }
    });
    ServiceRepr { af, id, full }
}

/// The `IP_VS_SVC_F_*` bits of the scheduler flags. The sh-, mh- and
/// numbered flags share bits, as in keepalived's `check_data.h`.
fn scheduler_flag_bits(f: &SchedulerFlags) -> u32 {
    let mut bits = 0;
    if f.flag_1 || f.sh_fallback || f.mh_fallback {
        bits |= wire::SVC_F_SCHED1;
    }
    if f.flag_2 || f.sh_port || f.mh_port {
        bits |= wire::SVC_F_SCHED2;
    }
    if f.flag_3 {
        bits |= wire::SVC_F_SCHED3;
    }
    if f.ops {
        bits |= wire::SVC_F_ONEPACKET;
    }
    bits
}

/// The flags a scheduler's bits stand for, named as that scheduler's
/// configuration would name them.
fn scheduler_flags(sched: Scheduler, bits: u32) -> SchedulerFlags {
    let (s1, s2) = (
        bits & wire::SVC_F_SCHED1 != 0,
        bits & wire::SVC_F_SCHED2 != 0,
    );
    let mut f = SchedulerFlags {
        flag_3: bits & wire::SVC_F_SCHED3 != 0,
        ops: bits & wire::SVC_F_ONEPACKET != 0,
        ..SchedulerFlags::default()
    };
    match sched {
        Scheduler::Sh => (f.sh_fallback, f.sh_port) = (s1, s2),
        Scheduler::Mh => (f.mh_fallback, f.mh_port) = (s1, s2),
        _ => (f.flag_1, f.flag_2) = (s1, s2),
    }
    f
}

/// `IPVS_SVC_ATTR_NETMASK`: a be32 mask for IPv4 (default /32), a native
/// prefix length for IPv6 (default 128), as keepalived sends them.
fn netmask(af: u16, prefix: Option<u8>) -> [u8; 4] {
    if af == wire::AF_INET6 {
        u32::from(prefix.unwrap_or(128)).to_ne_bytes()
    } else {
        let p = u32::from(prefix.unwrap_or(32).min(32));
        let mask = u32::MAX.checked_shl(32 - p).unwrap_or(0);
        mask.to_be_bytes()
    }
}

/// The persistence granularity a netmask stands for (`None`: the default,
/// a single address); `Err` if it is no prefix.
fn granularity(af: u16, netmask: [u8; 4]) -> Result<Option<u8>, ()> {
    if af == wire::AF_INET6 {
        match u32::from_ne_bytes(netmask) {
            128 => Ok(None),
            n @ 1..=127 => Ok(Some(n as u8)),
            _ => Err(()),
        }
    } else {
        let m = u32::from_be_bytes(netmask);
        let p = m.leading_ones();
        if u32::MAX.checked_shl(32 - p).unwrap_or(0) != m {
            return Err(());
        }
        Ok(if p == 32 { None } else { Some(p as u8) })
    }
}

/// A dumped service's key and, if holdfast can express them, its settings.
/// `None` for a service holdfast could never own (an unknown protocol or
/// family).
pub fn service_from_repr(r: &ServiceRepr) -> Option<(ServiceKey, Option<ServiceParams>)> {
    let key = match r.id {
        SvcId::Fwmark(mark) => ServiceKey::Fwmark {
            mark,
            family: match r.af {
                wire::AF_INET => Family::Ipv4,
                wire::AF_INET6 => Family::Ipv6,
                _ => return None,
            },
        },
        SvcId::Addr {
            protocol,
            addr,
            port,
        } => ServiceKey::Addr {
            address: addr_from(r.af, &addr)?,
            port,
            protocol: protocol_key(protocol)?,
        },
    };
    let params = r.full.as_ref().and_then(|f| {
        let scheduler = Scheduler::from_name(&f.sched)?;
        Some(ServiceParams {
            scheduler,
            flags: scheduler_flags(scheduler, f.flags),
            persistence_timeout: (f.flags & wire::SVC_F_PERSISTENT != 0).then_some(f.timeout),
            persistence_granularity: granularity(r.af, f.netmask).ok()?,
        })
    });
    Some((key, params))
}

/// The destination nest: identifying only, or full with `params`.
pub fn dest_repr(key: &DestKey, params: Option<&DestParams>) -> DestRepr {
    let full = params.map(|p| {
        let (fwd, tun) = match p.method {
            ForwardingMethod::Nat => (wire::FWD_MASQ, None),
            ForwardingMethod::Dr => (wire::FWD_DROUTE, None),
            ForwardingMethod::Tun { tunnel, checksum } => {
                let flags = match checksum {
                    None | Some(TunnelChecksum::Nocsum) => 0,
                    Some(TunnelChecksum::Csum) => wire::TUN_F_CSUM,
                    Some(TunnelChecksum::Remcsum) => wire::TUN_F_REMCSUM,
                };
                // keepalived: a port for GUE only, flags for all but IPIP.
                let tun = match tunnel {
                    TunnelType::Ipip => TunRepr {
                        ty: wire::TUN_IPIP,
                        port: None,
                        flags: None,
                    },
                    TunnelType::Gue { port } => TunRepr {
                        ty: wire::TUN_GUE,
                        port: Some(port),
                        flags: Some(flags),
                    },
                    TunnelType::Gre => TunRepr {
                        ty: wire::TUN_GRE,
                        port: None,
                        flags: Some(flags),
                    },
                };
                (wire::FWD_TUNNEL, Some(tun))
            }
        };
        DestFull {
            fwd,
            weight: p.weight,
            tun,
            u_thresh: p.uthreshold,
            l_thresh: p.lthreshold,
        }
    });
    DestRepr {
        // Always sent: a destination of another family than its service's
        // (IPv4 behind an IPv6 tunnel service) is only found with it.
        af: Some(af_of(key.address)),
        addr: addr_bytes(key.address),
        port: key.port,
        full,
    }
}

/// A dumped destination's key and, if holdfast can express them, its
/// settings. `svc_af` is the family when the dump does not name one.
pub fn dest_from_repr(r: &DestRepr, svc_af: u16) -> Option<(DestKey, Option<DestParams>)> {
    let af = r.af.filter(|&a| a != 0).unwrap_or(svc_af);
    let key = DestKey {
        address: addr_from(af, &r.addr)?,
        port: r.port,
    };
    let params = r.full.as_ref().and_then(|f| {
        let method = match f.fwd & wire::FWD_MASK {
            wire::FWD_MASQ => ForwardingMethod::Nat,
            wire::FWD_DROUTE => ForwardingMethod::Dr,
            wire::FWD_TUNNEL => {
                // Kernels before 5.3 have no tunnel attributes: IPIP only.
                let t = f.tun.unwrap_or(TunRepr {
                    ty: wire::TUN_IPIP,
                    port: None,
                    flags: None,
                });
                let checksum = match t.flags.unwrap_or(0) {
                    0 => None,
                    wire::TUN_F_CSUM => Some(TunnelChecksum::Csum),
                    wire::TUN_F_REMCSUM => Some(TunnelChecksum::Remcsum),
                    _ => return None,
                };
                match t.ty {
                    wire::TUN_IPIP => ForwardingMethod::Tun {
                        tunnel: TunnelType::Ipip,
                        checksum: None,
                    },
                    wire::TUN_GUE => ForwardingMethod::Tun {
                        tunnel: TunnelType::Gue {
                            port: t.port.unwrap_or(0),
                        },
                        checksum,
                    },
                    wire::TUN_GRE => ForwardingMethod::Tun {
                        tunnel: TunnelType::Gre,
                        checksum,
                    },
                    _ => return None,
                }
            }
            _ => return None,
        };
        Some(DestParams {
            weight: f.weight,
            method,
            uthreshold: f.u_thresh,
            lthreshold: f.l_thresh,
        })
    });
    Some((key, params))
}

/// Whether two settings of a service put the same bytes on the wire (core
/// can say the same thing twice: `sh-port` and `flag-2`, persistence
/// granularity /32 and none).
pub fn same_service(key: &ServiceKey, a: &ServiceParams, b: &ServiceParams) -> bool {
    service_repr(key, Some(a)) == service_repr(key, Some(b))
}

/// [`same_service`] for destinations (tunnel checksum "nocsum" and none).
pub fn same_dest(key: &DestKey, a: &DestParams, b: &DestParams) -> bool {
    dest_repr(key, Some(a)) == dest_repr(key, Some(b))
}

/// A service as an operator reads it, as ipvsadm writes it:
/// `TCP 192.168.200.10:80`, `UDP [2001:db8::1]:53`, `FWM 7 IPv6`.
pub use holdfast_core::trace::service_text as describe_service;

/// A destination as an operator reads it.
pub fn describe_dest(key: &DestKey) -> String {
    std::net::SocketAddr::new(key.address, key.port).to_string()
}
