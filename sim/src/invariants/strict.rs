//! Strict invariants, true after every event: a director holds exactly
//! its Masters' addresses; a sync group's members share one state.

use std::collections::{BTreeSet, VecDeque};

use holdfast_core::trace::Record;
use holdfast_core::vrrp::instance::State;

use crate::world::World;

use super::{Invariant, Monitor};

impl Monitor {
    /// The strict checks; each is reported again only after it cleared.
    pub(super) fn strict_checks(&mut self, w: &World, recent: &VecDeque<Record>) {
        let mut active = BTreeSet::new();
        let mut found = Vec::new();
        for d in w.directors.iter().filter(|d| d.node.is_some()) {
            let mut wanted = BTreeSet::new();
            for (i, info) in d.info.iter().enumerate() {
                if d.states[i] == State::Master {
                    wanted.extend(info.vips.iter().copied());
                }
            }
            if wanted != d.vips {
                let missing: Vec<String> =
                    wanted.difference(&d.vips).map(|a| a.to_string()).collect();
                let extra: Vec<String> =
                    d.vips.difference(&wanted).map(|a| a.to_string()).collect();
                found.push((
                    Invariant::VipsFollowMasters,
                    d.name.clone(),
                    format!(
                        "addresses held differ from its Masters' (missing [{}], extra [{}])",
                        missing.join(" "),
                        extra.join(" ")
                    ),
                ));
            }
            for g in 0..d.config.sync_groups.len() {
                let states: BTreeSet<String> = d
                    .info
                    .iter()
                    .zip(&d.states)
                    .filter(|(i, _)| i.group == Some(g))
                    .map(|(i, s)| format!("{}={s:?}", i.name))
                    .collect();
                let distinct: BTreeSet<&str> =
                    states.iter().filter_map(|s| s.split('=').nth(1)).collect();
                if distinct.len() > 1 {
                    let group = &d.config.sync_groups[g].name;
                    found.push((
                        Invariant::SyncGroupAgrees,
                        d.name.clone(),
                        format!(
                            "members of {group} disagree: {}",
                            states.into_iter().collect::<Vec<_>>().join(" ")
                        ),
                    ));
                }
            }
        }
        for (inv, host, detail) in found {
            let key = format!("{inv}/{host}/{detail}");
            if !self.strict.contains(&key) {
                self.report(w.now, inv, vec![host], detail, recent);
            }
            active.insert(key);
        }
        // A strict violation is reported again only after it has cleared.
        self.strict = active;
    }
}
