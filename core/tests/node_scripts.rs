//! `vrrp_script` as keepalived 2.2.7 runs it: an instance that a script can
//! fault waits for the script's first result before it starts (and its
//! sync group with it), that first result decides alone, and `reverse`
//! negates a weight.

mod common;

use common::{at, drive, ifaces, read};
use holdfast_core::node::{Input, Node, Output};
use holdfast_core::time::Instant;
use holdfast_core::vrrp::instance::State;

fn conf(track: &str, extra: &str) -> String {
    format!(
        "vrrp_script chk {{\n script /usr/local/bin/chk\n interval 2\n fall 3\n rise 3\n}}\n\
         vrrp_instance A {{\n interface eth0\n virtual_router_id 1\n priority 100\n virtual_ipaddress {{ 10.0.0.10/24 }}\n track_script {{\n  {track}\n }}\n}}\n{extra}"
    )
}

/// Runs `node` to `until`: the first script run is answered `first` at
/// 0.5 s, every later one `later` at once. Returns the state changes.
fn run(node: &mut Node, first: bool, later: bool, until: f64) -> Vec<(Instant, String, State)> {
    let mut now = Instant::ZERO;
    let mut changes = Vec::new();
    let mut held = None;
    node.handle_timeout(now);
    let mut record = |node: &mut Node, now: Instant, o: Output, held: &mut Option<u64>| match o {
        Output::RunTrackScript { id, .. } if held.is_none() && now == Instant::ZERO => {
            *held = Some(id)
        }
        Output::RunTrackScript { id, .. } => {
            node.handle(now, Input::ScriptDone { id, success: later })
        }
        Output::Event(e) => changes.push((now, e.instance, e.to)),
        _ => {}
    };
    drive(node, &mut now, at(0.5), |n, t, o| {
        record(n, t, o, &mut held)
    });
    now = at(0.5);
    let id = held.expect("the script runs at start");
    node.handle(now, Input::ScriptDone { id, success: first });
    drive(node, &mut now, at(until), |n, t, o| {
        record(n, t, o, &mut held)
    });
    changes
}

#[test]
fn an_instance_a_script_can_fault_starts_at_the_script_s_first_result() {
    let mut node = Node::new(Instant::ZERO, &read(&conf("chk", "")), &ifaces(1)).unwrap();
    assert_eq!(node.state("A"), Some(State::Initialize));
    let changes = run(&mut node, true, true, 10.0);
    assert_eq!(
        changes,
        [
            (at(0.5), "A".to_string(), State::Backup),
            (at(0.5 + 3.609375), "A".to_string(), State::Master)
        ],
        "master-down counted from the result"
    );
}

#[test]
fn the_first_failure_faults_at_once_whatever_fall() {
    let mut node = Node::new(Instant::ZERO, &read(&conf("chk", "")), &ifaces(1)).unwrap();
    let changes = run(&mut node, false, false, 10.0);
    assert_eq!(changes, [(at(0.5), "A".to_string(), State::Fault)]);
}

#[test]
fn its_sync_group_waits_with_it() {
    let group = "vrrp_instance B {\n interface eth1\n virtual_router_id 2\n priority 100\n virtual_ipaddress { 10.0.1.10/24 }\n}\nvrrp_sync_group G {\n group {\n  A\n  B\n }\n}\n";
    let mut node = Node::new(Instant::ZERO, &read(&conf("chk", group)), &ifaces(1)).unwrap();
    assert_eq!(node.state("B"), Some(State::Initialize));
    let changes = run(&mut node, true, true, 1.0);
    let started: Vec<_> = changes.iter().map(|c| (c.0, c.1.as_str(), c.2)).collect();
    assert!(
        started.contains(&(at(0.5), "A", State::Backup)),
        "{started:?}"
    );
    assert!(
        started.contains(&(at(0.5), "B", State::Backup)),
        "{started:?}"
    );
}

#[test]
fn a_weighted_script_moves_nothing_until_its_first_result_and_reverse_negates_it() {
    let mut node = Node::new(
        Instant::ZERO,
        &read(&conf("chk weight 10 reverse", "")),
        &ifaces(1),
    )
    .unwrap();
    assert_eq!(
        node.state("A"),
        Some(State::Backup),
        "a weighted script holds nothing"
    );
    assert_eq!(node.priority("A"), Some(100));
    run(&mut node, true, true, 1.0);
    assert_eq!(node.priority("A"), Some(90), "passing, reversed: -10");
    let mut node = Node::new(
        Instant::ZERO,
        &read(&conf("chk weight -10 reverse", "")),
        &ifaces(1),
    )
    .unwrap();
    run(&mut node, false, false, 1.0);
    assert_eq!(node.priority("A"), Some(110), "failing, reversed: +10");
}

#[test]
fn a_reload_while_it_waits_keeps_it_waiting() {
    let cfg = read(&conf("chk", ""));
    let mut node = Node::new(Instant::ZERO, &cfg, &ifaces(1)).unwrap();
    node.handle_timeout(Instant::ZERO);
    let id = std::iter::from_fn(|| node.poll_output())
        .find_map(|o| match o {
            Output::RunTrackScript { id, .. } => Some(id),
            _ => None,
        })
        .expect("the script runs at start");
    node.reload(at(0.2), &cfg, &ifaces(1)).unwrap();
    assert_eq!(node.state("A"), Some(State::Initialize));
    node.handle(at(0.5), Input::ScriptDone { id, success: true });
    assert_eq!(node.state("A"), Some(State::Backup));
}
