//! The case study's two directors, each a `Node` built from its own config
//! file, on two simulated segments (eth0 and eth1) and a virtual clock.

mod common;

use std::net::IpAddr;
use std::path::Path;

use common::{at, drive, ifaces, load, read};
use holdfast_core::config::{self, LoadOptions};
use holdfast_core::node::{Input, Node, Output};
use holdfast_core::time::Instant;
use holdfast_core::vrrp::instance::{State, Transmit};

struct Director {
    node: Node,
    /// Answers to tracked-script runs, in order (`None`: never answers);
    /// when they run out, runs succeed.
    script_answers: std::collections::VecDeque<Option<bool>>,
    links: [(String, bool); 2],
    /// (time, instance, new state).
    events: Vec<(Instant, String, State)>,
}

/// Two directors whose interfaces of the same name share a segment.
struct Pair {
    now: Instant,
    d: Vec<Director>,
}

impl Pair {
    /// The case study with a `vrrp_script` tracked (unweighted) by VI_1 on
    /// both directors, answered from `answers[d]`.
    fn case_study_with_script(answers: [Vec<Option<bool>>; 2]) -> Pair {
        let mut p = Pair::case_study();
        for (d, (file, n)) in [("director1.conf", 1), ("director2.conf", 2)]
            .into_iter()
            .enumerate()
        {
            let path = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../scenarios/case-study")
                .join(file);
            let text = std::fs::read_to_string(path).unwrap().replace(
                "vrrp_instance VI_1 {",
                "vrrp_instance VI_1 {\n    track_script {\n        chk\n    }",
            ) + "vrrp_script chk {\n    script /usr/local/bin/chk\n    interval 1\n    timeout 1\n    fall 2\n    rise 2\n}\n";
            let cfg = read(&text);
            p.d[d].node = Node::new(Instant::ZERO, &cfg, &ifaces(n)).unwrap();
            p.d[d].script_answers = answers[d].clone().into();
            p.d[d].events.clear();
        }
        p.settle();
        p
    }

    fn case_study() -> Pair {
        let d = [("director1.conf", 1), ("director2.conf", 2)]
            .into_iter()
            .map(|(file, n)| Director {
                node: Node::new(Instant::ZERO, &load(file), &ifaces(n)).unwrap(),
                script_answers: Default::default(),
                links: [("eth0".into(), true), ("eth1".into(), true)],
                events: Vec::new(),
            })
            .collect();
        let mut p = Pair {
            now: Instant::ZERO,
            d,
        };
        p.settle();
        p
    }

    fn link_up(&self, d: usize, name: &str) -> bool {
        self.d[d].links.iter().any(|(n, up)| n == name && *up)
    }

    fn settle(&mut self) {
        for _ in 0..10_000 {
            let mut wire = Vec::new();
            for (i, d) in self.d.iter_mut().enumerate() {
                while let Some(o) = d.node.poll_output() {
                    match o {
                        Output::Transmit(Transmit {
                            interface,
                            src,
                            dst,
                            ttl,
                            bytes,
                        }) => wire.push((i, interface.unwrap(), src, dst, ttl, bytes)),
                        Output::Event(e) => d.events.push((self.now, e.instance, e.to)),
                        Output::RunTrackScript { id, .. } => {
                            if let Some(success) =
                                d.script_answers.pop_front().unwrap_or(Some(true))
                            {
                                d.node.handle(self.now, Input::ScriptDone { id, success });
                            }
                        }
                        _ => {}
                    }
                }
            }
            if wire.is_empty() {
                return;
            }
            for (from, interface, src, dst, ttl, bytes) in wire {
                if !self.link_up(from, &interface) {
                    continue;
                }
                for to in 0..self.d.len() {
                    if to != from && self.link_up(to, &interface) {
                        let input = Input::Packet {
                            interface: interface.clone(),
                            src,
                            dst,
                            ttl,
                            bytes: bytes.clone(),
                        };
                        self.d[to].node.handle(self.now, input);
                    }
                }
            }
        }
        panic!("does not settle");
    }

    fn run_until(&mut self, end: Instant) {
        for _ in 0..100_000 {
            match self.d.iter().filter_map(|d| d.node.poll_timeout()).min() {
                Some(t) if t <= end => {
                    assert!(t >= self.now, "poll_timeout went backwards");
                    self.now = t;
                    for d in &mut self.d {
                        d.node.handle_timeout(t);
                    }
                    self.settle();
                }
                _ => {
                    self.now = end;
                    return;
                }
            }
        }
        panic!("too many timer events");
    }

    fn set_link(&mut self, d: usize, name: &str, up: bool) {
        for l in &mut self.d[d].links {
            if l.0 == name {
                l.1 = up;
            }
        }
        self.d[d].node.handle(
            self.now,
            Input::Link {
                interface: name.into(),
                up,
            },
        );
        self.settle();
    }

    fn states(&self, d: usize) -> Vec<State> {
        ["VI_1", "VI_2", "VI_3", "VI_4"]
            .iter()
            .map(|n| self.d[d].node.state(n).unwrap())
            .collect()
    }

    fn became(&self, d: usize, instance: &str, state: State) -> Option<Instant> {
        self.d[d]
            .events
            .iter()
            .rev()
            .find(|e| e.1 == instance && e.2 == state)
            .map(|e| e.0)
    }
}

use State::{Backup as B, Fault as F, Master as M};

#[test]
fn case_study_converges_each_director_master_of_its_group() {
    let mut p = Pair::case_study();
    p.run_until(at(30.0));
    assert_eq!(p.states(0), [M, M, B, B]);
    assert_eq!(p.states(1), [B, B, M, M]);
    // Both groups' members wait 3 s + (256 − 150)/256 s and go together.
    for (d, inst) in [(0, "VI_1"), (0, "VI_2"), (1, "VI_3"), (1, "VI_4")] {
        assert_eq!(
            p.became(d, inst, M),
            Some(at(3.414062)),
            "{inst} on director {}",
            d + 1
        );
    }
}

#[test]
fn eth1_down_sends_vg1_to_fault_and_director2_takes_both_instances() {
    let mut p = Pair::case_study();
    p.run_until(at(10.0));
    p.set_link(0, "eth1", false);
    // VI_2 and VI_4 are on eth1; each takes its sync group into Fault.
    assert_eq!(p.states(0), [F, F, F, F]);
    p.run_until(at(30.0));
    assert_eq!(p.states(1), [M, M, M, M]);
    // VI_1 on eth0 heard director 1's priority-0 advert and wants master after
    // its skew; VI_2 on eth1 hears nothing until its master-down runs out from
    // the last advert at 9.414062 s. The group goes master when both want it.
    assert_eq!(p.became(1, "VI_1", M), Some(at(9.414062 + 3.609375)));
    assert_eq!(p.became(1, "VI_2", M), Some(at(9.414062 + 3.609375)));
    // The link comes back: director 1 leaves Fault and, with the higher
    // priority, takes VG1 back once its master-down has run out.
    p.set_link(0, "eth1", true);
    p.run_until(at(60.0));
    assert_eq!(p.states(0), [M, M, B, B]);
    assert_eq!(p.states(1), [B, B, M, M]);
}

mod interleavings {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Step {
        /// Let time pass (milliseconds).
        Run(u64),
        /// Set a director's link.
        Link(usize, bool, bool),
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            3 => (1..6000u64).prop_map(Step::Run),
            1 => (0..2usize, any::<bool>(), any::<bool>()).prop_map(|(d, eth1, up)| Step::Link(d, eth1, up)),
        ]
    }

    /// After every step: each sync group's members share one state, and no
    /// deadline lies in the past.
    fn check(p: &Pair) -> Result<(), TestCaseError> {
        for d in 0..2 {
            let s = p.states(d);
            prop_assert_eq!(
                s[0],
                s[1],
                "VG1 members disagree on director {}: {:?}",
                d + 1,
                s
            );
            prop_assert_eq!(
                s[2],
                s[3],
                "VG2 members disagree on director {}: {:?}",
                d + 1,
                s
            );
            for i in p.d[d].node.status().instances {
                // Initialize: held at start-up until its script's first
                // result (keepalived shows that wait as FAULT, unnotified).
                prop_assert!(
                    !i.faulted || matches!(i.state, State::Fault | State::Initialize),
                    "{} is {:?} while its trackers are down",
                    i.name,
                    i.state
                );
            }
            if let Some(t) = p.d[d].node.poll_timeout() {
                prop_assert!(t > p.now, "director {} wants a timeout in the past", d + 1);
            }
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 128, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn groups_agree_and_timeouts_move_forward(
            steps in proptest::collection::vec(step(), 1..40),
            answers in proptest::array::uniform2(proptest::collection::vec(proptest::option::of(any::<bool>()), 0..60)),
        ) {
            let mut p = if answers[0].is_empty() && answers[1].is_empty() {
                Pair::case_study()
            } else {
                Pair::case_study_with_script(answers)
            };
            // A new node may be due at once (its scripts run at start).
            let start = p.now;
            p.run_until(start);
            check(&p)?;
            for s in steps {
                match s {
                    Step::Run(ms) => {
                        let end = p.now + std::time::Duration::from_millis(ms);
                        p.run_until(end);
                    }
                    Step::Link(d, eth1, up) => p.set_link(d, if eth1 { "eth1" } else { "eth0" }, up),
                }
                check(&p)?;
            }
            // With every link up again and the scripts passing, the pair
            // converges back to the case study's layout.
            for d in 0..2 {
                p.d[d].script_answers.clear();
                p.set_link(d, "eth0", true);
                p.set_link(d, "eth1", true);
            }
            let end = p.now + std::time::Duration::from_secs(30);
            p.run_until(end);
            prop_assert_eq!(p.states(0), vec![M, M, B, B]);
            prop_assert_eq!(p.states(1), vec![B, B, M, M]);
        }
    }
}

#[test]
fn notify_scripts_get_keepalived_s_arguments() {
    let text = r#"
vrrp_sync_group VG {
    group { VI_1 VI_2 }
    notify_master "/etc/keepalived/group-master.sh VG"
    notify "/etc/keepalived/group-any.sh"
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 1
    priority 120
    virtual_ipaddress { 10.0.0.10/24 }
    notify_master /etc/keepalived/master.sh
    notify "/etc/keepalived/any.sh" nobody
}
vrrp_instance VI_2 {
    interface eth1
    virtual_router_id 2
    virtual_ipaddress { 10.1.0.10/24 }
}
"#;
    let cfg = read(text);
    let mut node = Node::new(Instant::ZERO, &cfg, &ifaces(1)).unwrap();
    fn drain(node: &mut Node) -> Vec<String> {
        std::iter::from_fn(|| node.poll_output())
            .filter_map(|o| match o {
                Output::RunScript { script, args } => Some(
                    format!("{} {}", script.command, args.join(" "))
                        .trim()
                        .to_string(),
                ),
                _ => None,
            })
            .collect()
    }
    let scripts = drain(&mut node);
    // Start: both members go BACKUP; the group too (no notify_backup here).
    assert_eq!(
        scripts,
        [
            "/etc/keepalived/any.sh INSTANCE VI_1 BACKUP 120",
            "/etc/keepalived/group-any.sh GROUP VG BACKUP 0"
        ]
    );
    while let Some(t) = node.poll_timeout().filter(|&t| t <= at(10.0)) {
        node.handle_timeout(t);
        if node.state("VI_1") == Some(State::Master) {
            break;
        }
    }
    let scripts = drain(&mut node);
    assert_eq!(
        scripts,
        [
            "/etc/keepalived/master.sh",
            "/etc/keepalived/any.sh INSTANCE VI_1 MASTER 120",
            "/etc/keepalived/group-master.sh VG",
            "/etc/keepalived/group-any.sh GROUP VG MASTER 0",
        ]
    );
}

#[test]
fn reload_keeps_unchanged_instances_and_releases_removed_ones() {
    let two = "vrrp_instance A {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress { 10.0.0.10/24 }\n}\nvrrp_instance B {\n interface eth0\n virtual_router_id 2\n virtual_ipaddress { 10.0.0.11/24 }\n}\n";
    let mut node = Node::new(Instant::ZERO, &read(two), &ifaces(1)).unwrap();
    while let Some(t) = node.poll_timeout().filter(|&t| t <= at(5.0)) {
        node.handle_timeout(t);
    }
    while node.poll_output().is_some() {}
    assert_eq!(
        (node.state("A"), node.state("B")),
        (Some(State::Master), Some(State::Master))
    );

    // Drop B, keep A as it is.
    let only_a = two.split("vrrp_instance B").next().unwrap();
    node.reload(at(5.0), &read(only_a), &ifaces(1)).unwrap();
    let out: Vec<Output> = std::iter::from_fn(|| node.poll_output()).collect();
    assert_eq!(
        node.state("A"),
        Some(State::Master),
        "unchanged: still master, no election"
    );
    assert_eq!(node.state("B"), None);
    // B released: a priority-0 advert for VRID 2, its address removed, STOP.
    assert!(
        out.iter()
            .any(|o| matches!(o, Output::Transmit(Transmit { bytes, .. }) if bytes[1] == 2 && bytes[2] == 0)),
        "{out:?}"
    );
    assert!(out
        .iter()
        .any(|o| matches!(o, Output::RemoveVip { instance, .. } if instance == "B")));
    assert!(
        !out.iter()
            .any(|o| matches!(o, Output::Event(e) if e.instance == "A")),
        "A must not move: {out:?}"
    );

    // A bad reload changes nothing.
    let bad = only_a.replace("eth0", "eth9");
    assert!(node.reload(at(6.0), &read(&bad), &ifaces(1)).is_err());
    assert_eq!(node.state("A"), Some(State::Master));
}

#[test]
fn tracked_script_failures_fault_the_instance_and_a_success_restores_it() {
    let text = "vrrp_script chk {\n script /usr/local/bin/chk\n interval 2\n timeout 1\n fall 2\n rise 1\n}\nvrrp_instance A {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress { 10.0.0.10/24 }\n track_script {\n  chk\n }\n}\n";
    let cfg = read(text);
    let mut node = Node::new(Instant::ZERO, &cfg, &ifaces(1)).unwrap();
    // Answers each run with the next result; `None` never answers.
    let mut answers = vec![
        Some(true),
        Some(false),
        None,
        Some(true),
        Some(true),
        Some(true),
    ]
    .into_iter();
    let mut runs = Vec::new();
    let mut changes = Vec::new();
    let mut now = Instant::ZERO;
    node.handle_timeout(now);
    drive(&mut node, &mut now, at(12.0), |node, now, o| match o {
        Output::RunTrackScript {
            id, name, timeout, ..
        } => {
            assert_eq!(
                (name.as_str(), timeout),
                ("chk", std::time::Duration::from_secs(1))
            );
            runs.push(now);
            if let Some(Some(success)) = answers.next() {
                node.handle(now, Input::ScriptDone { id, success });
            }
        }
        Output::Event(e) => changes.push((now, e.to)),
        _ => {}
    });
    assert_eq!(runs[..4], [at(0.0), at(2.0), at(4.0), at(6.0)]);
    // Failure at 2 s, then the run at 4 s never answers: its timeout at 5 s is
    // the second failure in a row, so A goes to Fault; the success at 6 s
    // (rise 1) brings it back to Backup, and it is master a master-down later.
    assert_eq!(
        changes,
        [
            (at(0.0), State::Backup),
            (at(3.609375), State::Master),
            (at(5.0), State::Fault),
            (at(6.0), State::Backup),
            (at(6.0 + 3.609375), State::Master),
        ]
    );
}

#[test]
fn reload_with_a_new_priority_keeps_the_master_and_advertises_it_at_once() {
    let one = "vrrp_instance A {\n interface eth0\n virtual_router_id 1\n priority 120\n virtual_ipaddress { 10.0.0.10/24 }\n}\n";
    let mut node = Node::new(Instant::ZERO, &read(one), &ifaces(1)).unwrap();
    while let Some(t) = node.poll_timeout().filter(|&t| t <= at(5.0)) {
        node.handle_timeout(t);
    }
    while node.poll_output().is_some() {}
    node.reload(
        at(5.5),
        &read(&one.replace("priority 120", "priority 130")),
        &ifaces(1),
    )
    .unwrap();
    node.handle_timeout(at(5.5));
    let out: Vec<Output> = std::iter::from_fn(|| node.poll_output()).collect();
    assert_eq!(node.state("A"), Some(State::Master));
    assert!(
        !out.iter()
            .any(|o| matches!(o, Output::RemoveVip { .. } | Output::Event(_))),
        "{out:?}"
    );
    assert!(
        out.iter()
            .any(|o| matches!(o, Output::Transmit(Transmit { bytes, .. }) if bytes[2] == 130)),
        "{out:?}"
    );
}

#[test]
fn a_weighted_tracker_lowers_the_master_below_its_peer_which_takes_over() {
    // Director 1 (150) tracks a script with weight -60: failing, it is 90,
    // below director 2's 100 on VI_1.
    let mut p = Pair::case_study();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/case-study/director1.conf");
    let text = std::fs::read_to_string(path).unwrap().replace(
        "vrrp_instance VI_3 {",
        "vrrp_script chk {\n    script /bin/chk\n    interval 1\n    weight -60\n}\nvrrp_instance VI_3 {",
    );
    // Outside any sync group the weight applies: put the tracker on a lone instance.
    let text = text
        .replace(
            "vrrp_sync_group VG1 {\n    group {\n        VI_1\n        VI_2\n    }\n}\n",
            "",
        )
        .replace(
            "virtual_router_id 51\n",
            "virtual_router_id 51\n    track_script {\n        chk\n    }\n",
        );
    let cfg = read(&text);
    p.d[0].node = Node::new(Instant::ZERO, &cfg, &ifaces(1)).unwrap();
    // Director 2 without VG1 too, or its VI_2 would hold VI_1 back.
    let path2 =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/case-study/director2.conf");
    let text2 = std::fs::read_to_string(path2).unwrap().replace(
        "vrrp_sync_group VG1 {\n    group {\n        VI_1\n        VI_2\n    }\n}\n",
        "",
    );
    let cfg2 = config::parse_str(
        "d2.conf",
        &text2,
        &config::MemLoader::new(),
        &LoadOptions::default(),
    )
    .config
    .unwrap();
    assert_eq!(cfg2.sync_groups.len(), 1);
    p.d[1].node = Node::new(Instant::ZERO, &cfg2, &ifaces(2)).unwrap();
    p.d[0].events.clear();
    p.d[1].events.clear();
    // The first two runs pass, every later one fails.
    p.d[0].script_answers = [Some(true), Some(true)]
        .into_iter()
        .chain(std::iter::repeat_n(Some(false), 200))
        .collect();
    p.settle();
    p.run_until(at(1.5));
    p.run_until(at(30.0));
    let s = p.d[0].node.status();
    let vi1 = s.instances.iter().find(|i| i.name == "VI_1").unwrap();
    assert_eq!(vi1.effective_priority, 90);
    assert_eq!(
        p.d[0].node.state("VI_1"),
        Some(State::Backup),
        "90 < 100: director 1 yields VI_1"
    );
    assert_eq!(p.d[1].node.state("VI_1"), Some(State::Master));
    // Once: no flapping between a 150 that answers and a 90 that advertises.
    let d2_vi1: Vec<State> = p.d[1]
        .events
        .iter()
        .filter(|e| e.1 == "VI_1")
        .map(|e| e.2)
        .collect();
    assert_eq!(d2_vi1, [State::Backup, State::Master]);
}

#[test]
fn owners_start_master_as_a_group_and_come_back_from_fault_after_master_down() {
    let text = "vrrp_sync_group G {\n group { A B }\n}\nvrrp_instance A {\n interface eth0\n virtual_router_id 1\n priority 255\n virtual_ipaddress { 10.0.0.10/24 }\n}\nvrrp_instance B {\n interface eth1\n virtual_router_id 2\n priority 255\n virtual_ipaddress { 10.1.0.10/24 }\n}\n";
    let cfg = read(text);
    let mut node = Node::new(Instant::ZERO, &cfg, &ifaces(1)).unwrap();
    assert_eq!(
        (node.state("A"), node.state("B")),
        (Some(State::Master), Some(State::Master))
    );
    node.handle(
        at(2.0),
        Input::Link {
            interface: "eth1".into(),
            up: false,
        },
    );
    assert_eq!(
        (node.state("A"), node.state("B")),
        (Some(State::Fault), Some(State::Fault))
    );
    node.handle(
        at(3.0),
        Input::Link {
            interface: "eth1".into(),
            up: true,
        },
    );
    // keepalived's try_up_instance: the fault left wantstate FAULT, so an
    // owner too waits a whole master-down interval, 3 s and its skew
    // (1/256 s, in keepalived's whole microseconds): measured with
    // keepalived 2.2.7, 3.005 s from the link's return.
    let run_to = |node: &mut Node, until: f64| {
        while let Some(t) = node.poll_timeout().filter(|&t| t <= at(until)) {
            node.handle_timeout(t);
        }
    };
    run_to(&mut node, 3.0 + 3.0 + 0.003905);
    assert_eq!(
        (node.state("A"), node.state("B")),
        (Some(State::Backup), Some(State::Backup))
    );
    run_to(&mut node, 3.0 + 3.0 + 0.003906);
    assert_eq!(
        (node.state("A"), node.state("B")),
        (Some(State::Master), Some(State::Master))
    );
}

/// keepalived's wantstate at start (`vrrp_init_state`): an owner with
/// `state BACKUP` written, or in a sync group with a member that is not an
/// owner, starts in BACKUP and counts a whole master-down interval (3 × 1 s
/// and its skew, 1/256 s); `state MASTER` without a priority is an owner,
/// Master at once.
#[test]
fn an_owner_that_wants_backup_or_shares_a_group_waits_master_down() {
    let backup = "vrrp_instance A {\n interface eth0\n state BACKUP\n virtual_router_id 1\n priority 255\n virtual_ipaddress { 10.0.0.10/24 }\n}\n";
    let node = Node::new(Instant::ZERO, &read(backup), &ifaces(1)).unwrap();
    assert_eq!(node.state("A"), Some(State::Backup));
    assert_eq!(node.poll_timeout(), Some(at(3.0 + 0.003906)));
    let mixed = "vrrp_sync_group G {\n group { A B }\n}\nvrrp_instance A {\n interface eth0\n virtual_router_id 1\n priority 255\n virtual_ipaddress { 10.0.0.10/24 }\n}\nvrrp_instance B {\n interface eth1\n virtual_router_id 2\n priority 100\n virtual_ipaddress { 10.1.0.10/24 }\n}\n";
    let node = Node::new(Instant::ZERO, &read(mixed), &ifaces(1)).unwrap();
    assert_eq!(
        (node.state("A"), node.state("B")),
        (Some(State::Backup), Some(State::Backup))
    );
    assert_eq!(node.poll_timeout(), Some(at(3.0 + 0.003906)));
    let bare = "vrrp_instance A {\n interface eth0\n state MASTER\n virtual_router_id 1\n virtual_ipaddress { 10.0.0.10/24 }\n}\n";
    let node = Node::new(Instant::ZERO, &read(bare), &ifaces(1)).unwrap();
    assert_eq!(node.state("A"), Some(State::Master));
}

#[test]
fn checkers_drive_the_lvs_table_through_the_node() {
    use holdfast_core::check::schedule::Outcome;
    use holdfast_core::lvs::{apply, Op, Table};
    let cfg = load("director1.conf");
    let mut node = Node::with_seed(Instant::ZERO, &cfg, &ifaces(1), 7).unwrap();
    let mut table = Table::default();
    // HTTP servers fail until 200 s; TCP servers pass.
    let mut now = Instant::ZERO;
    let mut ups = Vec::new();
    let mut sorry_seen = false;
    drive(&mut node, &mut now, at(400.0), |node, now, o| match o {
        Output::Lvs(op) => {
            apply(&mut table, &op).unwrap();
            if let Op::AddDest(_, d, _) = &op {
                sorry_seen |= d.address.to_string() == "192.168.100.100";
            }
        }
        Output::Probe { id, port, .. } => {
            // The HTTPS service (port 443) always answers.
            let pass = port == 443 || now >= at(200.0);
            let outcome = if pass {
                Outcome::Pass
            } else {
                Outcome::Fail("digest mismatch".into())
            };
            node.handle(now, Input::ProbeDone { id, outcome });
        }
        Output::RealServerChanged {
            vs, address, up, ..
        } => ups.push((vs, address.to_string(), up)),
        _ => {}
    });
    assert!(
        sorry_seen,
        "both HTTP servers down brought in the sorry server"
    );
    let (rs2, rs3) = ("192.168.100.2".to_string(), "192.168.100.3".to_string());
    assert!(ups.contains(&(0, rs2.clone(), false)) && ups.contains(&(0, rs3.clone(), false)));
    assert!(ups.contains(&(0, rs2, true)) && ups.contains(&(0, rs3, true)));
    // By 400 s both are back and the sorry server is gone.
    let http = &table.services.values().next().unwrap().dests;
    let addrs: Vec<String> = http.keys().map(|k| k.address.to_string()).collect();
    assert_eq!(addrs, ["192.168.100.2", "192.168.100.3"]);
    let status = node.status();
    assert!(status.real_servers.iter().all(|r| r.up));
    assert_eq!(status.real_servers.len(), 4);
}

#[test]
fn omega_runs_the_down_notifiers_on_shutdown() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/case-study/director1.conf");
    let text = std::fs::read_to_string(path)
        .unwrap()
        .replace("    sorry_server 192.168.100.100 80\n", "    sorry_server 192.168.100.100 80\n    omega\n    quorum_down /usr/local/bin/quorum-down\n")
        .replace("        weight 2\n", "        weight 2\n        notify_down /usr/local/bin/rs-down\n");
    let mut node = Node::new(Instant::ZERO, &read(&text), &ifaces(1)).unwrap();
    while node.poll_output().is_some() {}
    node.handle(at(1.0), Input::Shutdown);
    let scripts: Vec<String> = std::iter::from_fn(|| node.poll_output())
        .filter_map(|o| match o {
            Output::RunScript { script, .. } => Some(script.command),
            _ => None,
        })
        .filter(|c| c.starts_with("/usr/local/bin"))
        .collect();
    assert_eq!(
        scripts,
        ["/usr/local/bin/rs-down", "/usr/local/bin/quorum-down"]
    );
}

#[test]
fn wrong_body_removes_192_168_100_2_from_the_http_service_at_keepalived_s_time() {
    use holdfast_core::check::schedule::Outcome;
    use holdfast_core::lvs::Op;
    let cfg = load("director1.conf");
    let mut node = Node::with_seed(Instant::ZERO, &cfg, &ifaces(1), 42).unwrap();
    let mut now = Instant::ZERO;
    // (time, url) of every probe of 192.168.100.2:80, and when it left the table.
    let mut probes = Vec::new();
    let mut removed = None;
    drive(&mut node, &mut now, at(300.0), |node, now, o| match o {
        Output::Probe {
            id,
            address,
            port,
            url,
            ..
        } => {
            // /testurl/test.jsp (url 0) of 192.168.100.2 serves a wrong body from 100 s on.
            let rs2_http = address.to_string() == "192.168.100.2" && port == 80;
            let bad = rs2_http && url == 0 && now >= at(100.0);
            if rs2_http {
                probes.push((now, url));
            }
            let outcome = if bad {
                Outcome::Fail("digest mismatch".into())
            } else {
                Outcome::Pass
            };
            node.handle(now, Input::ProbeDone { id, outcome });
        }
        Output::Lvs(Op::RemoveDest(_, d))
            if d.address.to_string() == "192.168.100.2" && d.port == 80 =>
        {
            removed.get_or_insert(now);
        }
        _ => {}
    });
    // keepalived: the first failing check of url 0 at or after 100 s, then
    // `retry` (3) more, `delay_before_retry` (2 s) apart, answered at once:
    // removed at first_failure + 3 × 2 s.
    let first_failure = probes
        .iter()
        .find(|(t, url)| *url == 0 && *t >= at(100.0))
        .unwrap()
        .0;
    assert_eq!(
        removed,
        Some(first_failure + std::time::Duration::from_secs(6))
    );
    // Checks alternate the two urls every delay_loop (30 s) until then.
    let before: Vec<_> = probes.iter().filter(|(t, _)| *t < first_failure).collect();
    for pair in before.windows(2) {
        assert_eq!(pair[1].0 - pair[0].0, std::time::Duration::from_secs(30));
        assert_ne!(pair[1].1, pair[0].1);
    }
}

#[test]
fn a_reload_does_not_bring_back_a_failed_real_server() {
    use holdfast_core::check::schedule::Outcome;
    use holdfast_core::lvs::Op;
    let cfg = load("director1.conf");
    let mut node = Node::with_seed(Instant::ZERO, &cfg, &ifaces(1), 3).unwrap();
    let mut now = Instant::ZERO;
    // 192.168.100.3:80 (vs 0, rs 1) always fails; run until it is out.
    let run = |node: &mut Node, until: Instant, now: &mut Instant| {
        let mut readded = false;
        drive(node, now, until, |node, now, o| match o {
            Output::Probe {
                id, address, port, ..
            } => {
                let outcome = if (address.to_string().as_str(), port) == ("192.168.100.3", 80) {
                    Outcome::Fail("refused".into())
                } else {
                    Outcome::Pass
                };
                node.handle(now, Input::ProbeDone { id, outcome });
            }
            Output::Lvs(Op::AddDest(_, d, _))
                if d.address.to_string() == "192.168.100.3" && d.port == 80 =>
            {
                readded = true
            }
            _ => {}
        });
        readded
    };
    run(&mut node, at(100.0), &mut now);
    assert!(!node.status().real_servers[1].up);
    // Reload with a change to the other virtual server.
    let mut cfg2 = cfg.clone();
    cfg2.virtual_servers[1].delay_loop = std::time::Duration::from_secs(25);
    node.reload(now, &cfg2, &ifaces(1)).unwrap();
    assert!(
        !run(&mut node, at(200.0), &mut now),
        "the failed server must not come back on reload"
    );
    assert!(!node.status().real_servers[1].up);
}

/// A reload that rebuilds the pools must not reuse probe ids: a result
/// still on its way for a probe from before would be taken for the new
/// probe's answer.
#[test]
fn probe_ids_are_never_reused_across_a_reload() {
    let cfg = load("director1.conf");
    let mut node = Node::with_seed(Instant::ZERO, &cfg, &ifaces(1), 3).unwrap();
    let mut now = Instant::ZERO;
    let mut ids = std::collections::BTreeSet::new();
    let collect = |node: &mut Node,
                   until: Instant,
                   now: &mut Instant,
                   ids: &mut std::collections::BTreeSet<_>| {
        let mut fresh = 0;
        drive(node, now, until, |_, _, o| {
            if let Output::Probe { id, .. } = o {
                assert!(ids.insert(id), "probe id {id:?} issued twice");
                fresh += 1;
            }
        });
        fresh
    };
    // No probe is answered: each times out, as a lost result would.
    assert!(collect(&mut node, at(60.0), &mut now, &mut ids) > 0);
    let mut cfg2 = cfg.clone();
    cfg2.virtual_servers[1].delay_loop = std::time::Duration::from_secs(25);
    node.reload(now, &cfg2, &ifaces(1)).unwrap();
    assert!(collect(&mut node, at(120.0), &mut now, &mut ids) > 0);
}

/// A virtual address on another interface (`dev`) is announced there.
#[test]
fn addresses_are_announced_on_their_own_interface() {
    let cfg = read(
        "vrrp_instance A {\n interface eth0\n virtual_router_id 9\n priority 255\n virtual_ipaddress {\n  10.0.0.1/24\n  10.0.1.1/24 dev eth1\n }\n}\n",
    );
    let mut node = Node::new(Instant::ZERO, &cfg, &ifaces(1)).unwrap();
    let mut now = Instant::ZERO;
    let mut announced = Vec::new();
    drive(&mut node, &mut now, at(1.0), |_, _, o| {
        if let Output::Announce {
            interface,
            addresses,
            ..
        } = o
        {
            announced.push((interface, addresses));
        }
    });
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    assert!(
        announced.contains(&("eth0".to_string(), vec![ip("10.0.0.1")])),
        "{announced:?}"
    );
    assert!(
        announced.contains(&("eth1".to_string(), vec![ip("10.0.1.1")])),
        "{announced:?}"
    );
}
