//! keepalived's per-instance counters (its `vrrp_stats`, what SIGUSR2
//! writes and exporters read), counted by the oracle from what it saw:
//! adverts received that pass the receive checks (priority 0 among them),
//! adverts sent (an advert to several unicast peers counts once, with the
//! first peer, as keepalived counts it; priority 0 among them), times it
//! became Master and left Master, and packets meant for it that it
//! dropped (a bit flipped on the way, ...). Compared with core's counters whenever a
//! director's process ends and at the end of the run
//! (`counters_agree`); from a reload on, a director's are not compared.

use holdfast_core::node::Status;

use crate::invariants::Invariant;

use super::{Finding, Oracle};

/// What the oracle counted for one instance.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Counts {
    pub advert_rcvd: u64,
    pub advert_sent: u64,
    pub become_master: u64,
    pub release_master: u64,
    pub pri_zero_rcvd: u64,
    pub pri_zero_sent: u64,
    /// Packets meant for it (interface, family, VRID) that it dropped,
    /// whatever the reason (core's per-instance `rejected`).
    pub rejected: u64,
}

impl Oracle {
    /// Compares what director `d`'s core counted (`status`) with what the
    /// oracle counted.
    pub fn counters(&self, d: usize, status: &Status) -> Vec<Finding> {
        let dir = &self.dirs[d];
        if !dir.running || dir.reloaded {
            return Vec::new();
        }
        let mut found = Vec::new();
        for (f, t) in dir.facts.iter().zip(&dir.tracks) {
            let Some(i) = status.instances.iter().find(|i| i.name == f.name) else {
                continue;
            };
            let s = &i.stats;
            let core = Counts {
                advert_rcvd: s.advert_rcvd,
                advert_sent: s.advert_sent,
                become_master: s.become_master,
                release_master: s.release_master,
                pri_zero_rcvd: s.pri_zero_rcvd,
                pri_zero_sent: s.pri_zero_sent,
                rejected: i.rejected.values().sum(),
            };
            if core != t.counts {
                found.push(Finding {
                    rule: Invariant::CountersAgree,
                    director: d,
                    detail: format!(
                        "{}'s counters are {core:?}; what it received, sent and did makes {:?}",
                        f.name, t.counts
                    ),
                });
            }
        }
        found
    }
}
