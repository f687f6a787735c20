//! `holdfast run` on real interfaces: two daemons with the case study's
//! configurations in network namespaces (root; see `netns/mod.rs`).

mod netns;

use std::time::Duration;

use netns::{available, case_study, wait_for, Lab};

const VG1: [(&str, &str); 3] = [
    ("eth0", "192.168.200.10"),
    ("eth0", "192.168.200.11"),
    ("eth1", "192.168.100.10"),
];
const VG2: [(&str, &str); 3] = [
    ("eth0", "192.168.200.12"),
    ("eth0", "192.168.200.13"),
    ("eth1", "192.168.100.11"),
];

fn holds(lab: &Lab, host: &str, group: &[(&str, &str)]) -> bool {
    group.iter().all(|(dev, a)| lab.has(host, dev, a))
}

fn holds_none(lab: &Lab, host: &str, group: &[(&str, &str)]) -> bool {
    group.iter().all(|(dev, a)| !lab.has(host, dev, a))
}

/// Both started: director 1 is Master of VG1, director 2 of VG2, and each
/// holds exactly its own addresses.
fn elected(lab: &mut Lab) -> (usize, usize) {
    let d1 = lab.holdfast("d1", &case_study(1));
    let d2 = lab.holdfast("d2", &case_study(2));
    let ok = wait_for(Duration::from_secs(8), || {
        holds(lab, "d1", &VG1) && holds(lab, "d2", &VG2)
    });
    assert!(ok.is_some(), "no election:\n{}", lab.logs());
    assert!(
        holds_none(lab, "d1", &VG2) && holds_none(lab, "d2", &VG1),
        "{}",
        lab.logs()
    );
    (d1, d2)
}

#[test]
fn the_case_study_pair_elects_fails_over_on_a_crash_and_preempts_after_a_restart() {
    if !available() {
        return;
    }
    let mut lab = Lab::new("crash");
    let (d1, _) = elected(&mut lab);
    // The client learns director 1's MAC for the VIP.
    let (mac1, mac2) = (lab.mac("d1", "eth0"), lab.mac("d2", "eth0"));
    assert_eq!(
        lab.resolve("192.168.200.10").as_deref(),
        Some(mac1.as_str()),
        "{}",
        lab.logs()
    );
    // SIGKILL: no priority 0; director 2 waits out the master-down interval.
    lab.procs[d1].signal(libc::SIGKILL);
    let took = wait_for(Duration::from_secs(5), || holds(&lab, "d2", &VG1));
    let took = took.unwrap_or_else(|| panic!("no failover:\n{}", lab.logs()));
    assert!(took < Duration::from_millis(3700), "failover took {took:?}");
    // The client's entry moves to director 2's MAC (its gratuitous ARPs).
    let moved = wait_for(Duration::from_secs(1), || {
        lab.neighbour("192.168.200.10").as_deref() == Some(mac2.as_str())
    });
    assert!(
        moved.is_some(),
        "client still at {:?}",
        lab.neighbour("192.168.200.10")
    );
    // A crashed process leaves its addresses (kernel state) ...
    assert!(holds(&lab, "d1", &VG1));
    // ... and a restart removes them before anything else, then preempts
    // after its own master-down interval (3.414 s at priority 150).
    lab.procs[d1].wait_exit(Duration::from_secs(1));
    lab.holdfast("d1", &case_study(1));
    let cleaned = wait_for(Duration::from_secs(2), || holds_none(&lab, "d1", &VG1));
    assert!(cleaned.is_some(), "stale VIPs kept:\n{}", lab.logs());
    let back = wait_for(Duration::from_secs(6), || {
        holds(&lab, "d1", &VG1) && holds_none(&lab, "d2", &VG1)
    });
    let back = back.unwrap_or_else(|| panic!("no preemption:\n{}", lab.logs()));
    assert!(
        back > Duration::from_secs(3),
        "preempted before its master-down interval: {back:?}"
    );
}

#[test]
fn sigterm_releases_at_once_and_the_peer_takes_over_after_the_skew() {
    if !available() {
        return;
    }
    let mut lab = Lab::new("term");
    let (d1, _) = elected(&mut lab);
    lab.procs[d1].signal(libc::SIGTERM);
    let gone = lab.procs[d1].wait_exit(Duration::from_secs(2));
    let gone = gone.unwrap_or_else(|| panic!("still running:\n{}", lab.logs()));
    assert!(
        gone < Duration::from_millis(300),
        "exit took {gone:?} (keepalived: ~1 s)"
    );
    assert!(
        holds_none(&lab, "d1", &VG1),
        "addresses left behind:\n{}",
        lab.logs()
    );
    // Priority 0 received: director 2 waits only the skew time (0.609 s).
    let took = wait_for(Duration::from_secs(3), || holds(&lab, "d2", &VG1));
    let took = took.unwrap_or_else(|| panic!("no takeover:\n{}", lab.logs()));
    assert!(took < Duration::from_millis(1200), "takeover took {took:?}");
}

#[test]
fn link_down_on_eth1_moves_vg1_as_a_whole() {
    if !available() {
        return;
    }
    let mut lab = Lab::new("link");
    elected(&mut lab);
    lab.link("d1", "eth1", false);
    let moved = wait_for(Duration::from_secs(6), || {
        holds(&lab, "d2", &VG1) && holds_none(&lab, "d1", &VG1)
    });
    assert!(moved.is_some(), "VG1 did not move:\n{}", lab.logs());
    // VG2 stays with director 2; director 1 is in FAULT for both groups.
    assert!(holds(&lab, "d2", &VG2));
    lab.link("d1", "eth1", true);
    let back = wait_for(Duration::from_secs(6), || holds(&lab, "d1", &VG1));
    assert!(back.is_some(), "VG1 did not come back:\n{}", lab.logs());
}
