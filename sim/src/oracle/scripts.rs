//! `vrrp_script` results as keepalived 2.2.7 counts them (`vrrp_track.c`,
//! `vrrp_script_child_thread`; docs/keepalived.md, "Trackers and Fault"),
//! written as the rule a user reads, not as keepalived's counter: until
//! its first result a script is neither passing nor failing, and that
//! first result decides alone; after it, `fall` failures in a row bring a
//! passing script down and `rise` successes in a row bring a failing one
//! up; `init_fail` starts it failing. A script's state is a tracker like a
//! link (`trackers.rs`, named by `spec::script_tracker`): it moves the
//! priority by its weight, or faults the instance.

use std::collections::BTreeMap;

use holdfast_core::config::model::{Config, VrrpScript};
use holdfast_core::time::Instant;

use super::spec::script_tracker;
use super::Oracle;

/// One script as the oracle follows it.
#[derive(Debug, Clone)]
pub(super) struct Script {
    cfg: VrrpScript,
    /// Passing or not; `None` before the first result.
    passing: Option<bool>,
    /// Results in a row against the current state.
    against: u32,
}

/// A director's scripts by name, and the runs in flight: (name, whether
/// the run will succeed) by run id.
#[derive(Debug, Clone, Default)]
pub(super) struct Scripts {
    by_name: BTreeMap<String, Script>,
    runs: BTreeMap<u64, (String, bool)>,
}

impl Scripts {
    /// The scripts of `config`, those of `before` (a reload) kept where
    /// their definition did not change.
    pub(super) fn new(config: &Config, before: Option<&Scripts>) -> Scripts {
        let by_name = config
            .vrrp_scripts
            .iter()
            .map(|cfg| {
                let kept = before
                    .and_then(|b| b.by_name.get(&cfg.name))
                    .filter(|s| s.cfg == *cfg)
                    .cloned();
                let fresh = Script {
                    cfg: cfg.clone(),
                    passing: cfg.init_fail.then_some(false),
                    against: 0,
                };
                (cfg.name.clone(), kept.unwrap_or(fresh))
            })
            .collect();
        Scripts {
            by_name,
            runs: BTreeMap::new(),
        }
    }

    /// Each script that has a state, as a tracker: (name, passing).
    pub(super) fn states(&self) -> impl Iterator<Item = (String, bool)> + '_ {
        self.by_name
            .iter()
            .filter_map(|(name, s)| Some((script_tracker(name), s.passing?)))
    }
}

impl Script {
    /// Counts one result; the new state when it changes.
    fn result(&mut self, success: bool) -> Option<bool> {
        let Some(passing) = self.passing else {
            self.passing = Some(success);
            return Some(success);
        };
        if success == passing {
            self.against = 0;
            return None;
        }
        self.against += 1;
        let needed = if passing {
            self.cfg.fall
        } else {
            self.cfg.rise
        };
        if self.against < needed.max(1) {
            return None;
        }
        self.against = 0;
        self.passing = Some(success);
        Some(success)
    }
}

impl Oracle {
    /// Director `d` starts running script `name` (run `id`); the world
    /// has it `success`.
    pub fn script_started(&mut self, d: usize, id: u64, name: &str, success: bool) {
        let runs = &mut self.dirs[d].scripts.runs;
        runs.insert(id, (name.to_string(), success));
    }

    /// Run `id`'s result reaches director `d`'s core now.
    pub fn script_done(&mut self, now: Instant, d: usize, id: u64) {
        let dir = &mut self.dirs[d];
        let Some((name, success)) = dir.scripts.runs.remove(&id) else {
            return;
        };
        let Some(script) = dir.scripts.by_name.get_mut(&name) else {
            return;
        };
        if let Some(passing) = script.result(success) {
            self.link(now, d, &script_tracker(&name), passing);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script(rise: u32, fall: u32, init_fail: bool) -> Script {
        let cfg = VrrpScript {
            name: "chk".into(),
            script: holdfast_core::config::model::Script::new("/bin/true"),
            interval: std::time::Duration::from_secs(1),
            timeout: std::time::Duration::from_secs(1),
            weight: 0,
            reverse: false,
            rise,
            fall,
            init_fail,
        };
        Script {
            passing: init_fail.then_some(false),
            cfg,
            against: 0,
        }
    }

    fn states(s: &mut Script, results: &str) -> String {
        results
            .chars()
            .map(|c| {
                s.result(c == '1');
                match s.passing {
                    Some(true) => 'P',
                    Some(false) => 'F',
                    None => '-',
                }
            })
            .collect()
    }

    #[test]
    fn first_result_decides_then_rise_and_fall_in_a_row() {
        assert_eq!(states(&mut script(3, 2, false), "0"), "F");
        assert_eq!(states(&mut script(3, 2, false), "1"), "P");
        // Up at the third success in a row; a failure starts over.
        assert_eq!(states(&mut script(3, 2, false), "01101110"), "FFFFFFPP");
        // Down at the second failure in a row.
        assert_eq!(states(&mut script(3, 2, false), "1010011"), "PPPPFFF");
        // init_fail: failing from the start, rise successes to come up.
        assert_eq!(states(&mut script(2, 2, true), "11"), "FP");
    }
}
