//! Announcements across a sync group: a Master that hears a lower
//! priority announces its addresses again, and so does every other member
//! of its group (keepalived's `vrrp_state_master_rx`).

mod common;

use std::net::IpAddr;

use common::{at, drive, ifaces, read};
use holdfast_core::node::{Input, Node, Output};
use holdfast_core::vrrp::checksum::Variant;
use holdfast_core::vrrp::instance::State;
use holdfast_core::vrrp::wire::{Auth, Repr, Version};

const CONF: &str = "vrrp_sync_group G {
 group {
  A
  B
 }
}
vrrp_instance A {
 interface eth0
 virtual_router_id 1
 priority 150
 virtual_ipaddress {
  10.0.1.1/24
 }
}
vrrp_instance B {
 interface eth1
 virtual_router_id 2
 priority 150
 garp_lower_prio_repeat 2
 virtual_ipaddress {
  10.0.2.1/24
 }
}
";

#[test]
fn a_lower_priority_heard_by_one_member_is_answered_by_the_whole_group() {
    let mut node = Node::new(at(0.0), &read(CONF), &ifaces(1)).unwrap();
    let mut now = at(0.0);
    drive(&mut node, &mut now, at(20.0), |_, _, _| {});
    assert_eq!(node.state("A"), Some(State::Master));
    assert_eq!(node.state("B"), Some(State::Master));
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    let bytes = Repr {
        version: Version::V2,
        vrid: 1,
        priority: 100,
        adver_int: 1,
        auth: Auth::NONE,
        addresses: vec![ip("10.0.1.1")],
    }
    .to_bytes(ip("192.168.200.2"), ip("224.0.0.18"), Variant::Plain);
    now = at(20.5);
    node.handle(
        now,
        Input::Packet {
            interface: "eth0".into(),
            src: ip("192.168.200.2"),
            dst: ip("224.0.0.18"),
            ttl: 255,
            bytes,
        },
    );
    let mut announced = Vec::new();
    drive(&mut node, &mut now, at(30.0), |_, now, o| {
        if let Output::Announce {
            instance, count, ..
        } = o
        {
            announced.push((now, instance, count));
        }
    });
    let a = |s: f64, i: &str, c| (at(s), i.to_string(), c);
    assert_eq!(
        announced,
        [
            a(20.5, "A", 5),
            a(20.5, "B", 2),
            a(25.5, "A", 5),
            a(25.5, "B", 2)
        ],
        "at once and after vrrp_garp_lower_prio_delay (5 s), each with its own repeat"
    );
}
