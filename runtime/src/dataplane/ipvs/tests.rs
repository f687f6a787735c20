//! The IPVS encoding without a kernel: keepalived's bytes, dump replies
//! built here and parsed back, acks, and garbage.

use std::collections::BTreeMap;
use std::net::IpAddr;

use holdfast_core::config::model::{
    Family, ForwardingMethod, Scheduler, SchedulerFlags, TunnelChecksum, TunnelType,
};
use holdfast_core::lvs::table::{ProtocolKey, Service};
use holdfast_core::lvs::{diff, DestKey, DestParams, Op, ServiceKey, ServiceParams, Table};

use super::convert::{dest_from_repr, dest_repr, service_from_repr, service_repr};
use super::wire::{self, AttrWriter, Cmd, Reply, WireError};

const FAMILY: u16 = 0x1d;

fn ip(s: &str) -> IpAddr {
    s.parse().expect("test address")
}

fn tcp(addr: &str, port: u16) -> ServiceKey {
    ServiceKey::Addr {
        address: ip(addr),
        port,
        protocol: ProtocolKey::Tcp,
    }
}

fn params(scheduler: Scheduler) -> ServiceParams {
    ServiceParams {
        scheduler,
        flags: SchedulerFlags::default(),
        persistence_timeout: None,
        persistence_granularity: None,
    }
}

fn dest(addr: &str, port: u16) -> DestKey {
    DestKey {
        address: ip(addr),
        port,
    }
}

fn nat(weight: u32) -> DestParams {
    DestParams {
        weight,
        method: ForwardingMethod::Nat,
        uthreshold: 0,
        lthreshold: 0,
    }
}

fn nest_bytes(svc: Option<&wire::ServiceRepr>, dest: Option<&wire::DestRepr>) -> Vec<u8> {
    let msg = wire::ipvs_request(FAMILY, wire::NLM_F_ACK, 1, Cmd::NewService, svc, dest);
    msg[20..].to_vec()
}

/// "add TCP 192.168.200.100:80 rr with NAT real server
/// 192.168.201.100:80 weight 1" from the facts file, byte for byte.
#[cfg(target_endian = "little")]
#[test]
fn keepalived_example_bytes() {
    let key = tcp("192.168.200.100", 80);
    let svc = service_repr(&key, Some(&params(Scheduler::Rr)));
    let msg = wire::ipvs_request(
        FAMILY,
        wire::NLM_F_ACK,
        1,
        Cmd::NewService,
        Some(&svc),
        None,
    );
    #[rustfmt::skip]
    let want: Vec<u8> = vec![
        // nlmsghdr: len 104, type F, REQUEST|ACK, seq 1, pid 0
        0x68, 0, 0, 0, 0x1d, 0, 0x05, 0, 1, 0, 0, 0, 0, 0, 0, 0,
        // genlmsghdr: NEW_SERVICE, version 1
        1, 1, 0, 0,
        // SERVICE nest, 84 bytes
        0x54, 0, 1, 0,
        6, 0, 1, 0, 2, 0, 0, 0,                 // AF = AF_INET
        6, 0, 2, 0, 6, 0, 0, 0,                 // PROTOCOL = TCP
        0x14, 0, 3, 0, 0xc0, 0xa8, 0xc8, 0x64,  // ADDR, 16 bytes
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        6, 0, 4, 0, 0x00, 0x50, 0, 0,           // PORT = be16 80
        7, 0, 6, 0, b'r', b'r', 0, 0,           // SCHED_NAME "rr\0"
        0x0c, 0, 7, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, // FLAGS {0, ~0}
        8, 0, 8, 0, 0, 0, 0, 0,                 // TIMEOUT 0
        8, 0, 9, 0, 0xff, 0xff, 0xff, 0xff,     // NETMASK 255.255.255.255
    ];
    assert_eq!(msg, want);

    let id = service_repr(&key, None);
    let d = dest_repr(&dest("192.168.201.100", 80), Some(&nat(1)));
    let msg = wire::ipvs_request(
        FAMILY,
        wire::NLM_F_ACK,
        2,
        Cmd::NewDest,
        Some(&id),
        Some(&d),
    );
    #[rustfmt::skip]
    let want: Vec<u8> = vec![
        0x8c, 0, 0, 0, 0x1d, 0, 0x05, 0, 2, 0, 0, 0, 0, 0, 0, 0,
        5, 1, 0, 0,                             // NEW_DEST
        // identifying SERVICE nest, 48 bytes
        0x30, 0, 1, 0,
        6, 0, 1, 0, 2, 0, 0, 0,
        6, 0, 2, 0, 6, 0, 0, 0,
        0x14, 0, 3, 0, 0xc0, 0xa8, 0xc8, 0x64,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        6, 0, 4, 0, 0x00, 0x50, 0, 0,
        // DEST nest, 72 bytes
        0x48, 0, 2, 0,
        6, 0, 11, 0, 2, 0, 0, 0,                // ADDR_FAMILY = AF_INET
        0x14, 0, 1, 0, 0xc0, 0xa8, 0xc9, 0x64,  // ADDR
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        6, 0, 2, 0, 0x00, 0x50, 0, 0,           // PORT
        8, 0, 3, 0, 0, 0, 0, 0,                 // FWD_METHOD = MASQ
        8, 0, 4, 0, 1, 0, 0, 0,                 // WEIGHT 1
        8, 0, 5, 0, 0, 0, 0, 0,                 // U_THRESH
        8, 0, 6, 0, 0, 0, 0, 0,                 // L_THRESH
    ];
    assert_eq!(msg, want);
}

/// Attributes of a nest as (type, payload) pairs.
fn attrs_of(nest: &[u8]) -> Vec<(u16, Vec<u8>)> {
    wire::parse_attrs(nest)
        .expect("well-formed")
        .into_iter()
        .map(|(t, p)| (t, p.to_vec()))
        .collect()
}

fn service_nest(key: &ServiceKey, p: &ServiceParams) -> Vec<(u16, Vec<u8>)> {
    let bytes = nest_bytes(Some(&service_repr(key, Some(p))), None);
    let outer = attrs_of(&bytes);
    assert_eq!(outer.len(), 1);
    assert_eq!(outer[0].0, 1);
    attrs_of(&outer[0].1)
}

#[test]
fn ipv6_service_has_16_byte_address_and_prefix_length_netmask() {
    let key = tcp("2001:db8::10", 443);
    let a = service_nest(&key, &params(Scheduler::Wlc));
    let mut addr = vec![0x20, 0x01, 0x0d, 0xb8];
    addr.extend([0; 11]);
    addr.push(0x10);
    assert_eq!(
        a,
        vec![
            (1, 10u16.to_ne_bytes().to_vec()),
            (2, 6u16.to_ne_bytes().to_vec()),
            (3, addr),
            (4, vec![0x01, 0xbb]),
            (6, b"wlc\0".to_vec()),
            (7, [0u32.to_ne_bytes(), u32::MAX.to_ne_bytes()].concat()),
            (8, 0u32.to_ne_bytes().to_vec()),
            // IPv6: the prefix length as a native u32, 128 by default.
            (9, 128u32.to_ne_bytes().to_vec()),
        ]
    );
    let mut p = params(Scheduler::Wlc);
    p.persistence_granularity = Some(64);
    p.persistence_timeout = Some(600);
    let a = service_nest(&key, &p);
    assert_eq!(a[5].1[..4], 1u32.to_ne_bytes(), "PERSISTENT flag");
    assert_eq!(a[6], (8, 600u32.to_ne_bytes().to_vec()));
    assert_eq!(a[7], (9, 64u32.to_ne_bytes().to_vec()));
}

#[test]
fn fwmark_service_names_the_mark_not_the_address() {
    let key = ServiceKey::Fwmark {
        mark: 0x1234,
        family: Family::Ipv6,
    };
    let a = service_nest(&key, &params(Scheduler::Sh));
    let types: Vec<u16> = a.iter().map(|(t, _)| *t).collect();
    assert_eq!(types, vec![1, 5, 6, 7, 8, 9]);
    assert_eq!(a[0].1, 10u16.to_ne_bytes());
    assert_eq!(a[1].1, 0x1234u32.to_ne_bytes());
    // Identifying only: AF and FWMARK.
    let id = nest_bytes(Some(&service_repr(&key, None)), None);
    let outer = attrs_of(&id);
    let inner: Vec<u16> = attrs_of(&outer[0].1).iter().map(|(t, _)| *t).collect();
    assert_eq!(inner, vec![1, 5]);
}

#[test]
fn persistence_timeout_and_ipv4_netmask() {
    let key = tcp("192.168.200.10", 80);
    let mut p = params(Scheduler::Wrr);
    p.persistence_timeout = Some(50);
    p.persistence_granularity = Some(24);
    let a = service_nest(&key, &p);
    assert_eq!(a[5].1[..4], 1u32.to_ne_bytes(), "PERSISTENT flag");
    assert_eq!(a[6].1, 50u32.to_ne_bytes());
    assert_eq!(a[7].1, vec![0xff, 0xff, 0xff, 0x00]);
    p.persistence_granularity = Some(0);
    assert_eq!(service_nest(&key, &p)[7].1, vec![0, 0, 0, 0]);
    // Without persistence: no flag, timeout 0.
    let a = service_nest(&key, &params(Scheduler::Wrr));
    assert_eq!(a[5].1[..4], 0u32.to_ne_bytes());
    assert_eq!(a[6].1, 0u32.to_ne_bytes());
}

#[test]
fn scheduler_flags_share_bits_as_in_keepalived() {
    let key = tcp("10.0.0.1", 80);
    let bits = |f: SchedulerFlags, s: Scheduler| {
        let mut p = params(s);
        p.flags = f;
        let a = service_nest(&key, &p);
        u32::from_ne_bytes([a[5].1[0], a[5].1[1], a[5].1[2], a[5].1[3]])
    };
    let f = |set: &dyn Fn(&mut SchedulerFlags)| {
        let mut f = SchedulerFlags::default();
        set(&mut f);
        f
    };
    assert_eq!(bits(f(&|f| f.sh_port = true), Scheduler::Sh), 0x10);
    assert_eq!(bits(f(&|f| f.sh_fallback = true), Scheduler::Sh), 0x08);
    assert_eq!(bits(f(&|f| f.mh_port = true), Scheduler::Mh), 0x10);
    assert_eq!(bits(f(&|f| f.mh_fallback = true), Scheduler::Mh), 0x08);
    assert_eq!(bits(f(&|f| f.flag_3 = true), Scheduler::Rr), 0x20);
    assert_eq!(bits(f(&|f| f.ops = true), Scheduler::Rr), 0x04);

    // flag-2 on sh is sh-port on the wire: no edit for the spelling.
    let mut have = params(Scheduler::Sh);
    have.flags.flag_2 = true;
    let mut want = params(Scheduler::Sh);
    want.flags.sh_port = true;
    assert!(super::convert::same_service(&key, &have, &want));
    // Read back, the bits are named as the scheduler names them.
    let repr = service_repr(&key, Some(&want));
    let (_, p) = service_from_repr(&repr).expect("known service");
    assert_eq!(p, Some(want));
}

#[test]
fn tunnel_dests_as_keepalived_sends_them() {
    let d = dest("10.1.1.1", 0);
    let tun = |tunnel, checksum| DestParams {
        weight: 3,
        method: ForwardingMethod::Tun { tunnel, checksum },
        uthreshold: 100,
        lthreshold: 10,
    };
    let types = |p: &DestParams| -> Vec<u16> {
        let b = nest_bytes(None, Some(&dest_repr(&d, Some(p))));
        attrs_of(&attrs_of(&b)[0].1)
            .iter()
            .map(|(t, _)| *t)
            .collect()
    };
    // IPIP: type only. GUE: type, port, flags. GRE: type, flags.
    assert_eq!(
        types(&tun(TunnelType::Ipip, None)),
        vec![11, 1, 2, 3, 4, 13, 5, 6]
    );
    assert_eq!(
        types(&tun(
            TunnelType::Gue { port: 6080 },
            Some(TunnelChecksum::Csum)
        )),
        vec![11, 1, 2, 3, 4, 13, 14, 15, 5, 6]
    );
    assert_eq!(
        types(&tun(TunnelType::Gre, None)),
        vec![11, 1, 2, 3, 4, 13, 15, 5, 6]
    );
    let dr = DestParams {
        method: ForwardingMethod::Dr,
        ..nat(1)
    };
    let b = nest_bytes(None, Some(&dest_repr(&d, Some(&dr))));
    let a = attrs_of(&attrs_of(&b)[0].1);
    assert_eq!(
        a[3],
        (3, 3u32.to_ne_bytes().to_vec()),
        "FWD_METHOD = DROUTE"
    );

    // Every tunnel round-trips; "nocsum" is the default on the wire.
    for p in [
        tun(TunnelType::Ipip, None),
        tun(TunnelType::Gue { port: 6080 }, Some(TunnelChecksum::Csum)),
        tun(TunnelType::Gre, Some(TunnelChecksum::Remcsum)),
        tun(TunnelType::Gre, None),
    ] {
        let got = dest_from_repr(&dest_repr(&d, Some(&p)), wire::AF_INET);
        assert_eq!(got, Some((d, Some(p))));
    }
    assert!(super::convert::same_dest(
        &d,
        &tun(TunnelType::Gre, None),
        &tun(TunnelType::Gre, Some(TunnelChecksum::Nocsum))
    ));
}

/// A message as the kernel would send it in a dump.
fn kernel_msg(seq: u32, cmd: u8, attrs: &AttrWriter) -> Vec<u8> {
    let mut m = wire::request(FAMILY, 0, seq, cmd, 1, attrs);
    // NLM_F_MULTI instead of REQUEST, as in a dump.
    m[6..8].copy_from_slice(&2u16.to_ne_bytes());
    m
}

fn control_msg(ty: u16, seq: u32, error: i32) -> Vec<u8> {
    let mut m = Vec::new();
    m.extend_from_slice(&20u32.to_ne_bytes());
    m.extend_from_slice(&ty.to_ne_bytes());
    m.extend_from_slice(&0u16.to_ne_bytes());
    m.extend_from_slice(&seq.to_ne_bytes());
    m.extend_from_slice(&0u32.to_ne_bytes());
    m.extend_from_slice(&error.to_ne_bytes());
    m
}

#[test]
fn dump_reply_round_trip() {
    let mut table = Table::default();
    let mut p1 = params(Scheduler::Wrr);
    p1.persistence_timeout = Some(50);
    let mut p2 = params(Scheduler::Mh);
    p2.flags.mh_port = true;
    p2.persistence_timeout = Some(300);
    p2.persistence_granularity = Some(48);
    let k1 = tcp("192.168.200.10", 80);
    let k2 = ServiceKey::Addr {
        address: ip("2001:db8::1"),
        port: 53,
        protocol: ProtocolKey::Udp,
    };
    let k3 = ServiceKey::Fwmark {
        mark: 7,
        family: Family::Ipv4,
    };
    table.services.insert(
        k1.clone(),
        Service {
            params: p1,
            dests: BTreeMap::new(),
        },
    );
    table.services.insert(
        k2.clone(),
        Service {
            params: p2,
            dests: BTreeMap::new(),
        },
    );
    table.services.insert(
        k3.clone(),
        Service {
            params: params(Scheduler::Sed),
            dests: BTreeMap::new(),
        },
    );

    // One datagram: three services, each with what the kernel adds (a
    // STATS nest, the HASHED flag), then DONE.
    let mut datagram = Vec::new();
    for (k, s) in &table.services {
        let mut repr = service_repr(k, Some(&s.params));
        if let Some(f) = repr.full.as_mut() {
            f.flags |= 0x2;
        }
        let mut nest = AttrWriter::default();
        repr.emit(&mut nest);
        let mut stats = AttrWriter::default();
        stats.u32(1, 99);
        nest.nest(10, &stats);
        let mut top = AttrWriter::default();
        top.nest(1, &nest);
        datagram.extend(kernel_msg(7, Cmd::NewService as u8, &top));
    }
    datagram.extend(control_msg(3, 7, 0));

    let replies = wire::parse_replies(&datagram, FAMILY).expect("well-formed");
    assert_eq!(replies.len(), 4);
    assert_eq!(replies[3], Reply::Done { seq: 7, errno: 0 });
    let mut back = Table::default();
    for r in &replies[..3] {
        let Reply::Genl {
            seq: 7,
            cmd: 1,
            attrs,
        } = r
        else {
            panic!("unexpected {r:?}");
        };
        let repr = wire::parse_service_msg(attrs).expect("service");
        let (k, p) = service_from_repr(&repr).expect("known");
        back.services.insert(
            k,
            Service {
                params: p.expect("decodable"),
                dests: BTreeMap::new(),
            },
        );
    }
    assert_eq!(back, table);

    // Destinations, with the counters a dump adds.
    let d4 = (dest("192.168.100.2", 80), nat(2));
    let d6 = (
        dest("2001:db8::2", 80),
        DestParams {
            weight: 0,
            method: ForwardingMethod::Dr,
            uthreshold: 1000,
            lthreshold: 800,
        },
    );
    for (d, p) in [d4, d6] {
        let mut nest = AttrWriter::default();
        dest_repr(&d, Some(&p)).emit(&mut nest);
        nest.u32(7, 12); // ACTIVE_CONNS
        let mut top = AttrWriter::default();
        top.nest(2, &nest);
        let msg = kernel_msg(8, Cmd::NewDest as u8, &top);
        let replies = wire::parse_replies(&msg, FAMILY).expect("well-formed");
        let [Reply::Genl { attrs, .. }] = replies.as_slice() else {
            panic!("unexpected {replies:?}");
        };
        let repr = wire::parse_dest_msg(attrs).expect("dest");
        assert_eq!(dest_from_repr(&repr, wire::AF_INET), Some((d, Some(p))));
    }
}

#[test]
fn acks_errors_and_done() {
    let mut b = control_msg(2, 5, 0);
    b.extend(control_msg(2, 6, -17));
    b.extend(control_msg(3, 9, -22));
    // A DONE from an old kernel has no payload.
    let mut old_done = control_msg(3, 10, 0);
    old_done.truncate(16);
    old_done[..4].copy_from_slice(&16u32.to_ne_bytes());
    b.extend(old_done);
    assert_eq!(
        wire::parse_replies(&b, FAMILY),
        Ok(vec![
            Reply::Ack { seq: 5 },
            Reply::Error { seq: 6, errno: 17 },
            Reply::Done { seq: 9, errno: 22 },
            Reply::Done { seq: 10, errno: 0 },
        ])
    );
    // Another family's message is neither ours nor an error.
    let m = kernel_msg(4, 1, &AttrWriter::default());
    assert_eq!(wire::parse_replies(&m, FAMILY + 1), Ok(vec![Reply::Other]));
}

#[test]
fn family_lookup_reply() {
    let mut a = AttrWriter::default();
    a.put(2, b"IPVS\0");
    a.put(1, &0x2au16.to_ne_bytes());
    assert_eq!(wire::parse_family_id(a.bytes()), Ok(0x2a));
    assert_eq!(
        wire::parse_family_id(&[]),
        Err(WireError::Missing("CTRL_ATTR_FAMILY_ID"))
    );
    let req = wire::get_family_request(3, "IPVS");
    assert_eq!(req.len(), 16 + 4 + 12);
    assert_eq!(&req[4..6], &wire::GENL_ID_CTRL.to_ne_bytes());
    assert_eq!(&req[24..29], b"IPVS\0");
}

#[test]
fn truncated_and_garbage_replies_are_errors_not_panics() {
    let key = tcp("192.168.200.10", 80);
    let mut top = AttrWriter::default();
    let mut nest = AttrWriter::default();
    service_repr(&key, Some(&params(Scheduler::Rr))).emit(&mut nest);
    top.nest(1, &nest);
    let msg = kernel_msg(1, 1, &top);
    // Every prefix of a good message: parsed or refused, never a panic.
    for n in 0..msg.len() {
        let r = wire::parse_replies(&msg[..n], FAMILY);
        if n > 0 {
            assert!(r.is_err(), "prefix of {n} bytes accepted");
        }
    }
    // A message whose length field lies about the attributes inside.
    let mut bad = msg.clone();
    bad[20..22].copy_from_slice(&0xfff0u16.to_ne_bytes());
    let replies = wire::parse_replies(&bad, FAMILY).expect("header is fine");
    let Reply::Genl { attrs, .. } = &replies[0] else {
        panic!("not genl");
    };
    assert_eq!(
        wire::parse_service_msg(attrs),
        Err(WireError::Truncated("attribute"))
    );
    // nla_len below the header size.
    assert_eq!(
        wire::parse_attrs(&[2, 0, 1, 0]),
        Err(WireError::BadLength("attribute"))
    );
    // A netlink length below its header size.
    assert_eq!(
        wire::parse_replies(&[0u8; 16], FAMILY),
        Err(WireError::BadLength("netlink message"))
    );
    // Service nests without their mandatory parts, and a 17-byte address.
    let mut a = AttrWriter::default();
    a.put(2, &6u16.to_ne_bytes());
    assert_eq!(
        wire::ServiceRepr::parse(a.bytes()),
        Err(WireError::Missing("SVC_AF"))
    );
    let mut a = AttrWriter::default();
    a.put(1, &2u16.to_ne_bytes());
    a.put(2, &6u16.to_ne_bytes());
    a.put(3, &[0; 17]);
    assert_eq!(
        wire::ServiceRepr::parse(a.bytes()),
        Err(WireError::Malformed("SVC_ADDR"))
    );
    let mut a = AttrWriter::default();
    a.put(1, &2u16.to_ne_bytes());
    a.put(5, &[1, 2]);
    assert_eq!(
        wire::ServiceRepr::parse(a.bytes()),
        Err(WireError::Malformed("SVC_FWMARK"))
    );
    // Pseudo-random bytes: whatever comes out, no panic.
    let mut x: u32 = 0x1234_5678;
    for len in 0..400 {
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect();
        if let Ok(rs) = wire::parse_replies(&bytes, FAMILY) {
            for r in rs {
                if let Reply::Genl { attrs, .. } = r {
                    let _ = wire::parse_service_msg(attrs);
                    let _ = wire::parse_dest_msg(attrs);
                }
            }
        }
        let _ = wire::ServiceRepr::parse(&bytes);
        let _ = wire::DestRepr::parse(&bytes);
    }
}

#[test]
fn unknown_entries_read_as_unknown_settings() {
    let key = tcp("10.0.0.1", 80);
    let mut repr = service_repr(&key, Some(&params(Scheduler::Rr)));
    if let Some(f) = repr.full.as_mut() {
        f.sched = "nosuch".into();
    }
    assert_eq!(service_from_repr(&repr), Some((key.clone(), None)));
    if let Some(f) = repr.full.as_mut() {
        f.sched = "rr".into();
        f.netmask = [0xff, 0x00, 0xff, 0x00];
    }
    assert_eq!(service_from_repr(&repr), Some((key, None)));
    // LOCALNODE (1) is no method holdfast writes.
    let d = dest("10.0.0.2", 80);
    let mut dr = dest_repr(&d, Some(&nat(1)));
    if let Some(f) = dr.full.as_mut() {
        f.fwd = 1;
    }
    assert_eq!(dest_from_repr(&dr, wire::AF_INET), Some((d, None)));
    // A protocol holdfast never uses: not a service it could own.
    let mut repr = service_repr(&tcp("10.0.0.1", 80), None);
    repr.id = wire::SvcId::Addr {
        protocol: 50,
        addr: [0; 16],
        port: 0,
    };
    assert_eq!(service_from_repr(&repr), None);
}

/// The apply path's reasoning on a kernel view, without a kernel.
#[test]
fn view_adopts_spellings_and_forces_unknown_entries() {
    let k = tcp("10.0.0.1", 80);
    let mut want_p = params(Scheduler::Sh);
    want_p.flags.sh_port = true;
    let mut have_p = params(Scheduler::Sh);
    have_p.flags.flag_2 = true;
    let (d1, d2, d3) = (
        dest("10.0.1.1", 80),
        dest("10.0.1.2", 80),
        dest("10.0.1.3", 80),
    );
    let mut wanted = Table::default();
    wanted.services.insert(
        k.clone(),
        Service {
            params: want_p.clone(),
            dests: [(d1, nat(1)), (d2, nat(2)), (d3, nat(3))]
                .into_iter()
                .collect(),
        },
    );
    let kernel: BTreeMap<ServiceKey, super::KernelService> = [(
        k.clone(),
        super::KernelService {
            params: Some(have_p),
            dests: vec![(d1, Some(nat(1))), (d2, None)],
        },
    )]
    .into_iter()
    .collect();
    let (view, mut ops) = super::view(kernel, &wanted);
    ops.extend(diff(&view, &wanted));
    assert_eq!(
        ops,
        vec![
            Op::EditDest(k.clone(), d2, nat(2)),
            Op::AddDest(k.clone(), d3, nat(3)),
        ]
    );
}
