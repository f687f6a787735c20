//! Each virtual server's pool, from the real servers' lives as the checker
//! model has them (`checker.rs`), by keepalived's rules (its
//! `update_quorum_state` and `perform_quorum_state`; docs/keepalived.md,
//! "LVS pool, quorum and sorry server"):
//!
//! - the live weight is the sum of the live real servers' weights; a pool
//!   starts with its quorum when the servers alive at the start weigh at
//!   least `quorum + hysteresis` (`set_quorum_states`); it gains it at
//!   `quorum + hysteresis`, and loses it below `quorum − hysteresis` or at
//!   0;
//! - a live real server is in the service with its weight, a dead one is
//!   out, or at weight 0 with `inhibit_on_failure`;
//! - while the quorum is lost, a sorry server is in at weight 1 and the
//!   live real servers are out; otherwise it is out, or at weight 0 with
//!   `sorry_server_inhibit`.
//!
//! Compared with the director's kernel table once each instant is over
//! (`pool_exact`). A virtual server is judged only when every checker of
//! every real server of it is one the model follows; a virtual server
//! group or a sorry server that is also a real server is left to
//! `real_server_pool`; a pool with a `misc_dynamic` script (weights it
//! sets) is judged by no pool rule yet, only its servers' changes
//! (`real_server_exact`).

use std::collections::BTreeMap;
use std::net::IpAddr;

use holdfast_core::config::model::{VirtualServer, VsKey};
use holdfast_core::lvs::{DestKey, ServiceKey, Table};

use crate::invariants::Invariant;

use super::checker::Checkers;
use super::{Finding, Oracle};

/// What the oracle knows of a pool's quorum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Quorum {
    Unknown,
    Held,
    Lost,
}

impl Oracle {
    /// Compares director `d`'s kernel `table` with the pools as the oracle
    /// has them now.
    pub fn pools(&mut self, d: usize, table: &Table) -> Vec<Finding> {
        let mut found = Vec::new();
        let dir = &mut self.dirs[d];
        if !dir.running || dir.paused {
            return found;
        }
        let c = &mut dir.checkers;
        let Some(config) = c.config.clone() else {
            return found;
        };
        for (v, vs) in config.virtual_servers.iter().enumerate() {
            let Some(alive) = lives(c, v, vs) else {
                continue;
            };
            let live: u64 = vs
                .real_servers
                .iter()
                .zip(&alive)
                .filter(|(_, up)| **up)
                .map(|(rs, _)| u64::from(rs.weight))
                .sum();
            let quorum = next_quorum(vs, live, c.quorum(v));
            c.set_quorum(v, quorum);
            let Some(want) = expected(vs, &alive, quorum) else {
                continue;
            };
            let have = dests(table, vs);
            let key = (d, v);
            if have == want {
                self.pool_reported.remove(&key);
                continue;
            }
            if self.pool_reported.insert(key) {
                found.push(Finding {
                    rule: Invariant::PoolExact,
                    director: d,
                    detail: format!(
                        "virtual server #{v} has {} in the kernel; its real servers' lives {alive:?}, live weight {live} and quorum {quorum:?} make {}",
                        show(&have),
                        show(&want)
                    ),
                });
            }
        }
        found
    }
}

/// Each real server of virtual server `v` alive or not, when the model
/// follows every checker of every one of them.
fn lives(c: &Checkers, v: usize, vs: &VirtualServer) -> Option<Vec<bool>> {
    if matches!(vs.key, VsKey::Group { .. }) {
        return None;
    }
    // A `misc_dynamic` script moves weights, which no rule judges yet (its
    // passes and failures are `real_server_exact`'s).
    if vs
        .real_servers
        .iter()
        .any(|rs| rs.checkers.iter().any(|c| c.kind.is_dynamic()))
    {
        return None;
    }
    if let Some(s) = &vs.sorry_server {
        let duplicate = vs
            .real_servers
            .iter()
            .any(|r| r.address == s.address && r.port == s.port);
        if duplicate {
            return None;
        }
    }
    vs.real_servers
        .iter()
        .map(|rs| c.alive_of((v, rs.address, rs.port), rs))
        .collect()
}

/// The quorum after the live weight `live`, from what it was.
pub(super) fn next_quorum(vs: &VirtualServer, live: u64, was: Quorum) -> Quorum {
    let (q, h) = (u64::from(vs.quorum), u64::from(vs.hysteresis));
    if live == 0 || live < q.saturating_sub(h) {
        Quorum::Lost
    } else if live >= q + h {
        Quorum::Held
    } else {
        was
    }
}

/// The destinations the service should have: weight by address and port.
fn expected(vs: &VirtualServer, alive: &[bool], quorum: Quorum) -> Option<BTreeMap<DestKey, u32>> {
    let sorry_in = match (quorum, &vs.sorry_server) {
        (_, None) => false,
        (Quorum::Unknown, Some(_)) => return None,
        (q, Some(_)) => q == Quorum::Lost,
    };
    let mut want = BTreeMap::new();
    for (rs, up) in vs.real_servers.iter().zip(alive) {
        let key = DestKey {
            address: rs.address,
            port: rs.port.unwrap_or(0),
        };
        match (*up, rs.inhibit_on_failure) {
            (true, _) if sorry_in => {}
            (true, _) => {
                want.insert(key, rs.weight);
            }
            (false, true) => {
                want.insert(key, 0);
            }
            (false, false) => {}
        }
    }
    if let Some(s) = &vs.sorry_server {
        let key = DestKey {
            address: s.address,
            port: s.port.unwrap_or(0),
        };
        if sorry_in {
            want.insert(key, 1);
        } else if s.inhibit {
            want.insert(key, 0);
        }
    }
    Some(want)
}

/// The destinations of `vs`'s service in `table` (none when it has no
/// service there).
fn dests(table: &Table, vs: &VirtualServer) -> BTreeMap<DestKey, u32> {
    table
        .services
        .iter()
        .find(|(k, _)| match (k, &vs.key) {
            (
                ServiceKey::Addr { address, port, .. },
                VsKey::Addr {
                    address: a,
                    port: p,
                },
            ) => address == a && port == p,
            (ServiceKey::Fwmark { mark, .. }, VsKey::Fwmark { mark: m }) => mark == m,
            _ => false,
        })
        .map(|(_, s)| s.dests.iter().map(|(k, p)| (*k, p.weight)).collect())
        .unwrap_or_default()
}

fn show(dests: &BTreeMap<DestKey, u32>) -> String {
    if dests.is_empty() {
        return "no destination".into();
    }
    dests
        .iter()
        .map(|(k, w)| format!("{}:{} weight {w}", addr(k.address), k.port))
        .collect::<Vec<_>>()
        .join(", ")
}

fn addr(a: IpAddr) -> String {
    match a {
        IpAddr::V4(v) => v.to_string(),
        IpAddr::V6(v) => format!("[{v}]"),
    }
}
