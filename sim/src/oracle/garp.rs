//! The announcements of a Master's addresses (gratuitous ARPs, unsolicited
//! NAs) as keepalived 2.2.7 schedules them (`vrrp.c`: `vrrp_state_become_master`,
//! `vrrp_state_master_tx`, `vrrp_state_master_rx`; `vrrp_scheduler.c`: the
//! delayed bursts' threads), judged burst by burst (`garp_schedule`):
//!
//! - on becoming Master, a burst of `vrrp_garp_master_repeat` at once, and
//!   another `vrrp_garp_master_delay` later;
//! - with `vrrp_garp_master_refresh`, a burst of its repeat at the first
//!   periodic advert at or after each refresh time (the check lives in
//!   the advert's own code), the next refresh counted from that advert;
//! - on hearing a lower priority (or an equal one from a lower address),
//!   a burst of `vrrp_garp_lower_prio_repeat` at once and another
//!   `vrrp_garp_lower_prio_delay` later, and the same for every other
//!   member of its sync group with a repeat;
//! - a delayed burst is a timer keepalived never cancels: when it fires,
//!   the instance announces if its addresses are set (it is Master then),
//!   whether or not it left Master in between; one due at the very
//!   instant the instance becomes Master may come or not (two timers at
//!   one instant run in an order the model does not decide);
//! - each burst is one announcement of `count` messages per interface its
//!   addresses live on (an address's `dev`, else the instance's).
//!
//! Nothing else is announced. A director is no longer judged from a
//! reload on (keepalived's reload restarts its timers its own way).

use holdfast_core::time::Instant;
use holdfast_core::vrrp::instance::State;

use crate::invariants::Invariant;

use super::{secs, Finding, Oracle};

/// One instance's announcements, as the oracle expects them.
#[derive(Debug, Clone, Default)]
pub(super) struct Garp {
    /// Bursts owed: (when, messages per address, interface, why). One
    /// whose time has come is owed only if the instance is Master then.
    owed: Vec<(Instant, u32, String, String)>,
    /// The next refresh (keepalived's `garp_refresh_timer`).
    refresh_at: Option<Instant>,
    /// Master: its next advert is a periodic one (`vrrp_state_master_tx`),
    /// not an answer.
    pub periodic: bool,
    /// When it last left Master (with `Track::master_since`: whether it
    /// was Master at a given time).
    left_master: Option<Instant>,
}

impl Oracle {
    /// Owes a burst of `count` per interface of instance `i` of `d` at
    /// `at`, because of `why`.
    fn owe(&mut self, d: usize, i: usize, at: Instant, count: u32, why: String) {
        let dir = &mut self.dirs[d];
        if count == 0 {
            return;
        }
        for dev in &dir.facts[i].announce_on {
            dir.tracks[i]
                .garp
                .owed
                .push((at, count, dev.clone(), why.clone()));
        }
        self.deadlines.push(at);
    }

    /// Instance `i` of director `d` became Master now.
    pub(super) fn garp_master(&mut self, now: Instant, d: usize, i: usize) {
        let g = self.dirs[d].facts[i].garp;
        let why = format!("becoming Master at {}", secs(now));
        self.owe(d, i, now, g.master_repeat, why.clone());
        if !g.master_delay.is_zero() {
            let why = format!("vrrp_garp_master_delay after {why}");
            self.owe(d, i, now + g.master_delay, g.master_repeat, why);
        }
        let t = &mut self.dirs[d].tracks[i];
        t.garp.refresh_at = g.master_refresh.map(|r| now + r);
    }

    /// Instance `i` of director `d` left Master now.
    pub(super) fn garp_left(&mut self, now: Instant, d: usize, i: usize) {
        let t = &mut self.dirs[d].tracks[i];
        t.garp.left_master = Some(now);
        t.garp.refresh_at = None;
        t.garp.periodic = false;
    }

    /// Instance `i` of director `d`, Master, sent its periodic advert now.
    pub(super) fn garp_periodic(&mut self, now: Instant, d: usize, i: usize) {
        let g = self.dirs[d].facts[i].garp;
        let t = &mut self.dirs[d].tracks[i];
        let (Some(every), Some(at)) = (g.master_refresh, t.garp.refresh_at) else {
            return;
        };
        if at <= now {
            t.garp.refresh_at = Some(now + every);
            let why = format!(
                "the first periodic advert after the refresh due at {}",
                secs(at)
            );
            self.owe(d, i, now, g.master_refresh_repeat, why);
        }
    }

    /// Instance `i` of director `d`, Master, heard a lower priority now:
    /// it and the other members of its sync group announce.
    pub(super) fn garp_lower(&mut self, now: Instant, d: usize, i: usize, from: &str) {
        let group = self.dirs[d].facts[i].group;
        let members: Vec<usize> = (0..self.dirs[d].facts.len())
            .filter(|&j| j == i || (group.is_some() && self.dirs[d].facts[j].group == group))
            .collect();
        for j in members {
            let g = self.dirs[d].facts[j].garp;
            if g.lower_prio_repeat == 0 {
                continue;
            }
            let why = format!("{from} heard at {}", secs(now));
            if self.dirs[d].tracks[j].state == State::Master {
                self.owe(d, j, now, g.lower_prio_repeat, why.clone());
            }
            if !g.lower_prio_delay.is_zero() {
                let why = format!("vrrp_garp_lower_prio_delay after {why}");
                self.owe(d, j, now + g.lower_prio_delay, g.lower_prio_repeat, why);
            }
        }
    }

    /// Director `d` announced `count` per address of instance `name` on
    /// `interface` now.
    pub fn announced(
        &mut self,
        now: Instant,
        d: usize,
        name: &str,
        interface: &str,
        count: u32,
    ) -> Option<Finding> {
        let dir = &mut self.dirs[d];
        if !dir.running || dir.reloaded {
            return None;
        }
        let i = dir.facts.iter().position(|f| f.name == name)?;
        let t = &mut dir.tracks[i];
        // A burst owed at once matches before a delayed one due at the
        // same instant (which may or may not come, `garp_missing`).
        let matches = |(at, c, dev, _): &(Instant, u32, String, String)| {
            *at == now && *c == count && dev == interface
        };
        let owed = t
            .garp
            .owed
            .iter()
            .position(|o| matches(o) && !o.3.starts_with("vrrp_garp_"))
            .or_else(|| t.garp.owed.iter().position(matches));
        if let Some(k) = owed {
            t.garp.owed.remove(k);
            return None;
        }
        let due: Vec<String> = t
            .garp
            .owed
            .iter()
            .filter(|(at, ..)| *at <= now)
            .map(|(at, c, dev, why)| format!("{c} on {dev} at {} ({why})", secs(*at)))
            .collect();
        Some(Finding {
            rule: Invariant::GarpSchedule,
            director: d,
            detail: format!(
                "{name} announced {count} per address on {interface} at {} in state {:?}; owed then: {}",
                secs(now),
                t.state,
                if due.is_empty() { "none".to_string() } else { due.join(", ") }
            ),
        })
    }

    /// Bursts whose time is before `now` and that did not come although
    /// the instance was Master then.
    pub(super) fn garp_missing(&mut self, now: Instant) -> Vec<Finding> {
        let mut found = Vec::new();
        for (d, dir) in self.dirs.iter_mut().enumerate() {
            if !dir.running || dir.paused || dir.reloaded {
                continue;
            }
            for (f, t) in dir.facts.iter().zip(&mut dir.tracks) {
                let master_at = |at: Instant| {
                    t.master_since.is_some_and(|since| since <= at)
                        && (t.state == State::Master
                            || t.garp.left_master.is_some_and(|left| left > at))
                };
                let (past, later): (Vec<_>, Vec<_>) =
                    t.garp.owed.drain(..).partition(|(at, ..)| *at < now);
                t.garp.owed = later;
                for (at, count, dev, why) in past {
                    // A delayed burst due at the very instant the instance
                    // became Master: keepalived runs the two timers in an
                    // order of its own, so it may come before (not Master
                    // yet, nothing sent) or after.
                    let tie = why.starts_with("vrrp_garp_") && t.master_since == Some(at);
                    if master_at(at) && !tie {
                        found.push(Finding {
                            rule: Invariant::GarpSchedule,
                            director: d,
                            detail: format!(
                                "{} was Master at {} and did not announce {count} per address on {dev} ({why})",
                                f.name,
                                secs(at)
                            ),
                        });
                    }
                }
            }
        }
        found
    }

    /// Director `d` runs again at `now`: the bursts that fell due in the
    /// pause fire now.
    pub(super) fn garp_resumed(&mut self, d: usize, now: Instant) {
        for t in &mut self.dirs[d].tracks {
            for owed in &mut t.garp.owed {
                owed.0 = owed.0.max(now);
            }
        }
    }
}
