//! A Master is elected: a director that could be Master (running, its
//! trackers up, hearing no Master) is, within its master-down interval.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use holdfast_core::config::model::Family;
use holdfast_core::trace::Record;
use holdfast_core::vrrp::instance::State;

use crate::world::World;

use super::{overdue, Invariant, Monitor, DUPLICATE_GAP};

impl Monitor {
    /// Whether a Master of (segment, family, vrid) other than director `d`
    /// is active and its adverts reach `d`.
    fn hears_master(w: &World, d: usize, seg: usize, family: Family, vrid: u8) -> bool {
        let host = w.directors[d].host;
        w.directors.iter().enumerate().any(|(e, other)| {
            e != d
                && other.active()
                && other.info.iter().zip(&other.states).any(|(i, s)| {
                    *s == State::Master
                        && i.segment == Some(seg)
                        && i.family == family
                        && i.vrid == vrid
                        && w.topo.reaches(seg, other.host, host)
                })
        })
    }

    /// A director that could be Master must be, within its master-down
    /// interval: running, none of its or its sync-group mates' trackers
    /// failing, and none of them hearing a Master. A Backup that waits too
    /// long and a group stuck in FAULT with its links up are both caught.
    pub(super) fn no_master(&mut self, w: &World, recent: &VecDeque<Record>) {
        let mut waiting = BTreeMap::new();
        for (d, dir) in w.directors.iter().enumerate().filter(|(_, d)| d.active()) {
            for (i, info) in dir.info.iter().enumerate() {
                if dir.states[i] == State::Master {
                    continue;
                }
                let mates: Vec<usize> = match info.group {
                    Some(g) => (0..dir.info.len())
                        .filter(|&j| dir.info[j].group == Some(g))
                        .collect(),
                    None => vec![i],
                };
                let mut slack = Duration::ZERO;
                let eligible = mates.iter().all(|&j| {
                    let m = &dir.info[j];
                    let Some(seg) = m.segment else { return false };
                    match expected_fault(dir, j) {
                        None => return false,
                        Some(s) => slack = slack.max(s),
                    }
                    !Self::hears_master(w, d, seg, m.family, m.vrid)
                });
                if eligible {
                    // An advert already on the wire when the Master went
                    // away still arrives, and restarts the timer.
                    let in_flight = |seg: Option<usize>| {
                        seg.map_or(Duration::ZERO, |s| {
                            let net = w.topo.segments[s].net;
                            Duration::from_secs_f64((net.delay_ms + net.jitter_ms) / 1e3)
                                + DUPLICATE_GAP
                        })
                    };
                    // VRRPv3: a Backup counts with the interval its Master
                    // advertised, which may be another director's.
                    let down = |m: &crate::world::InstInfo| {
                        w.directors
                            .iter()
                            .flat_map(|x| &x.info)
                            .filter(|o| o.vrid == m.vrid && o.family == m.family)
                            .map(|o| o.master_down)
                            .fold(m.master_down, Duration::max)
                    };
                    let bound = mates
                        .iter()
                        .map(|&j| down(&dir.info[j]) + in_flight(dir.info[j].segment))
                        .max()
                        .unwrap_or(info.master_down)
                        + slack;
                    waiting.insert((d, i), bound);
                }
            }
        }
        self.no_master.retain(|k, _| waiting.contains_key(k));
        for ((d, i), bound) in waiting {
            let due = overdue(
                &mut self.no_master,
                &mut self.deadlines,
                (d, i),
                w.now,
                bound,
            );
            if let Some((since, bound)) = due {
                let dir = &w.directors[d];
                let detail = format!(
                    "{} could be Master since t={:.6}s (its links and trackers are up and it hears no Master) but is {:?} past its {:.6}s bound",
                    dir.info[i].name,
                    since.as_nanos() as f64 / 1e9,
                    dir.states[i],
                    bound.as_secs_f64()
                );
                let hosts = vec![dir.name.clone()];
                self.report(w.now, Invariant::MasterElected, hosts, detail, recent);
            }
        }
    }
}

/// Whether instance `j` of `dir` should be out of FAULT by its trackers as
/// the simulation set them: `None` when a link or script it tracks with
/// weight 0 (or its own interface) is down, else the extra time its
/// scripts may take to notice a change (rise or fall runs).
fn expected_fault(dir: &crate::world::Director, j: usize) -> Option<Duration> {
    let cfg = &dir.config;
    let inst = cfg.instances.get(j)?;
    let group = cfg
        .sync_groups
        .iter()
        .find(|g| g.members.contains(&inst.name));
    // keepalived: trackers of sync-group members count as unweighted
    // unless the group says sync_group_tracking_weight.
    let weighted = group.is_none_or(|g| g.sync_group_tracking_weight);
    let link = |name: &str| {
        dir.interfaces
            .iter()
            .find(|i| i.name == name)
            .is_some_and(|i| i.up)
    };
    if !inst.dont_track_primary && inst.interface.as_deref().is_some_and(|i| !link(i)) {
        return None;
    }
    let tracked = inst
        .track_interfaces
        .iter()
        .chain(group.into_iter().flat_map(|g| g.track_interfaces.iter()));
    for t in tracked {
        // keepalived drops a tracker whose interface does not exist.
        if !dir.interfaces.iter().any(|i| i.name == t.name) {
            continue;
        }
        let weight = if weighted { t.weight } else { 0 };
        if weight == 0 && link(&t.name) == t.reverse {
            return None;
        }
    }
    let mut slack = Duration::ZERO;
    let scripts = inst
        .track_scripts
        .iter()
        .chain(group.into_iter().flat_map(|g| g.track_scripts.iter()));
    for t in scripts {
        let Some(s) = cfg.vrrp_scripts.iter().find(|s| s.name == t.name) else {
            continue;
        };
        let weight = if weighted { t.weight } else { 0 };
        let ok = dir.scripts.get(&t.name).copied().unwrap_or(true);
        if weight == 0 && ok == t.reverse {
            return None;
        }
        slack = slack.max(s.interval * (s.rise.max(s.fall) + 1) + s.timeout);
    }
    Some(slack)
}
