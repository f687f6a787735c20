//! keepalived's per-instance counters (its `vrrp_stats`, what SIGUSR2
//! writes and exporters read), counted by the oracle from what it saw:
//! adverts received that pass the receive checks (priority 0 among them),
//! adverts sent (an advert to several unicast peers counts once, with the
//! first peer, as keepalived counts it; priority 0 among them), times it
//! became Master and left Master, packets meant for it that it dropped (a
//! bit flipped on the way, ...), and of those, each in the counter of the
//! first receive check it fails, in keepalived's order
//! (`Facts::accepts`); and the packets the director as a whole dropped
//! (`Dir::node_rejected`). Compared whenever a director's process ends
//! and at the end of the run (`counters_agree`) with what a user reads:
//! the statistics file the daemon writes on SIGUSR2 (keepalived's
//! layout, read here line by line), the state each instance reports, and
//! whether each checker's last probe passed as the status (the daemon's
//! dumps) shows it; from a reload on, a director's counters and checkers
//! are not compared.

use std::collections::BTreeMap;

use holdfast_core::check::schedule::Outcome;
use holdfast_core::node::Status;
use holdfast_core::vrrp::instance::State;

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
    pub addr_list_err: u64,
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
    /// `addr_list_err`, for another number of addresses.
    AddrCount,
    /// `addr_list_err`, for an address of the instance's missing: keepalived
    /// has counted the advert in `advert_rcvd` by then.
    AddrList,
}

impl Counts {
    /// Each counter with keepalived's name.
    pub(super) fn fields(&self) -> [(&'static str, u64); 14] {
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
            ("addr_list_err", self.addr_list_err),
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
            Counter::AddrCount => &mut self.addr_list_err,
            Counter::AddrList => {
                self.advert_rcvd += 1;
                &mut self.addr_list_err
            }
        } += 1;
    }
}

/// keepalived's statistics file (`vrrp_print_stats`), read back: each
/// instance's counters by its block's title, each line named by its
/// section and label.
fn read_stats_file(text: &str) -> BTreeMap<String, Counts> {
    let mut out: BTreeMap<String, Counts> = BTreeMap::new();
    let mut instance = None;
    let mut section = "";
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("VRRP Instance: ") {
            instance = Some(name.to_string());
            out.entry(name.to_string()).or_default();
            continue;
        }
        let Some(c) = instance.as_ref().and_then(|n| out.get_mut(n)) else {
            continue;
        };
        let Some((label, value)) = line.trim().split_once(':') else {
            continue;
        };
        if line.starts_with("  ") && !line.starts_with("    ") {
            section = if value.trim().is_empty() { label } else { "" };
        }
        let Ok(n) = value.trim().parse::<u64>() else {
            continue;
        };
        let field = match (section, label) {
            ("Advertisements", "Received") => &mut c.advert_rcvd,
            ("Advertisements", "Sent") => &mut c.advert_sent,
            ("", "Became master") => &mut c.become_master,
            ("", "Released master") => &mut c.release_master,
            ("Packet Errors", "Length") => &mut c.packet_len_err,
            ("Packet Errors", "TTL") => &mut c.ip_ttl_err,
            ("Packet Errors", "Invalid Type") => &mut c.invalid_type_rcvd,
            ("Authentication Errors", "Invalid Type") => &mut c.invalid_authtype,
            ("Authentication Errors", "Type Mismatch") => &mut c.authtype_mismatch,
            ("Authentication Errors", "Failure") => &mut c.auth_failure,
            ("Priority Zero", "Received") => &mut c.pri_zero_rcvd,
            ("Priority Zero", "Sent") => &mut c.pri_zero_sent,
            ("Packet Errors", "Address List") => &mut c.addr_list_err,
            // keepalived 2.2.7 never counts an interval error.
            ("Packet Errors", "Advertisement Interval") => &mut c.rejected,
            _ => continue,
        };
        *field += n;
    }
    out
}

impl Oracle {
    /// Director `d` zeroed its counters (SIGSTATS_CLEAR): keepalived's
    /// start again; holdfast's own count of drops is not among them.
    pub fn stats_cleared(&mut self, d: usize) {
        for t in &mut self.dirs[d].tracks {
            t.counts = Counts {
                rejected: t.counts.rejected,
                ..Counts::default()
            };
        }
    }

    /// Compares what director `d` reports with what the oracle counted and
    /// followed: `stats_file` is the statistics file it would write now,
    /// `state` each instance's state as its dump shows it, `untracked` the
    /// (instance, interface) trackers it says it dropped, `status` its own
    /// drop counts.
    pub fn counters(
        &self,
        d: usize,
        status: &Status,
        stats_file: &str,
        state: &dyn Fn(&str) -> Option<State>,
        untracked: &[(String, String)],
    ) -> Vec<Finding> {
        let dir = &self.dirs[d];
        if !dir.running {
            return Vec::new();
        }
        let mut found = Vec::new();
        let missing: Vec<(String, String)> = dir
            .facts
            .iter()
            .flat_map(|f| f.untracked.iter().map(|i| (f.name.clone(), i.clone())))
            .collect();
        if missing != untracked {
            found.push(Finding {
                rule: Invariant::CountersAgree,
                director: d,
                detail: format!(
                    "it reports the trackers of interfaces it does not have as {untracked:?}; they are {missing:?}"
                ),
            });
        }
        for (f, t) in dir.facts.iter().zip(&dir.tracks) {
            let shown = state(&f.name);
            if shown != Some(t.state) {
                found.push(Finding {
                    rule: Invariant::CountersAgree,
                    director: d,
                    detail: format!(
                        "{} reports its state as {shown:?}; its transitions left it {:?}",
                        f.name, t.state
                    ),
                });
            }
        }
        if dir.reloaded {
            return found;
        }
        // What its status shows of each checker's last probe: the result
        // the oracle counted last.
        let last = dir.checkers.last_results();
        for rs in &status.real_servers {
            for (k, shown) in rs.last.iter().enumerate() {
                let Some(&(pass, dynamic)) = last.get(&((rs.vs, rs.address, rs.port), k)) else {
                    continue;
                };
                let passed = shown.as_ref().map(|o| match o {
                    Outcome::Pass | Outcome::Exit(0) => true,
                    Outcome::Exit(2..=255) => dynamic,
                    _ => false,
                });
                if passed != Some(pass) {
                    found.push(Finding {
                        rule: Invariant::CountersAgree,
                        director: d,
                        detail: format!(
                            "real server {}:{} shows the last probe of its checker {k} as {shown:?}; the last one counted {}",
                            rs.address,
                            rs.port.unwrap_or(0),
                            if pass { "passed" } else { "failed" }
                        ),
                    });
                }
            }
        }
        let file = read_stats_file(stats_file);
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
            let mut core = file.get(&f.name).copied().unwrap_or_default();
            // Not in keepalived's file: holdfast's own count of every drop.
            core.rejected += i.rejected.values().sum::<u64>();
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
