//! An instance's source address follows its interface's addresses as
//! keepalived follows them (`core/src/node/addresses.rs`): the primary,
//! then the last other address added, then FAULT until one comes back.
//! The director's own virtual addresses never count.

mod common;

use std::net::IpAddr;

use common::at;
use holdfast_core::node::{Input, Interface, Node, Output};
use holdfast_core::vrrp::instance::State;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn node(extra: &str, ipv4: Option<&str>) -> Node {
    let text = format!(
        "vrrp_instance VI_1 {{\n    interface eth0\n    virtual_router_id 51\n    priority 150\n{extra}    virtual_ipaddress {{\n        10.0.0.100/24\n    }}\n}}\n"
    );
    let cfg = common::read(&text);
    let eth0 = Interface {
        name: "eth0".into(),
        ipv4: ipv4.map(ip),
        ipv6: None,
        up: true,
    };
    Node::new(at(0.0), &cfg, &[eth0]).unwrap()
}

/// Runs the node alone until `until`; returns the source of its last advert.
fn run(node: &mut Node, from: f64, until: f64) -> Option<IpAddr> {
    let mut src = None;
    let mut now = at(from);
    loop {
        while let Some(o) = node.poll_output() {
            if let Output::Transmit(t) = o {
                src = Some(t.src);
            }
        }
        match node.poll_timeout() {
            Some(t) if t <= at(until) => {
                now = t.max(now);
                node.handle_timeout(now);
            }
            _ => return src,
        }
    }
}

fn address(node: &mut Node, t: f64, a: &str, added: bool) {
    node.handle(
        at(t),
        Input::Address {
            interface: "eth0".into(),
            address: ip(a),
            added,
        },
    );
}

fn state(node: &Node) -> State {
    node.state("VI_1").unwrap()
}

#[test]
fn the_source_follows_the_primary_then_the_last_address_then_faults() {
    let mut n = node("", Some("10.0.0.1"));
    assert_eq!(run(&mut n, 0.0, 10.0), Some(ip("10.0.0.1")));
    assert_eq!(state(&n), State::Master);
    address(&mut n, 10.0, "10.0.0.2", true);
    address(&mut n, 10.0, "10.0.0.3", true);
    // Its own virtual address is never a source.
    address(&mut n, 10.0, "10.0.0.100", true);
    address(&mut n, 10.0, "10.0.0.1", false);
    assert_eq!(
        run(&mut n, 10.0, 12.0),
        Some(ip("10.0.0.3")),
        "the last added"
    );
    assert_eq!(state(&n), State::Master);
    address(&mut n, 12.0, "10.0.0.100", false);
    assert_eq!(
        state(&n),
        State::Master,
        "losing a VIP is not losing a source"
    );
    address(&mut n, 12.0, "10.0.0.3", false);
    address(&mut n, 12.0, "10.0.0.2", false);
    assert_eq!(state(&n), State::Fault, "no address left");
    run(&mut n, 12.0, 20.0);
    assert_eq!(state(&n), State::Fault);
    address(&mut n, 20.0, "10.0.0.7", true);
    assert_ne!(state(&n), State::Fault);
    assert_eq!(run(&mut n, 20.0, 30.0), Some(ip("10.0.0.7")));
    assert_eq!(state(&n), State::Master);
}

/// The adverts a Master sends until `until`: (time, source).
fn sent(node: &mut Node, from: f64, until: f64) -> Vec<(f64, IpAddr)> {
    let mut out = Vec::new();
    let mut now = at(from);
    loop {
        while let Some(o) = node.poll_output() {
            if let Output::Transmit(t) = o {
                out.push(((now - at(0.0)).as_secs_f64(), t.src));
            }
        }
        match node.poll_timeout() {
            Some(t) if t <= at(until) => {
                now = t.max(now);
                node.handle_timeout(now);
            }
            _ => return out,
        }
    }
}

/// keepalived swaps the source and sends nothing more: the Master's next
/// advert comes on its schedule, from the new address.
#[test]
fn a_new_source_sends_no_extra_advert() {
    let mut n = node("", Some("10.0.0.1"));
    let before = sent(&mut n, 0.0, 10.5);
    let last = before.last().expect("it advertised").0;
    address(&mut n, 10.5, "10.0.0.2", true);
    address(&mut n, 10.5, "10.0.0.1", false);
    let after = sent(&mut n, 10.5, 12.0);
    assert_eq!(
        after.first(),
        Some(&(last + 1.0, ip("10.0.0.2"))),
        "{after:?}"
    );
}

#[test]
fn an_interface_without_an_address_starts_in_fault() {
    let mut n = node("", None);
    run(&mut n, 0.0, 10.0);
    assert_eq!(state(&n), State::Fault);
    address(&mut n, 10.0, "10.0.0.1", true);
    assert_eq!(run(&mut n, 10.0, 20.0), Some(ip("10.0.0.1")));
    assert_eq!(state(&n), State::Master);
}

/// A configured source address does not follow the interface, as
/// keepalived's `saddr_from_config`.
#[test]
fn a_configured_source_does_not_follow_the_interface() {
    for keyword in ["mcast_src_ip", "unicast_src_ip"] {
        let mut n = node(&format!("    {keyword} 10.0.0.50\n"), None);
        assert_eq!(run(&mut n, 0.0, 10.0), Some(ip("10.0.0.50")), "{keyword}");
        assert_eq!(state(&n), State::Master, "{keyword}");
        address(&mut n, 10.0, "10.0.0.9", true);
        address(&mut n, 10.0, "10.0.0.9", false);
        assert_eq!(state(&n), State::Master, "{keyword}");
    }
}

/// A virtual address the kernel refused is asked for again after a second
/// while the instance is Master, and announced once it is added.
#[test]
fn a_refused_vip_is_retried_and_announced_when_it_arrives() {
    let mut n = node("", Some("10.0.0.1"));
    run(&mut n, 0.0, 10.0);
    assert_eq!(state(&n), State::Master);
    let vip = ip("10.0.0.100");
    let result = |n: &mut Node, t: f64, error: Option<&str>| {
        n.handle(
            at(t),
            Input::VipResult {
                instance: "VI_1".into(),
                address: vip,
                error: error.map(str::to_string),
            },
        );
    };
    result(&mut n, 10.0, Some("Permission denied"));
    let status = n.status();
    assert_eq!(status.instances[0].vip_errors[0].address, vip);
    assert_eq!(status.instances[0].vip_errors[0].attempts, 1);
    // Due a second later: the node asks for the address again.
    assert!(n.poll_timeout().is_some_and(|t| t <= at(11.0)));
    n.handle_timeout(at(11.0));
    let outputs: Vec<Output> = std::iter::from_fn(|| n.poll_output()).collect();
    assert!(
        outputs
            .iter()
            .any(|o| matches!(o, Output::AddVip { vip: v, .. } if v.address == vip)),
        "{outputs:?}"
    );
    result(&mut n, 11.0, None);
    let outputs: Vec<Output> = std::iter::from_fn(|| n.poll_output()).collect();
    assert!(
        outputs.iter().any(
            |o| matches!(o, Output::Announce { addresses, count, .. } if addresses == &vec![vip] && *count > 0)
        ),
        "{outputs:?}"
    );
    assert!(n.status().instances[0].vip_errors.is_empty());
}

fn outputs(node: &mut Node) -> Vec<Output> {
    std::iter::from_fn(|| node.poll_output()).collect()
}

fn found(node: &mut Node, a: &str) {
    node.handle(
        at(0.0),
        Input::Found {
            interface: "eth0".into(),
            address: ip(a),
        },
    );
}

/// A virtual address on its device at start was left by a run that did
/// not stop cleanly: core removes it before anything else, as keepalived
/// does; other addresses found are source candidates. An address owner
/// (priority 255) is Master from the start and keeps its address.
#[test]
fn a_virtual_address_found_at_start_is_removed_unless_its_owner_is_master() {
    let mut n = node("", Some("10.0.0.1"));
    outputs(&mut n);
    found(&mut n, "10.0.0.100");
    found(&mut n, "10.0.0.2");
    let out = outputs(&mut n);
    assert!(
        matches!(&out[..], [Output::RemoveVip { instance, vip, dev }]
            if instance == "VI_1" && vip.address == ip("10.0.0.100") && dev == "eth0"),
        "{out:?}"
    );
    address(&mut n, 1.0, "10.0.0.1", false);
    assert_eq!(run(&mut n, 1.0, 10.0), Some(ip("10.0.0.2")), "a candidate");

    let text = "    priority 255\n";
    let mut owner = node(text, Some("10.0.0.1"));
    assert_eq!(state(&owner), State::Master);
    found(&mut owner, "10.0.0.100");
    let out = outputs(&mut owner);
    assert!(
        !out.iter().any(|o| matches!(o, Output::RemoveVip { .. })),
        "{out:?}"
    );
}

/// A Master's virtual address that someone else removed is added again
/// (core's decision; keepalived instead drops to BACKUP and takes the
/// address back after its skew time, docs/keepalived.md). A Backup's
/// removal is its own doing and changes nothing.
#[test]
fn a_masters_virtual_address_removed_by_someone_else_is_added_again() {
    let mut n = node("", Some("10.0.0.1"));
    run(&mut n, 0.0, 10.0);
    assert_eq!(state(&n), State::Master);
    outputs(&mut n);
    address(&mut n, 10.0, "10.0.0.100", false);
    let out = outputs(&mut n);
    assert!(
        matches!(&out[..], [Output::AddVip { vip, dev, .. }]
            if vip.address == ip("10.0.0.100") && dev == "eth0"),
        "{out:?}"
    );
    // On another interface it is not ours.
    n.handle(
        at(10.0),
        Input::Address {
            interface: "eth1".into(),
            address: ip("10.0.0.100"),
            added: false,
        },
    );
    assert!(outputs(&mut n).is_empty());
    n.handle(at(11.0), Input::Shutdown);
    outputs(&mut n);
    address(&mut n, 11.0, "10.0.0.100", false);
    assert!(outputs(&mut n).is_empty(), "no longer Master");
}

/// A `track_interface` naming an interface that does not exist when the
/// node is built is dropped, as keepalived drops it ("tracked interface
/// eth9 doesn't exist"): the instance is not held in FAULT by it, and the
/// driver can say which ones (`Node::untracked`).
#[test]
fn a_tracked_interface_that_does_not_exist_is_not_tracked() {
    let mut n = node(
        "    track_interface {\n        eth9\n    }\n",
        Some("10.0.0.1"),
    );
    run(&mut n, 0.0, 10.0);
    assert_eq!(state(&n), State::Master);
    assert_eq!(n.untracked(), [("VI_1".to_string(), "eth9".to_string())]);
    // Its later appearance changes nothing.
    n.handle(
        at(10.0),
        Input::Link {
            interface: "eth9".into(),
            up: false,
        },
    );
    run(&mut n, 10.0, 12.0);
    assert_eq!(state(&n), State::Master);
}
