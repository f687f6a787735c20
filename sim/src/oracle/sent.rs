//! The adverts a director sends (RFC 3768 §6.4.3, RFC 5798 §6.4.3, as
//! keepalived's `vrrp_state_master_tx` / `vrrp_state_master_rx` send them):
//!
//! - only a Master sends, and each advert is laid out as `wire.rs` says,
//!   with the configured priority (or 0 as it leaves) when no tracker moves
//!   it (`advert_format`);
//! - a Master sends when it becomes Master, then every advertisement
//!   interval after its last advert; at once when it hears a priority-0
//!   advert or one it wins against, or takes a reload; never sooner, never
//!   later (`advert_interval`).

use holdfast_core::config::model::Family;
use holdfast_core::time::Instant;
use holdfast_core::vrrp::instance::{State, Transmit};

use crate::invariants::Invariant;

use super::{secs, wire, Finding, Oracle};

impl Oracle {
    /// Director `d` sends `t` now.
    pub fn sent(&mut self, now: Instant, d: usize, t: &Transmit) -> Vec<Finding> {
        let mut found = Vec::new();
        let dir = &mut self.dirs[d];
        if !dir.running {
            return found;
        }
        let interface = t.interface.clone().unwrap_or_default();
        let vrid = t.bytes.get(1).copied();
        let Some(i) = dir.facts.iter().position(|f| {
            Some(f.vrid) == vrid && f.interface == interface && f.family == Family::of(&t.src)
        }) else {
            found.push(Finding {
                rule: Invariant::AdvertFormat,
                director: d,
                detail: format!(
                    "sent an advert for VRID {vrid:?} on {interface:?} from {}, which no instance has",
                    t.src
                ),
            });
            return found;
        };
        let (f, track) = (&dir.facts[i], &mut dir.tracks[i]);
        let priority = t.bytes.get(2).copied().unwrap_or(0);
        if f.destinations.first() == Some(&t.dst) {
            track.counts.advert_sent += 1;
            track.counts.pri_zero_sent += u64::from(priority == 0);
        }
        let mut wrong = wire::wrong(f, t.src, t.dst, t.ttl, &t.bytes);
        if wrong.is_none() && track.judged && priority != 0 && priority != track.priority {
            wrong = Some(format!(
                "advertised priority {priority}; configured {}, with its trackers {}",
                f.priority, track.priority
            ));
        }
        if let Some(w) = wrong {
            found.push(Finding {
                rule: Invariant::AdvertFormat,
                director: d,
                detail: format!("{}: advert to {} at {}: {w}", f.name, t.dst, secs(now)),
            });
        }
        if priority == 0 {
            track.must_release = false;
            return found; // leaving Master: its own moment
        }
        if track.state == State::Master {
            // keepalived's vrrp_state_master_tx, not an answer: where the
            // refresh of the announcements is checked.
            let periodic = track.garp.periodic
                && track.next_advert == Some(now)
                && track.last_sent != Some(now);
            if let Some(detail) = judge_send(f, track, now) {
                found.push(Finding {
                    rule: Invariant::AdvertInterval,
                    director: d,
                    detail,
                });
                if let Some(due) = track.next_advert {
                    self.reported.insert((d, i, due));
                }
            }
            self.deadlines.extend(record_send(f, track, now));
            if periodic {
                self.garp_periodic(now, d, i);
            }
        } else {
            // Core raises an advert ahead of the state change it comes
            // with: one from a Backup is judged once the instant is over,
            // and must have come with becoming Master.
            track.sends.push(now);
            self.deadlines.push(now);
        }
        found
    }

    /// Judges the adverts sent before `now` by instances that were not
    /// Master when they sent them: each must have become Master that
    /// instant.
    pub(super) fn judge_sends(&mut self, now: Instant) -> Vec<Finding> {
        let mut found = Vec::new();
        for (d, dir) in self.dirs.iter_mut().enumerate() {
            for (f, track) in dir.facts.iter().zip(&mut dir.tracks) {
                let (past, later): (Vec<_>, Vec<_>) = track.sends.drain(..).partition(|&t| t < now);
                track.sends = later;
                for at in past {
                    if track.master_since == Some(at) {
                        if track.state == State::Master {
                            self.deadlines.extend(record_send(f, track, at));
                        }
                        continue;
                    }
                    found.push(Finding {
                        rule: Invariant::AdvertFormat,
                        director: d,
                        detail: format!(
                            "{} sent an advert at {} in state {:?}",
                            f.name,
                            secs(at),
                            track.state
                        ),
                    });
                }
            }
        }
        found
    }
}

/// A Master sent an advert at `at`: the next is due an interval later
/// (returned, as a deadline).
fn record_send(f: &super::spec::Facts, track: &mut super::Track, at: Instant) -> Option<Instant> {
    // Several in one instant (each unicast peer, or answers to several
    // adverts read at once): the next is due an interval after them.
    track.last_sent = Some(at);
    track.loose = false;
    track.garp.periodic = true;
    let every = f.advert_int;
    let cause = format!(
        "{:.6}s after its advert at {}",
        every.as_secs_f64(),
        secs(at)
    );
    track.due_advert(at + every, cause);
    Some(at + every)
}

/// What is wrong with the time of the advert a Master sent at `at`.
fn judge_send(f: &super::spec::Facts, track: &super::Track, at: Instant) -> Option<String> {
    if track.last_sent == Some(at) {
        return None; // one advert to each unicast peer
    }
    match track.next_advert {
        Some(due) if due == at || (track.loose && at <= due) => None,
        Some(due) => Some(format!(
            "{} sent an advert at {}, {} its next was due at {} ({})",
            f.name,
            secs(at),
            if due > at { "before" } else { "after" },
            secs(due),
            track.advert_cause
        )),
        None => Some(format!(
            "{} sent an advert at {} with none due",
            f.name,
            secs(at)
        )),
    }
}

impl super::Track {
    /// The next advert is due at `at`, because of `cause`.
    pub(super) fn due_advert(&mut self, at: Instant, cause: String) {
        self.next_advert = Some(at);
        self.advert_cause = cause;
    }
}

/// A Master's advert is due at once for `cause`.
pub(super) fn at_once(track: &mut super::Track, now: Instant, cause: &str) {
    track.garp.periodic = false;
    track.due_advert(now, format!("{cause} at {}", secs(now)));
}
