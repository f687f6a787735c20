//! What a reload keeps and what it starts again (keepalived's reload,
//! docs/keepalived.md "Reload"): which old instance a new one continues,
//! the addresses new instances send from, the pools and their weights.

mod common;

use std::net::IpAddr;

use common::{at, drive, ifaces, read};
use holdfast_core::check::schedule::Outcome;
use holdfast_core::config::model::CheckerKind;
use holdfast_core::node::{Input, Node, Output};
use holdfast_core::time::Instant;
use holdfast_core::vrrp::instance::{State, Transmit};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn instance(name: &str, vrid: u8, priority: u8) -> String {
    format!(
        "vrrp_instance {name} {{\n interface eth0\n virtual_router_id {vrid}\n priority {priority}\n virtual_ipaddress {{\n  10.0.{vrid}.1/24\n }}\n}}\n"
    )
}

/// Runs `node` alone until `until`, answering nothing.
fn idle(node: &mut Node, now: &mut Instant, until: Instant) {
    drive(node, now, until, |_, _, _| {});
}

#[test]
fn a_renamed_instance_is_a_new_instance_and_starts_again() {
    let mut node = Node::new(Instant::ZERO, &read(&instance("A", 9, 100)), &ifaces(1)).unwrap();
    let mut now = Instant::ZERO;
    idle(&mut node, &mut now, at(10.0));
    assert_eq!(node.state("A"), Some(State::Master));
    // Same interface, VRID and family, another name: keepalived keeps an
    // instance only under its own name.
    node.reload(now, &read(&instance("B", 9, 100)), &ifaces(1))
        .unwrap();
    assert_eq!(node.state("A"), None);
    assert_eq!(
        node.state("B"),
        Some(State::Backup),
        "B starts as a Backup; it does not continue A as Master"
    );
    // The same file again keeps the Master.
    idle(&mut node, &mut now, at(20.0));
    assert_eq!(node.state("B"), Some(State::Master));
    node.reload(now, &read(&instance("B", 9, 100)), &ifaces(1))
        .unwrap();
    assert_eq!(node.state("B"), Some(State::Master));
}

#[test]
fn an_instance_a_reload_adds_sends_from_the_interface_s_address_of_now() {
    let mut node = Node::new(Instant::ZERO, &read(&instance("A", 9, 100)), &ifaces(1)).unwrap();
    let mut now = Instant::ZERO;
    // eth0's address changes after the driver listed the interfaces.
    for (address, added) in [("192.168.200.77", true), ("192.168.200.1", false)] {
        node.handle(
            now,
            Input::Address {
                interface: "eth0".into(),
                address: ip(address),
                added,
            },
        );
    }
    let both = instance("A", 9, 100) + &instance("B", 10, 255);
    node.reload(now, &read(&both), &ifaces(1)).unwrap();
    let mut sources = Vec::new();
    drive(&mut node, &mut now, at(2.0), |_, _, o| {
        if let Output::Transmit(Transmit { src, bytes, .. }) = o {
            sources.push((bytes[1], src));
        }
    });
    assert!(
        sources.contains(&(10, ip("192.168.200.77"))),
        "B (VRID 10, an owner, Master at once) sends from eth0's address now: {sources:?}"
    );
    assert!(
        sources.iter().all(|(_, s)| *s == ip("192.168.200.77")),
        "{sources:?}"
    );
}

const POOL: &str = "virtual_server 10.1.0.1 80 {
 delay_loop 5
 lb_algo wrr
 lb_kind NAT
 protocol TCP
 real_server 10.2.0.1 80 {
  weight 1
  MISC_CHECK {
   misc_path /bin/true
   misc_dynamic
  }
 }
 real_server 10.2.0.2 80 {
  weight 3
  TCP_CHECK {
   connect_timeout 1
  }
 }
 real_server 10.2.0.3 80 {
  weight 4
  TCP_CHECK {
   connect_timeout 1
  }
 }
}
";

/// Weights in the LVS table, by real server address.
fn weights(node: &Node) -> Vec<(String, u32)> {
    node.lvs_table()
        .services
        .values()
        .flat_map(|s| s.dests.iter())
        .map(|(k, p)| (k.address.to_string(), p.weight))
        .collect()
}

/// Answers every probe: MISC_CHECK exits with `exit`, the others pass.
fn answer(node: &mut Node, now: &mut Instant, until: Instant, exit: i32) {
    drive(node, now, until, |node, now, o| {
        if let Output::Probe { id, checker, .. } = o {
            let outcome = if matches!(checker.kind, CheckerKind::MiscCheck(_)) {
                Outcome::Exit(exit)
            } else {
                Outcome::Pass
            };
            node.handle(now, Input::ProbeDone { id, outcome });
        }
    });
}

#[test]
fn a_misc_dynamic_weight_reaches_the_table_and_survives_a_reload_that_keeps_it() {
    let cfg = read(POOL);
    let mut node = Node::with_seed(Instant::ZERO, &cfg, &ifaces(1), 5).unwrap();
    let mut now = Instant::ZERO;
    // Exit status 7 with misc_dynamic: up, weight 7 - 2 = 5.
    answer(&mut node, &mut now, at(30.0), 7);
    assert_eq!(
        weights(&node),
        [
            ("10.2.0.1".to_string(), 5),
            ("10.2.0.2".to_string(), 3),
            ("10.2.0.3".to_string(), 4)
        ]
    );
    assert_eq!(node.status().real_servers[0].weight, 5);
    // A reload that changes 10.2.0.2's configured weight: that one takes
    // the new weight; 10.2.0.1 keeps the weight its check set.
    let cfg2 = read(&POOL.replacen("weight 3", "weight 2", 1));
    node.reload(now, &cfg2, &ifaces(1)).unwrap();
    let status = node.status();
    let w: Vec<u32> = status.real_servers.iter().map(|r| r.weight).collect();
    assert_eq!(w, [5, 2, 4]);
}

#[test]
fn a_reload_that_adds_a_real_server_restarts_the_pools() {
    let cfg = read(POOL);
    let mut node = Node::with_seed(Instant::ZERO, &cfg, &ifaces(1), 5).unwrap();
    let mut now = Instant::ZERO;
    answer(&mut node, &mut now, at(30.0), 0);
    let more = POOL.strip_suffix("}\n").unwrap().to_string()
        + " real_server 10.2.0.4 80 {\n  weight 1\n  TCP_CHECK {\n   connect_timeout 1\n  }\n }\n}\n";
    node.reload(now, &read(&more), &ifaces(1)).unwrap();
    answer(&mut node, &mut now, at(60.0), 0);
    assert_eq!(node.status().real_servers.len(), 4);
    assert!(
        weights(&node).contains(&("10.2.0.4".to_string(), 1)),
        "{:?}",
        weights(&node)
    );
}

#[test]
fn a_reload_that_leaves_the_virtual_servers_alone_leaves_the_pools_running() {
    let cfg = read(&(POOL.to_string() + &instance("A", 9, 100)));
    let mut node = Node::with_seed(Instant::ZERO, &cfg, &ifaces(1), 5).unwrap();
    let mut now = Instant::ZERO;
    answer(&mut node, &mut now, at(30.0), 0);
    let before = node.status().real_servers;
    assert!(before.iter().all(|r| r.last.iter().all(Option::is_some)));
    // Only the VRRP instance changes: the checkers keep their state and
    // their last results, as they would keep running.
    node.reload(
        now,
        &read(&(POOL.to_string() + &instance("A", 9, 120))),
        &ifaces(1),
    )
    .unwrap();
    assert_eq!(node.status().real_servers, before);
}
