//! The election rules, checked at every transition (RFC 3768 §6.4, RFC
//! 5798 §6.4, keepalived's `vrrp_state_backup` / `vrrp_state_master_rx`
//! and its sync groups):
//!
//! - a Backup's master-down interval starts when it enters Backup and again
//!   at each advert it must respect: one of higher or equal priority, or any
//!   with `nopreempt`; a priority-0 advert leaves only the skew time; an
//!   advert of lower priority is ignored (that is how a Backup preempts),
//!   except with `preempt_delay`, until that long after the first lower
//!   priority heard since it entered Backup or last heard one at or
//!   above its own (keepalived's `preempt_time`);
//! - a Backup becomes Master exactly when that interval runs out
//!   (`takeover_early` if sooner, `takeover_missing` if it has not by
//!   then); a sync group goes Master when the last of its members' intervals
//!   runs out, all members at once;
//! - a Master that hears an advert that wins (higher priority, or equal
//!   from a higher address) becomes Backup at once, and only then
//!   (`master_yields`); its sync group follows it.

use std::net::IpAddr;

use holdfast_core::config::model::Family;
use holdfast_core::time::Instant;
use holdfast_core::vrrp::instance::{Reason, State};

use crate::invariants::Invariant;

use super::advert::Advert;
use super::{secs, sent, Finding, Oracle};

impl Oracle {
    /// An advert reaches director `d` on `interface` now (before core
    /// handles it).
    pub fn packet(
        &mut self,
        now: Instant,
        d: usize,
        interface: &str,
        (src, dst): (IpAddr, IpAddr),
        ttl: u8,
        bytes: &[u8],
    ) {
        let advert = Advert::read(src, dst, bytes);
        let dir = &mut self.dirs[d];
        if !dir.running {
            return;
        }
        let mut lower_heard = Vec::new();
        let unread = advert.as_ref().is_none_or(|a| {
            !a.length_ok || !(2..=3).contains(&a.version) || (a.version == 2 && !src.is_ipv4())
        });
        let (mut meant_by, mut dropped_by) = (0, 0);
        for (i, (f, t)) in dir.facts.iter().zip(&mut dir.tracks).enumerate() {
            // Meant for it (its interface, family and the VRID in byte 1,
            // whatever else the packet says; a whole header, or
            // keepalived drops it unread) but not taken: a reject.
            let meant = f.interface == interface
                && Some(&f.vrid) == bytes.get(1)
                && Family::of(&src) == f.family;
            let Some(a) = advert.as_ref().filter(|_| meant) else {
                continue;
            };
            meant_by += 1;
            if let Err(counter) = f.accepts(ttl, a) {
                t.counts.rejected += 1;
                t.counts.count(counter);
                dropped_by += 1;
                continue;
            }
            t.counts.advert_rcvd += 1;
            t.counts.pri_zero_rcvd += u64::from(a.priority == 0);
            // An interval that ran out before this advert: it has wanted
            // Master since then.
            if t.state == State::Backup {
                if let Some(due) = t.deadline.filter(|due| *due < now) {
                    t.wants_since.get_or_insert(due);
                }
            }
            match t.state {
                State::Backup if a.priority == 0 => {
                    t.deadline = Some(now + f.skew(t.priority, t.interval));
                    t.cause = format!("priority 0 from {} at {}", a.src, secs(now));
                    self.deadlines.extend(t.deadline);
                }
                State::Backup
                    if f.nopreempt
                        || a.priority >= t.priority
                        || (!f.preempt_delay.is_zero()
                            && t.preempt_time.is_none_or(|p| p > now)) =>
                {
                    if !f.preempt_delay.is_zero() {
                        if a.priority >= t.priority {
                            t.preempt_time = None;
                        } else if t.preempt_time.is_none() {
                            t.preempt_time = Some(now + f.preempt_delay);
                        }
                    }
                    if f.version == 3 {
                        t.interval = a.v3_interval().unwrap_or(t.interval);
                    }
                    t.deadline = Some(now + f.master_down(t.priority, t.interval));
                    t.wants_since = None;
                    t.cause = format!("priority {} from {} at {}", a.priority, a.src, secs(now));
                    self.deadlines.extend(t.deadline);
                }
                State::Master
                    if a.priority > 0
                        && f.loses_to(t.priority, a.priority, a.src)
                        && t.yield_at.is_none() =>
                {
                    t.yield_at = Some((now, a.v3_interval()));
                    self.deadlines.push(now);
                }
                State::Master if t.yield_at.is_none() => {
                    // A leaving Master's priority 0, or one it wins
                    // against: it answers at once (keepalived's
                    // vrrp_state_master_rx).
                    let why = format!("priority {} from {}", a.priority, a.src);
                    sent::at_once(t, now, &why);
                    self.deadlines.push(now);
                    // A lower priority (or an equal one from a lower
                    // address): announced again.
                    let lower = a.priority < t.priority
                        || (a.priority == t.priority && f.primary.is_some_and(|me| a.src < me));
                    if a.priority > 0 && lower {
                        lower_heard.push((i, why));
                    }
                }
                _ => {}
            }
        }
        dir.node_rejected += if unread || meant_by == 0 {
            1
        } else {
            dropped_by
        };
        for (i, why) in lower_heard {
            self.garp_lower(now, d, i, &why);
        }
    }

    /// Instance `name` of director `d` went `from` → `to` now; what it
    /// broke, if anything.
    pub fn transition(
        &mut self,
        now: Instant,
        d: usize,
        name: &str,
        from: State,
        to: State,
        reason: &Reason,
    ) -> Vec<Finding> {
        let mut found = Vec::new();
        let Some(i) = self.dirs[d].facts.iter().position(|f| f.name == name) else {
            return found;
        };
        let judged = self.dirs[d].tracks[i].judged;
        let group = self.dirs[d].facts[i].group;
        // An owner's start is judged too, unless a script holds it (a
        // known difference: docs/keepalived.md).
        let f = &self.dirs[d].facts[i];
        let start_judged = judged || (f.priority == 255 && !f.tracks_scripts());
        let starts_master = f.starts_master;
        match (from, to) {
            // Only an address owner that wants MASTER is Master from the
            // start (RFC 5798 §6.4.1, keepalived's vrrp_init_state);
            // everyone else starts as Backup.
            (State::Initialize, State::Master) if start_judged && !starts_master => {
                found.push(Finding {
                    rule: Invariant::TakeoverEarly,
                    director: d,
                    detail: format!(
                        "{name} became Master at {} from Initialize ({reason}), which only an address owner that wants MASTER does",
                        secs(now)
                    ),
                });
            }
            (State::Initialize, State::Backup) if start_judged && starts_master => {
                found.push(Finding {
                    rule: Invariant::TakeoverMissing,
                    director: d,
                    detail: format!(
                        "{name} entered Backup at {} from Initialize ({reason}); an address owner that wants MASTER is Master at once",
                        secs(now)
                    ),
                });
            }
            (State::Backup, State::Master) if judged => {
                if let Some(detail) = self.early(now, d, i, group) {
                    found.push(Finding {
                        rule: Invariant::TakeoverEarly,
                        director: d,
                        detail,
                    });
                }
                if let Some(g) = group {
                    self.dirs[d].group_master_at.insert(g, now);
                }
            }
            (State::Master, State::Backup) => {
                let dir = &mut self.dirs[d];
                let heard = dir.tracks[i].yield_at.is_some_and(|(t, _)| t == now);
                let followed = group.is_some_and(|g| dir.group_yield_at.get(&g) == Some(&now));
                let ok = match reason {
                    Reason::HigherPriority { .. } => heard,
                    Reason::SyncGroup => followed || heard,
                    _ => true,
                };
                // Its group follows it, whether or not the oracle judges it.
                if let (Some(g), Reason::HigherPriority { .. }) = (group, reason) {
                    dir.group_yield_at.insert(g, now);
                }
                if judged && !ok {
                    found.push(Finding {
                        rule: Invariant::MasterYields,
                        director: d,
                        detail: format!(
                            "{name} left Master at {} ({reason}) without hearing an advert that wins",
                            secs(now)
                        ),
                    });
                }
            }
            _ => {}
        }
        // The new state's timers.
        let dir = &mut self.dirs[d];
        let (f, t) = (&dir.facts[i], &mut dir.tracks[i]);
        let learned = t.yield_at.and_then(|(_, v)| v);
        t.counts.become_master += u64::from(to == State::Master);
        t.counts.release_master += u64::from(from == State::Master && to != State::Master);
        t.state = to;
        t.yield_at = None;
        t.deadline = None;
        t.wants_since = None;
        t.next_advert = None;
        t.loose = false;
        if to == State::Master {
            t.master_since = Some(now);
            sent::at_once(t, now, "becoming Master");
            self.deadlines.push(now);
        }
        if from != to && !t.judged {
            // A reload's instance is judged again from here.
            t.judged = f.judged;
        }
        if to == State::Master && from != State::Master {
            self.garp_master(now, d, i);
        } else if from == State::Master && to != State::Master {
            self.garp_left(now, d, i);
        }
        let dir = &mut self.dirs[d];
        let (f, t) = (&dir.facts[i], &mut dir.tracks[i]);
        if to == State::Backup {
            t.preempt_time = None;
            t.interval = match (from, learned) {
                (State::Master, Some(v)) if f.version == 3 => v,
                _ => f.advert_int,
            };
            // Everyone entering Backup counts a whole master-down interval,
            // an address owner coming out of Fault too (keepalived's
            // try_up_instance finds `wantstate` FAULT, not MASTER).
            t.deadline = Some(now + f.master_down(t.priority, t.interval));
            t.cause = format!("entering Backup ({reason}) at {}", secs(now));
            self.deadlines.extend(t.deadline);
        }
        if from != to {
            self.owe_notifies(now, d, i, to);
        }
        found
    }

    /// Why instance `i` of director `d` (in `group`) should not have become
    /// Master now, if it should not have.
    fn early(&self, now: Instant, d: usize, i: usize, group: Option<usize>) -> Option<String> {
        let dir = &self.dirs[d];
        let (f, t) = (&dir.facts[i], &dir.tracks[i]);
        let Some(g) = group else {
            return match t.deadline {
                Some(due) if due == now => None,
                Some(due) => Some(format!(
                    "{} became Master at {} but its master-down interval ({:.6}s, last restarted by {}) runs out at {}",
                    f.name,
                    secs(now),
                    f.master_down(t.priority, t.interval).as_secs_f64(),
                    t.cause,
                    secs(due)
                )),
                None => Some(format!("{} became Master at {} from no countdown", f.name, secs(now))),
            };
        };
        if dir.group_master_at.get(&g) == Some(&now) {
            return None; // its group moved together this instant
        }
        match self.group_ready(d, g) {
            Some(ready) if ready == now => None,
            Some(ready) => Some(format!(
                "{} became Master at {} with its sync group, which may only when the last member's master-down interval runs out, at {}",
                f.name,
                secs(now),
                secs(ready)
            )),
            None => None, // a member the oracle cannot judge, or not all Backup
        }
    }

    /// When sync group `g` of director `d` must go Master: when the last of
    /// its members comes to want it (keepalived's `vrrp_sync_can_goto_master`:
    /// every member wants Master). `None` when a member is not a judged
    /// Backup with a countdown.
    fn group_ready(&self, d: usize, g: usize) -> Option<Instant> {
        let dir = &self.dirs[d];
        let mut ready = Instant::ZERO;
        let mut any = false;
        for (f, t) in dir.facts.iter().zip(&dir.tracks) {
            if f.group != Some(g) {
                continue;
            }
            if !t.judged || t.state != State::Backup {
                return None;
            }
            ready = ready.max(t.wants_since.or(t.deadline)?);
            any = true;
        }
        any.then_some(ready)
    }

    /// What has not happened that should have by `now`: a takeover whose
    /// time has passed, a Master that heard a winner and stayed.
    pub fn check(&mut self, now: Instant) -> Vec<Finding> {
        let mut found = self.judge_sends(now);
        found.extend(self.garp_missing(now));
        found.extend(self.checkers_missing(now));
        found.extend(self.faults(now));
        found.extend(self.notifies_missing(now));
        for d in 0..self.dirs.len() {
            let dir = &self.dirs[d];
            if !dir.running || dir.paused {
                continue;
            }
            for (i, (f, t)) in dir.facts.iter().zip(&dir.tracks).enumerate() {
                if let Some(due) = t.next_advert.filter(|due| *due < now) {
                    if t.state == State::Master && self.reported.insert((d, i, due)) {
                        found.push(Finding {
                            rule: Invariant::AdvertInterval,
                            director: d,
                            detail: format!(
                                "{} is Master and has sent no advert since {} ({})",
                                f.name,
                                secs(due),
                                t.advert_cause
                            ),
                        });
                    }
                }
                if !t.judged {
                    continue;
                }
                let due = match (t.state, f.group) {
                    (State::Backup, None) => t.deadline,
                    (State::Backup, Some(g)) => self.group_ready(d, g),
                    (State::Master, _) => t.yield_at.map(|(at, _)| at),
                    _ => None,
                };
                let Some(due) = due.filter(|due| *due < now) else {
                    continue;
                };
                if !self.reported.insert((d, i, due)) {
                    continue;
                }
                let (rule, detail) = if t.state == State::Master {
                    (
                        Invariant::MasterYields,
                        format!(
                            "{} heard an advert that wins at {} and is still Master",
                            f.name,
                            secs(due)
                        ),
                    )
                } else {
                    let what = match f.group {
                        Some(_) => "its sync group's last master-down interval",
                        None => "its master-down interval",
                    };
                    (
                        Invariant::TakeoverMissing,
                        format!(
                            "{} is still Backup though {what} ran out at {} (last restarted by {})",
                            f.name,
                            secs(due),
                            t.cause
                        ),
                    )
                };
                found.push(Finding {
                    rule,
                    director: d,
                    detail,
                });
            }
        }
        found
    }
}
