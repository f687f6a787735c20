//! keepalived's per-instance counters (its `vrrp_stats`, what SIGUSR2
//! writes and exporters read), counted by the oracle from what it saw:
//! adverts received that pass the receive checks (priority 0 among them),
//! adverts sent (an advert to several unicast peers counts once, with the
//! first peer, as keepalived counts it; priority 0 among them), times it
//! became Master and left Master, packets meant for it that it dropped (a
//! bit flipped on the way, ...), and of those, each in the counter of the
//! first receive check it fails, in keepalived's order
//! (`Facts::accepts`); and the packets the director as a whole dropped
//! (`Dir::node_rejected`). Compared with core's counters whenever a
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
    /// Of those, keepalived's counters by reason.
    pub packet_len_err: u64,
    pub ip_ttl_err: u64,
    pub invalid_type_rcvd: u64,
    pub invalid_authtype: u64,
    pub authtype_mismatch: u64,
    pub auth_failure: u64,
}

/// The keepalived counter a dropped packet lands in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counter {
    /// `packet_len_err`.
    PacketLen,
    /// `ip_ttl_err`.
    IpTtl,
    /// `invalid_type_rcvd`.
    InvalidType,
    /// `invalid_authtype`.
    InvalidAuthType,
    /// `authtype_mismatch`.
    AuthTypeMismatch,
    /// `auth_failure`.
    AuthFailure,
}

impl Counts {
    /// Each counter with keepalived's name.
    fn fields(&self) -> [(&'static str, u64); 13] {
        [
            ("advert_rcvd", self.advert_rcvd),
            ("advert_sent", self.advert_sent),
            ("become_master", self.become_master),
            ("release_master", self.release_master),
            ("pri_zero_rcvd", self.pri_zero_rcvd),
            ("pri_zero_sent", self.pri_zero_sent),
            ("rejected", self.rejected),
            ("packet_len_err", self.packet_len_err),
            ("ip_ttl_err", self.ip_ttl_err),
            ("invalid_type_rcvd", self.invalid_type_rcvd),
            ("invalid_authtype", self.invalid_authtype),
            ("authtype_mismatch", self.authtype_mismatch),
            ("auth_failure", self.auth_failure),
        ]
    }

    /// A dropped packet in `counter`, if it has one.
    pub(super) fn count(&mut self, counter: Option<Counter>) {
        let Some(c) = counter else { return };
        *match c {
            Counter::PacketLen => &mut self.packet_len_err,
            Counter::IpTtl => &mut self.ip_ttl_err,
            Counter::InvalidType => &mut self.invalid_type_rcvd,
            Counter::InvalidAuthType => &mut self.invalid_authtype,
            Counter::AuthTypeMismatch => &mut self.authtype_mismatch,
            Counter::AuthFailure => &mut self.auth_failure,
        } += 1;
    }
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
        let node: u64 = status.rejected.values().sum();
        if node != dir.node_rejected {
            found.push(Finding {
                rule: Invariant::CountersAgree,
                director: d,
                detail: format!(
                    "the director dropped {node} packets by its own count; the oracle counted {}",
                    dir.node_rejected
                ),
            });
        }
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
                packet_len_err: s.packet_len_err,
                ip_ttl_err: s.ip_ttl_err,
                invalid_type_rcvd: s.invalid_type_rcvd,
                invalid_authtype: s.invalid_authtype,
                authtype_mismatch: s.authtype_mismatch,
                auth_failure: s.auth_failure,
            };
            let differ: Vec<String> = core
                .fields()
                .iter()
                .zip(t.counts.fields())
                .filter(|(c, o)| c.1 != o.1)
                .map(|(c, o)| format!("{} {} (the oracle counted {})", c.0, c.1, o.1))
                .collect();
            if !differ.is_empty() {
                found.push(Finding {
                    rule: Invariant::CountersAgree,
                    director: d,
                    detail: format!(
                        "{}'s counters differ from what it received, sent and did: {}",
                        f.name,
                        differ.join(", ")
                    ),
                });
            }
        }
        found
    }
}
