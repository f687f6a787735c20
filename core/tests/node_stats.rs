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
    // The statistics file says the same, in keepalived's layout.
    let file = node.stats_file();
    assert_eq!(file, before.stats.keepalived_text(&before.name));
    assert!(file.contains("    TTL: 1\n"), "{file}");
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

/// keepalived's `vrrp_check_packet` order decides the counter: the length,
/// the TTL, the version, the authentication (type known, type, password),
/// the interval, the type, and only then the checksum.
#[test]
fn a_bad_packet_lands_in_the_counter_of_the_first_check_keepalived_makes() {
    let mut node = node();
    let now = Instant::from_nanos(1_000_000_000);
    let good = advert(9, 150, "secret");
    let with = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut b = good.clone();
        f(&mut b);
        b
    };
    // A version this codec does not read, laid out as v3 (no
    // authentication data): the length fits, so the TTL, then the version.
    let mut unknown = Repr {
        version: Version::V3,
        vrid: 9,
        priority: 150,
        adver_int: 100,
        auth: Auth::NONE,
        addresses: vec![ip("10.0.0.1")],
    }
    .to_bytes(ip("192.168.200.2"), ip("224.0.0.18"), Variant::Plain);
    unknown[0] = 0x41;
    let cases: [(u8, Vec<u8>, Reject); 10] = [
        (254, unknown.clone(), Reject::BadTtl),
        (255, unknown, Reject::BadVersion),
        // A flipped password byte: the checksum fails too, but later.
        (255, with(&|b| b[12] ^= 0x01), Reject::AuthMismatch),
        // An authentication type keepalived does not know, then another one.
        (255, with(&|b| b[4] = 7), Reject::InvalidAuthType),
        (255, with(&|b| b[4] = 0), Reject::AuthTypeMismatch),
        // Another type and a wrong TTL: the TTL first.
        (254, with(&|b| b[0] = 0x22), Reject::BadTtl),
        // Another type: after the authentication, before the checksum.
        (255, with(&|b| b[0] = 0x22), Reject::BadType),
        // One byte more than the header says, and a wrong TTL: the length.
        (254, with(&|b| b.push(0)), Reject::Truncated),
        // One address more than the message has.
        (255, with(&|b| b[3] = 2), Reject::Truncated),
        // Only the checksum.
        (255, with(&|b| b[6] ^= 0xff), Reject::BadChecksum),
    ];
    for (ttl, bytes, _) in &cases {
        node.handle(now, packet(*ttl, bytes.clone()));
    }
    let a = node.status().instances[0].clone();
    for (_, _, reason) in &cases {
        let want = cases.iter().filter(|c| c.2 == *reason).count() as u64;
        assert_eq!(
            a.rejected.get(reason),
            Some(&want),
            "{reason}: {:?}",
            a.rejected
        );
    }
    assert_eq!(
        (
            a.stats.auth_failure,
            a.stats.invalid_authtype,
            a.stats.authtype_mismatch,
            a.stats.ip_ttl_err,
            a.stats.invalid_type_rcvd,
            a.stats.packet_len_err,
        ),
        (1, 1, 1, 2, 1, 2)
    );
    // Shorter than a VRRP header: dropped unread, counted by the node only.
    node.handle(now, packet(255, good[..6].to_vec()));
    let status = node.status();
    assert_eq!(
        status.instances[0].rejected.get(&Reject::Truncated),
        Some(&2)
    );
    assert_eq!(status.rejected.get(&Reject::Truncated), Some(&3));
}

/// An advert with another address list lands in keepalived's Address List
/// line; one whose list differs only in its content was counted as
/// received first (keepalived counts before it compares the list).
#[test]
fn another_address_list_is_an_address_list_error() {
    let mut node = node();
    let now = Instant::from_nanos(1_000_000_000);
    let listing = |addresses: &[&str]| {
        Repr {
            version: Version::V2,
            vrid: 9,
            priority: 150,
            adver_int: 1,
            auth: Auth::pass("secret"),
            addresses: addresses.iter().map(|a| ip(a)).collect(),
        }
        .to_bytes(ip("192.168.200.2"), ip("224.0.0.18"), Variant::Plain)
    };
    node.handle(now, packet(255, listing(&["10.0.0.1", "10.0.0.2"])));
    node.handle(now, packet(255, listing(&["10.0.0.2"])));
    let a = node.status().instances[0].clone();
    assert_eq!(a.rejected.get(&Reject::AddressCount), Some(&1));
    assert_eq!(a.rejected.get(&Reject::AddressList), Some(&1));
    assert_eq!((a.stats.addr_list_err, a.stats.advert_rcvd), (2, 1));
    assert!(node.stats_file().contains("    Address List: 2\n"));
}
