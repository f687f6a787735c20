//! What tracked links do (keepalived's trackers and sync groups;
//! docs/keepalived.md, "Trackers and Fault" and "Sync groups").
//!
//! Weights: an instance's effective priority is its configured one moved
//! by its weighted links (`Facts::effective`); its timers, its elections
//! and its adverts use it, and a change moves a running master-down
//! deadline by the change in the interval (`election.rs` and `sent.rs`
//! judge with it).
//!
//! Fault, exactly while a tracked fault holds: an instance is in Fault
//! while one of the links or scripts (`scripts.rs`) that fault it is down
//! (`Facts::fault_links`), and a sync group's members are all in Fault
//! while any member's fault holds; once the instant of a change is over,
//! the states must say so (`fault_exact`). An instance that a missing
//! address could fault, or in a sync group with one, is not judged.

use std::collections::BTreeMap;

use holdfast_core::time::Instant;
use holdfast_core::vrrp::instance::State;

use crate::invariants::Invariant;

use super::{secs, Finding, Oracle};

/// The links of a director, by interface name: up or not, and since when.
pub(super) type Links = BTreeMap<String, (bool, Instant)>;

impl Oracle {
    /// Director `d`'s core hears now that `interface` is up or down.
    pub fn link(&mut self, now: Instant, d: usize, interface: &str, up: bool) {
        let dir = &mut self.dirs[d];
        if dir.links.get(interface).is_none_or(|(was, _)| *was != up) {
            dir.links.insert(interface.to_string(), (up, now));
            self.deadlines.push(now);
            self.reprioritise(now, d);
        }
    }

    /// Takes director `d`'s instances' effective priorities from its links
    /// now; a Backup's running master-down deadline moves by the change in
    /// its interval (not before now), as keepalived moves it.
    pub(super) fn reprioritise(&mut self, now: Instant, d: usize) {
        let dir = &mut self.dirs[d];
        let links = &dir.links;
        // A link core has not heard of is up; a script without a result
        // moves nothing.
        let up = |name: &str| match links.get(name) {
            Some((up, _)) => Some(*up),
            None => (!super::spec::is_script_tracker(name)).then_some(true),
        };
        for (f, t) in dir.facts.iter().zip(&mut dir.tracks) {
            let p = f.effective(&up);
            if p == t.priority {
                continue;
            }
            if let (State::Backup, Some(due)) = (t.state, t.deadline) {
                let before = f.master_down(t.priority, t.interval);
                let after = f.master_down(p, t.interval);
                let moved = if after >= before {
                    due + (after - before)
                } else {
                    Instant::from_nanos(
                        due.as_nanos()
                            .saturating_sub((before - after).as_nanos() as u64),
                    )
                };
                t.deadline = Some(moved.max(now));
                t.cause.push_str(&format!(
                    ", moved by priority {} -> {p} at {}",
                    t.priority,
                    secs(now)
                ));
                self.deadlines.push(moved.max(now));
            }
            t.priority = p;
        }
    }

    /// Instances whose Fault is not what their links say, once the
    /// instant that changed them is over.
    pub(super) fn faults(&mut self, now: Instant) -> Vec<Finding> {
        let mut found = Vec::new();
        for (d, dir) in self.dirs.iter().enumerate() {
            if !dir.running || dir.paused {
                continue;
            }
            // Why each instance is faulted, and since when, on its own.
            let own: Vec<Option<(Option<String>, Instant)>> = dir
                .facts
                .iter()
                .map(|f| {
                    let links = f.fault_links.as_ref()?;
                    let mut why = None;
                    let mut since = Instant::ZERO;
                    for (name, reverse) in links {
                        let (up, at) = dir.links.get(name).copied().unwrap_or((true, since));
                        since = since.max(at);
                        if up == *reverse && why.is_none() {
                            why = Some(format!("{name} is {}", if up { "up" } else { "down" }));
                        }
                    }
                    Some((why, since))
                })
                .collect();
            for (i, (f, t)) in dir.facts.iter().zip(&dir.tracks).enumerate() {
                if t.state == State::Initialize {
                    continue;
                }
                // Its sync group shares one fault.
                let members: Vec<usize> = match f.group {
                    Some(g) => (0..dir.facts.len())
                        .filter(|&j| dir.facts[j].group == Some(g))
                        .collect(),
                    None => vec![i],
                };
                let Some(views) = members
                    .iter()
                    .map(|&j| own[j].clone())
                    .collect::<Option<Vec<_>>>()
                else {
                    continue;
                };
                let since = views.iter().map(|v| v.1).max().unwrap_or(Instant::ZERO);
                let why = views.into_iter().find_map(|v| v.0);
                if since >= now || (why.is_some()) == (t.state == State::Fault) {
                    continue;
                }
                if !self.fault_reported.insert((d, i, since)) {
                    continue;
                }
                found.push(Finding {
                    rule: Invariant::FaultExact,
                    director: d,
                    detail: match why {
                        Some(why) => format!(
                            "{} is {:?} though {why} (since {})",
                            f.name,
                            t.state,
                            secs(since)
                        ),
                        None => format!(
                            "{} is in Fault though every link that faults it is as it should be (since {})",
                            f.name,
                            secs(since)
                        ),
                    },
                });
            }
        }
        found
    }
}
