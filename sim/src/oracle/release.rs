//! A graceful stop (SIGTERM): every instance that is Master releases its
//! virtual router with a priority-0 advert before the process goes (RFC
//! 3768 §6.4.3 and RFC 5798 §6.4.3, "Shutdown event": send an advert with
//! priority 0; keepalived's `vrrp_shutdown`), so that its Backups take
//! over after their skew time instead of a whole master-down interval
//! (`master_releases`).

use holdfast_core::time::Instant;
use holdfast_core::vrrp::instance::State;

use crate::invariants::Invariant;

use super::{secs, Finding, Oracle};

impl Oracle {
    /// Director `d` is about to handle SIGTERM: which of its instances
    /// must release.
    pub fn stopping(&mut self, now: Instant, d: usize) {
        for t in &mut self.dirs[d].tracks {
            t.must_release = t.state == State::Master;
        }
        self.owe_stop_notifies(now, d);
        self.owe_omega_scripts(now, d);
    }

    /// Director `d` handled SIGTERM now: a Master that sent no priority-0
    /// advert did not release; a STOP notify that did not run is missing.
    pub fn stopped(&mut self, now: Instant, d: usize) -> Vec<Finding> {
        if !self.dirs[d].running {
            return Vec::new();
        }
        // Everything owed is due by the end of the shutdown's drain.
        let mut found = self.notifies_late(d, now + std::time::Duration::from_nanos(1));
        let dir = &mut self.dirs[d];
        let released = dir
            .facts
            .iter()
            .zip(dir.tracks.iter_mut())
            .filter_map(|(f, t)| std::mem::take(&mut t.must_release).then_some(f))
            .map(|f| Finding {
                rule: Invariant::MasterReleases,
                director: d,
                detail: format!(
                    "{} was Master when the director stopped at {} and sent no priority-0 advert",
                    f.name,
                    secs(now)
                ),
            });
        found.extend(released);
        found
    }
}
