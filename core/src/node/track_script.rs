//! A `vrrp_script` run periodically, its rise and fall counted as
//! keepalived counts them.

use crate::config::model::VrrpScript;
use crate::time::Instant;

/// A `vrrp_script` being run periodically.
#[derive(Debug, Clone)]
pub(super) struct TrackScript {
    pub(super) cfg: VrrpScript,
    pub(super) next_run: Instant,
    /// The run in flight and when it times out.
    pub(super) running: Option<(u64, Instant)>,
    pub(super) ok: bool,
    pub(super) successes: u32,
    pub(super) failures: u32,
}

impl TrackScript {
    pub(super) fn new(cfg: &VrrpScript, now: Instant) -> Self {
        // keepalived: one success is enough to start with, unless init_fail.
        TrackScript {
            cfg: cfg.clone(),
            next_run: now,
            running: None,
            ok: !cfg.init_fail,
            successes: 0,
            failures: 0,
        }
    }

    /// Counts a result; true when the status flips (`rise` successes or
    /// `fall` failures in a row).
    pub(super) fn record(&mut self, success: bool) -> bool {
        if success {
            self.successes += 1;
            self.failures = 0;
            if !self.ok && self.successes >= self.cfg.rise {
                self.ok = true;
                return true;
            }
        } else {
            self.failures += 1;
            self.successes = 0;
            if self.ok && self.failures >= self.cfg.fall {
                self.ok = false;
                return true;
            }
        }
        false
    }
}
