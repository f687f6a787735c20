//! VRRP hot paths: decoding, checking and re-emitting one advert, and a
//! director with 50 instances handling one advert.

use std::net::IpAddr;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use holdfast_core::config::{parse_str, LoadOptions, MemLoader};
use holdfast_core::node::{Input, Interface, Node};
use holdfast_core::time::Instant;
use holdfast_core::vrrp::instance::Transmit;
use holdfast_core::vrrp::wire::{Packet, Repr};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// keepalived 2.2.7's advert: v2, VRID 51, priority 150, PASS "k@l", one VIP.
const ADVERT: [u8; 20] = [
    0x21, 0x33, 0x96, 0x01, 0x01, 0x01, 0x65, 0xb7, 0x0a, 0xc8, 0x00, 0x0a, 0x6b, 0x40, 0x6c, 0, 0,
    0, 0, 0,
];

fn codec(c: &mut Criterion) {
    let (src, dst) = (ip("10.200.0.1"), ip("224.0.0.18"));
    let mut out = [0u8; 64];
    c.bench_function("vrrp/decode_validate_emit", |b| {
        b.iter(|| {
            let (bytes, src, dst) = std::hint::black_box((&ADVERT[..], src, dst));
            let parsed = Repr::parse(&Packet::new_unchecked(bytes), src, dst).unwrap();
            let len = parsed.repr.buffer_len();
            parsed.repr.emit(
                &mut Packet::new_unchecked(&mut out[..len]),
                src,
                dst,
                parsed.checksum,
            );
            std::hint::black_box(&out);
        })
    });
}

fn node_with_50_instances(c: &mut Criterion) {
    let mut text = String::new();
    for vrid in 1..=50 {
        text.push_str(&format!(
            "vrrp_instance VI_{vrid} {{\n  interface eth0\n  virtual_router_id {vrid}\n  priority 100\n  advert_int 1\n  authentication {{\n    auth_type PASS\n    auth_pass secret\n  }}\n  virtual_ipaddress {{\n    10.1.{vrid}.1/24\n  }}\n}}\n"
        ));
    }
    let cfg = parse_str("50.conf", &text, &MemLoader::new(), &LoadOptions::default())
        .config
        .unwrap();
    let ifaces = [Interface {
        name: "eth0".into(),
        ipv4: Some(ip("10.0.0.2")),
        ipv6: None,
        up: true,
    }];
    // A master at priority 150 advertising VRID 25.
    let peer = parse_str(
        "p.conf",
        &text.replace("priority 100", "priority 150"),
        &MemLoader::new(),
        &LoadOptions::default(),
    )
    .config
    .unwrap();
    let peer_ifaces = [Interface {
        name: "eth0".into(),
        ipv4: Some(ip("10.0.0.1")),
        ipv6: None,
        up: true,
    }];
    let mut sender = Node::new(Instant::ZERO, &peer, &peer_ifaces).unwrap();
    sender.handle_timeout(Instant::from_nanos(10_000_000_000));
    let advert = std::iter::from_fn(|| sender.poll_output())
        .find_map(|o| match o {
            holdfast_core::node::Output::Transmit(Transmit {
                bytes, src, dst, ..
            }) if bytes[1] == 25 => Some((src, dst, bytes)),
            _ => None,
        })
        .unwrap();
    let mut node = Node::new(Instant::ZERO, &cfg, &ifaces).unwrap();
    let mut now = Instant::from_nanos(1_000_000_000);
    c.bench_function("node/50_instances_handle_one_advert", |b| {
        b.iter_batched(
            || Input::Packet {
                interface: "eth0".into(),
                src: advert.0,
                dst: advert.1,
                ttl: 255,
                bytes: advert.2.clone(),
            },
            |input| {
                now += std::time::Duration::from_micros(1);
                node.handle(now, input);
                while node.poll_output().is_some() {}
            },
            BatchSize::SmallInput,
        )
    });
}

criterion_group!(benches, codec, node_with_50_instances);
criterion_main!(benches);
