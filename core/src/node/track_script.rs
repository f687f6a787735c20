//! A `vrrp_script` run periodically, its result counted as keepalived
//! 2.2.7 counts it (`vrrp_script_child_thread`, `vrrp_init_script`): a
//! counter that passes at `rise` and runs from 0 to `rise + fall - 1`, so
//! that `rise` successes in a row bring a failing script up and `fall`
//! failures in a row bring a passing one down; until its first result the
//! script is neither, and that first result decides alone ("one success is
//! enough"; one failure too). With `init_fail` it starts failing.

use crate::config::model::VrrpScript;
use crate::time::Instant;

/// Where a script stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ScriptStatus {
    /// No result yet (keepalived's SCRIPT_INIT_STATE_INIT).
    Pending,
    /// Passing.
    Passing,
    /// Failing.
    Failing,
}

/// A `vrrp_script` being run periodically.
#[derive(Debug, Clone)]
pub(super) struct TrackScript {
    pub(super) cfg: VrrpScript,
    pub(super) next_run: Instant,
    /// The run in flight and when it times out.
    pub(super) running: Option<(u64, Instant)>,
    /// keepalived's `result`: passing while at least `rise`.
    result: u32,
    /// No result yet.
    pending: bool,
}

impl TrackScript {
    pub(super) fn new(cfg: &VrrpScript, now: Instant) -> Self {
        TrackScript {
            cfg: cfg.clone(),
            next_run: now,
            running: None,
            // keepalived: rise - 1, "one success is enough"; 0 with
            // init_fail, "assume failed by config".
            result: if cfg.init_fail {
                0
            } else {
                cfg.rise.max(1) - 1
            },
            pending: !cfg.init_fail,
        }
    }

    /// Where it stands.
    pub(super) fn status(&self) -> ScriptStatus {
        if self.pending {
            ScriptStatus::Pending
        } else if self.result >= self.cfg.rise.max(1) {
            ScriptStatus::Passing
        } else {
            ScriptStatus::Failing
        }
    }

    /// Counts a result; true when the status changes (the first result
    /// always changes it).
    pub(super) fn record(&mut self, success: bool) -> bool {
        let before = self.status();
        let rise = self.cfg.rise.max(1);
        let top = rise + self.cfg.fall.max(1) - 1;
        self.result = match (success, self.result) {
            (true, r) if r + 1 < rise => r + 1,
            (true, _) => top,
            (false, r) if r > rise => r - 1,
            (false, _) => 0,
        };
        self.pending = false;
        self.status() != before
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script(rise: u32, fall: u32, init_fail: bool) -> TrackScript {
        let cfg = VrrpScript {
            name: "chk".into(),
            script: crate::config::model::Script::new("/bin/chk"),
            interval: std::time::Duration::from_secs(1),
            timeout: std::time::Duration::from_secs(1),
            weight: 0,
            reverse: false,
            rise,
            fall,
            init_fail,
        };
        TrackScript::new(&cfg, Instant::ZERO)
    }

    fn run(s: &mut TrackScript, results: &str) -> Vec<ScriptStatus> {
        results
            .chars()
            .map(|c| {
                s.record(c == '1');
                s.status()
            })
            .collect()
    }

    use ScriptStatus::{Failing as F, Passing as P};

    #[test]
    fn the_first_result_decides_whatever_rise_and_fall() {
        let mut s = script(3, 3, false);
        assert_eq!(s.status(), ScriptStatus::Pending);
        assert_eq!(run(&mut s, "0"), [F]);
        let mut s = script(3, 3, false);
        assert_eq!(run(&mut s, "1"), [P]);
    }

    #[test]
    fn then_rise_and_fall_in_a_row() {
        let mut s = script(2, 3, false);
        // Up at once; three failures in a row to go down, a success in
        // between starts the count again; two successes to come back.
        assert_eq!(
            run(&mut s, "100100010011"),
            [P, P, P, P, P, P, F, F, F, F, F, P]
        );
    }

    #[test]
    fn init_fail_starts_failing_and_needs_rise_successes() {
        let mut s = script(2, 1, true);
        assert_eq!(s.status(), ScriptStatus::Failing);
        assert_eq!(run(&mut s, "1101"), [F, P, F, F]);
    }
}
