//! A node's counters and what it tells its driver about its instances:
//! keepalived's per-instance statistics, the rejected adverts by reason
//! (per instance and for the whole node), SIGSTATS_CLEAR, the state by
//! name and the tracked interfaces that did not exist.

mod common;

use std::net::IpAddr;

use common::{ifaces, read};
use holdfast_core::node::{Input, Node};
use holdfast_core::time::Instant;
use holdfast_core::vrrp::checksum::Variant;
use holdfast_core::vrrp::instance::State;
use holdfast_core::vrrp::wire::{Auth, Repr, Version};
use holdfast_core::vrrp::Reject;

const CONF: &str = "vrrp_instance A {
 interface eth0
 virtual_router_id 9
 priority 100
 authentication {
  auth_type PASS
  auth_pass secret
 }
 track_interface {
  eth9
 }
 virtual_ipaddress {
  10.0.0.1/24
 }
}
";

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// An advert of VRID `vrid` from a peer at 192.168.200.2, with `password`.
fn advert(vrid: u8, priority: u8, password: &str) -> Vec<u8> {
    Repr {
        version: Version::V2,
        vrid,
        priority,
        adver_int: 1,
        auth: Auth::pass(password),
        addresses: vec![ip("10.0.0.1")],
    }
    .to_bytes(ip("192.168.200.2"), ip("224.0.0.18"), Variant::Plain)
}

fn packet(ttl: u8, bytes: Vec<u8>) -> Input {
    Input::Packet {
        interface: "eth0".into(),
        src: ip("192.168.200.2"),
        dst: ip("224.0.0.18"),
        ttl,
        bytes,
    }
}

fn node() -> Node {
    let mut node = Node::new(Instant::ZERO, &read(CONF), &ifaces(1)).unwrap();
    while node.poll_output().is_some() {}
    node
}

#[test]
fn rejected_adverts_are_counted_by_reason_for_the_instance_and_the_node() {
    let mut node = node();
    let now = Instant::from_nanos(1_000_000_000);
    // Twice a TTL of 254, once a wrong password, once an unknown VRID.
    node.handle(now, packet(254, advert(9, 150, "secret")));
    node.handle(now, packet(254, advert(9, 150, "secret")));
    node.handle(now, packet(255, advert(9, 150, "other")));
    node.handle(now, packet(255, advert(7, 150, "secret")));
    let status = node.status();
    let a = &status.instances[0];
    assert_eq!(a.rejected.get(&Reject::BadTtl), Some(&2));
    assert_eq!(a.rejected.get(&Reject::AuthMismatch), Some(&1));
    assert_eq!(
        a.rejected.get(&Reject::WrongVrid),
        None,
        "not this instance's"
    );
    assert_eq!(
        (
            a.stats.ip_ttl_err,
            a.stats.auth_failure,
            a.stats.advert_rcvd
        ),
        (2, 1, 0),
        "keepalived's counters"
    );
    assert_eq!(status.rejected.get(&Reject::BadTtl), Some(&2));
    assert_eq!(status.rejected.get(&Reject::AuthMismatch), Some(&1));
    assert_eq!(status.rejected.get(&Reject::WrongVrid), Some(&1));
}

#[test]
fn clearing_the_statistics_zeroes_keepalived_s_counters_only() {
    let mut node = node();
    let now = Instant::from_nanos(1_000_000_000);
    node.handle(now, packet(255, advert(9, 150, "secret")));
    node.handle(now, packet(255, advert(9, 0, "secret")));
    node.handle(now, packet(254, advert(9, 150, "secret")));
    let before = node.status().instances[0].clone();
    assert_eq!(
        (
            before.stats.advert_rcvd,
            before.stats.pri_zero_rcvd,
            before.stats.ip_ttl_err
        ),
        (2, 1, 1)
    );
    node.clear_stats();
    let after = node.status().instances[0].clone();
    assert_eq!(
        after.stats,
        Default::default(),
        "SIGSTATS_CLEAR zeroes the file's counters"
    );
    assert_eq!(
        after.rejected, before.rejected,
        "holdfast's own reject counts are not keepalived's statistics"
    );
}

#[test]
fn state_by_name_and_the_untracked_interfaces() {
    let mut node = node();
    assert_eq!(node.state("A"), Some(State::Backup));
    assert_eq!(node.state("B"), None);
    assert_eq!(
        node.untracked(),
        [("A".to_string(), "eth9".to_string())],
        "eth9 does not exist: keepalived does not track it"
    );
    // Nothing heard for its master-down interval: Master, by name.
    for _ in 0..10 {
        match node.poll_timeout() {
            Some(t) if node.state("A") != Some(State::Master) => node.handle_timeout(t),
            _ => break,
        }
        while node.poll_output().is_some() {}
    }
    assert_eq!(node.state("A"), Some(State::Master));
}
