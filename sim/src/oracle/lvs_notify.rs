//! keepalived's real-server and pool scripts (`check/ipwrapper.c`,
//! keepalived 2.2.7):
//!
//! - a real server that goes up or down runs its `notify_up` or
//!   `notify_down` (`do_rs_notifies`);
//! - a pool that gains or loses its quorum runs `quorum_up` or
//!   `quorum_down` (`update_quorum_state`; the quorum's rule is the pool
//!   oracle's, `pool::next_quorum`, over the lives the director reports);
//! - at the start, a pool without its quorum that has a sorry server runs
//!   `quorum_down` ("Starting with quorum down"), and one with it nothing;
//! - on SIGTERM, with `omega`, each live real server still in the service
//!   runs its `notify_down` (not one the lost quorum swapped for the sorry
//!   server: `clear_service_rs` skips a server not `set`), then the pool
//!   runs `quorum_down` whatever its quorum was (`update_vs_notifies` marks
//!   it lost as it stops).
//!
//! The runs join the notifies owed (`notify.rs`, rule `notify_scripts`):
//! each must run within its instant, and a run of one of these scripts
//! that nothing owed is a finding. A pool with a `misc_dynamic` checker
//! (its weights move) is not judged.

use std::collections::BTreeSet;

use holdfast_core::config::model::{Config, VirtualServer};
use holdfast_core::time::Instant;

use super::checker::RsKey;
use super::pool::{next_quorum, Quorum};
use super::{secs, Oracle};

/// One pool as these scripts follow it.
#[derive(Debug, Clone)]
struct Pool {
    vs: VirtualServer,
    /// Each real server alive, as the director reported it.
    alive: Vec<bool>,
    quorum: Quorum,
}

/// The real-server and pool scripts of a director.
#[derive(Debug, Clone, Default)]
pub(super) struct LvsNotifies {
    /// The judged pools, by their index in the configuration.
    pools: Vec<(usize, Pool)>,
    /// Every command of these scripts in the judged pools.
    pub(super) commands: BTreeSet<String>,
}

impl LvsNotifies {
    /// The pools of `config`, as they start.
    pub(super) fn new(config: &Config) -> LvsNotifies {
        let mut out = LvsNotifies::default();
        for (v, vs) in config.virtual_servers.iter().enumerate() {
            let dynamic = vs
                .real_servers
                .iter()
                .any(|rs| rs.checkers.iter().any(|c| c.kind.is_dynamic()));
            if dynamic {
                continue;
            }
            // A server with an `alpha` checker starts down; the quorum is
            // held at the start by `quorum + hysteresis` (set_quorum_states).
            let alive: Vec<bool> = vs
                .real_servers
                .iter()
                .map(|rs| rs.checkers.iter().all(|c| !c.alpha))
                .collect();
            let live = live(vs, &alive);
            let held = live >= u64::from(vs.quorum) + u64::from(vs.hysteresis);
            let quorum = if held { Quorum::Held } else { Quorum::Lost };
            let scripts = vs
                .real_servers
                .iter()
                .flat_map(|rs| [&rs.notify_up, &rs.notify_down])
                .flatten()
                .map(|s| s.command.clone())
                .chain(
                    [&vs.quorum_up, &vs.quorum_down]
                        .into_iter()
                        .flatten()
                        .map(|s| s.command.clone()),
                );
            out.commands.extend(scripts);
            out.pools.push((
                v,
                Pool {
                    vs: vs.clone(),
                    alive,
                    quorum,
                },
            ));
        }
        out
    }
}

/// The weight of the live real servers.
fn live(vs: &VirtualServer, alive: &[bool]) -> u64 {
    vs.real_servers
        .iter()
        .zip(alive)
        .filter(|(_, up)| **up)
        .map(|(rs, _)| u64::from(rs.weight))
        .sum()
}

impl Oracle {
    /// Director `d` started now: a pool without its quorum that has a
    /// sorry server owes its `quorum_down`.
    pub(super) fn owe_start_scripts(&mut self, now: Instant, d: usize) {
        let n = &mut self.dirs[d].notifies;
        let mut owed = Vec::new();
        for (v, p) in &n.lvs.pools {
            if let (Quorum::Lost, Some(_), Some(s)) =
                (p.quorum, &p.vs.sorry_server, &p.vs.quorum_down)
            {
                let why = format!("virtual server #{v} started without its quorum");
                owed.push((s.command.clone(), Vec::new(), why, now));
            }
        }
        n.owed.extend(owed);
    }

    /// Director `d` reports real server `rs` alive or not now: its script,
    /// and its pool's when the quorum changes.
    pub(super) fn owe_real_server_scripts(&mut self, now: Instant, d: usize, rs: RsKey, up: bool) {
        let dir = &mut self.dirs[d];
        if dir.reloaded || !dir.running {
            return;
        }
        let n = &mut dir.notifies;
        let Some((_, p)) = n.lvs.pools.iter_mut().find(|(v, _)| *v == rs.0) else {
            return;
        };
        let Some((server, alive)) =
            p.vs.real_servers
                .iter()
                .zip(p.alive.iter_mut())
                .find(|(s, _)| (s.address, s.port) == (rs.1, rs.2))
        else {
            return;
        };
        if *alive == up {
            return;
        }
        *alive = up;
        let word = if up { "up" } else { "down" };
        let why = format!(
            "real server {}:{} went {word} at {}",
            rs.1,
            rs.2.unwrap_or(0),
            secs(now)
        );
        let script = if up {
            &server.notify_up
        } else {
            &server.notify_down
        };
        if let Some(s) = script {
            n.owed.push((s.command.clone(), Vec::new(), why, now));
        }
        let was = p.quorum;
        p.quorum = next_quorum(&p.vs, live(&p.vs, &p.alive), was);
        if p.quorum != was {
            let (script, word) = match p.quorum {
                Quorum::Held => (&p.vs.quorum_up, "gained"),
                _ => (&p.vs.quorum_down, "lost"),
            };
            if let Some(s) = script {
                let why = format!(
                    "virtual server #{} {word} its quorum at {}",
                    rs.0,
                    secs(now)
                );
                n.owed.push((s.command.clone(), Vec::new(), why, now));
            }
        }
    }

    /// SIGTERM reaches director `d` now: `omega` pools owe their live
    /// servers' `notify_down` and their `quorum_down`.
    pub(super) fn owe_omega_scripts(&mut self, now: Instant, d: usize) {
        let n = &mut self.dirs[d].notifies;
        let mut owed = Vec::new();
        for (v, p) in n.lvs.pools.iter().filter(|(_, p)| p.vs.omega) {
            let why = format!("virtual server #{v} stopped at {} under omega", secs(now));
            let swapped = p.quorum != Quorum::Held && p.vs.sorry_server.is_some();
            for (rs, up) in p.vs.real_servers.iter().zip(&p.alive) {
                if let (true, false, Some(s)) = (*up, swapped, &rs.notify_down) {
                    owed.push((s.command.clone(), Vec::new(), why.clone(), now));
                }
            }
            if let Some(s) = &p.vs.quorum_down {
                owed.push((s.command.clone(), Vec::new(), why, now));
            }
        }
        n.owed.extend(owed);
    }
}
