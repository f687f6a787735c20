//! The real-server side of a director: each checker on
//! `check::schedule`, real servers up or down, quorum with hysteresis, the
//! desired LVS table and its changes, and the alerts and scripts these
//! raise. Probes go out as [`Output::Probe`], results come back as
//! [`Input::ProbeDone`].

use std::sync::Arc;

use super::{Outbox, Output};
use crate::alert::{CheckerChange, Policy};
use crate::check::schedule::{self, CheckerId, Scheduler};
use crate::config::model::{Checker, Config};
use crate::lvs::{self, Table};
use crate::time::Instant;

/// The real-server side of a director.
pub(super) struct Pools {
    pub(super) config: Config,
    pub(super) sched: Scheduler,
    /// (vs, rs, checker index) of each checker.
    pub(super) owner: Vec<(usize, usize, usize)>,
    /// Each checker's settings, as its probes carry them.
    pub(super) specs: Vec<Arc<Checker>>,
    /// Checker ids of each real server.
    pub(super) checkers: Vec<Vec<Vec<CheckerId>>>,
    pub(super) alive: Vec<Vec<bool>>,
    /// Current weights: configured, or set by a misc_dynamic check.
    pub(super) weights: Vec<Vec<u32>>,
    pub(super) quorum: Vec<bool>,
    /// What the data plane holds (as far as holdfast told it).
    pub(super) table: Table,
    /// Seed of the warmup jitter.
    pub(super) seed: u64,
    /// Which alerts are mailed (the director's one policy: checkers and
    /// quorum here, instances and groups in `Node`).
    pub(super) alerts: Policy,
}

/// splitmix64: a seeded stream for the checkers' warmup jitter.
pub(super) fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Pools {
    pub(super) fn new(now: Instant, config: &Config, seed: u64) -> Pools {
        Pools::carry(now, config, seed, None)
    }

    /// Pools for `config`; on a reload, checkers, weights and quorums that
    /// exist in `previous` (same virtual server, real server and checker
    /// settings) keep their state, so a failed server is not re-added at
    /// once (keepalived's init_service_rs).
    pub(super) fn carry(
        now: Instant,
        config: &Config,
        seed: u64,
        previous: Option<&Pools>,
    ) -> Pools {
        let old_vs = |vs: &crate::config::model::VirtualServer| {
            previous.and_then(|p| {
                p.config
                    .virtual_servers
                    .iter()
                    .position(|o| o.key == vs.key && o.protocol == vs.protocol)
                    .map(|i| (p, i))
            })
        };
        let mut sched = Scheduler::new();
        if let Some(p) = previous {
            sched.continue_numbering(&p.sched);
        }
        let mut owner = Vec::new();
        let mut specs = Vec::new();
        let mut rng = seed;
        let mut checkers = Vec::new();
        for (v, vs) in config.virtual_servers.iter().enumerate() {
            let mut per_rs = Vec::new();
            for (r, rs) in vs.real_servers.iter().enumerate() {
                let mut ids = Vec::new();
                let old_rs = old_vs(vs).and_then(|(p, ov)| {
                    p.config.virtual_servers[ov]
                        .real_servers
                        .iter()
                        .position(|o| o.address == rs.address && o.port == rs.port)
                        .map(|or| (p, ov, or))
                });
                for (c, ch) in rs.checkers.iter().enumerate() {
                    let was_up = old_rs.and_then(|(p, ov, or)| {
                        let old = &p.config.virtual_servers[ov].real_servers[or];
                        let oc = old.checkers.iter().position(|o| o == ch)?;
                        Some(p.sched.is_up(p.checkers[ov][or][oc]))
                    });
                    let span = ch.warmup.as_micros() as u64;
                    let jitter = std::time::Duration::from_micros(if span == 0 {
                        0
                    } else {
                        splitmix(&mut rng) % (span + 1)
                    });
                    ids.push(match was_up {
                        Some(up) => sched.add_with_state(now, ch.clone(), jitter, up),
                        None => sched.add(now, ch.clone(), jitter),
                    });
                    owner.push((v, r, c));
                    specs.push(Arc::new(ch.clone()));
                }
                per_rs.push(ids);
            }
            checkers.push(per_rs);
        }
        let alive: Vec<Vec<bool>> = checkers
            .iter()
            .map(|rss| {
                rss.iter()
                    .map(|ids| ids.iter().all(|&id| sched.is_up(id)))
                    .collect()
            })
            .collect();
        let mut weights = lvs::pool::config_weights(config);
        let mut quorum: Vec<bool> = config
            .virtual_servers
            .iter()
            .zip(alive.iter().zip(&weights))
            .map(|(vs, (a, w))| lvs::pool::quorum(vs, live_weight(a, w), false))
            .collect();
        // Dynamic weights and quorum states carry over a reload.
        for (v, vs) in config.virtual_servers.iter().enumerate() {
            if let Some((p, ov)) = old_vs(vs) {
                quorum[v] = p.quorum[ov];
                for (r, rs) in vs.real_servers.iter().enumerate() {
                    let old = &p.config.virtual_servers[ov].real_servers;
                    if let Some(or) = old.iter().position(|o| {
                        o.address == rs.address && o.port == rs.port && o.weight == rs.weight
                    }) {
                        weights[v][r] = p.weights[ov][or];
                    }
                }
            }
        }
        Pools {
            config: config.clone(),
            sched,
            owner,
            specs,
            checkers,
            alive,
            weights,
            quorum,
            table: Table::default(),
            seed,
            alerts: Policy::new(&config.global),
        }
    }

    /// Recomputes a pool's quorum and runs its quorum scripts on a change.
    pub(super) fn update_quorum(&mut self, v: usize, out: &mut Outbox) {
        let vs = &self.config.virtual_servers[v];
        let had = self.quorum[v];
        let has = lvs::pool::quorum(vs, live_weight(&self.alive[v], &self.weights[v]), had);
        if has != had {
            self.quorum[v] = has;
            let sum = live_weight(&self.alive[v], &self.weights[v]);
            if let Some(mail) = self.alerts.quorum(vs, has, sum) {
                out.push_back(Output::Alert(mail));
            }
            let script = if has { &vs.quorum_up } else { &vs.quorum_down };
            if let Some(s) = script {
                out.push_back(Output::RunScript {
                    script: s.clone(),
                    args: Vec::new(),
                });
            }
        }
    }

    /// keepalived's omega: on shutdown, the down notifiers of live real
    /// servers and of pools that have their quorum.
    pub(super) fn omega(&self, out: &mut Outbox) {
        for (v, vs) in self
            .config
            .virtual_servers
            .iter()
            .enumerate()
            .filter(|(_, vs)| vs.omega)
        {
            for (r, rs) in vs.real_servers.iter().enumerate() {
                if let (true, Some(s)) = (self.alive[v][r], &rs.notify_down) {
                    out.push_back(Output::RunScript {
                        script: (**s).clone(),
                        args: Vec::new(),
                    });
                }
            }
            if let (true, Some(s)) = (self.quorum[v], &vs.quorum_down) {
                out.push_back(Output::RunScript {
                    script: s.clone(),
                    args: Vec::new(),
                });
            }
        }
    }

    /// Brings the data plane to the desired table.
    pub(super) fn sync_table(&mut self, out: &mut Outbox) {
        let want = lvs::pool::desired(&self.config, &self.alive, &self.weights, &self.quorum);
        out.extend(lvs::diff(&self.table, &want).into_iter().map(Output::Lvs));
        self.table = want;
    }

    /// Carries out the scheduler's outputs.
    pub(super) fn pump(&mut self, out: &mut Outbox) {
        let mut changed = false;
        while let Some(o) = self.sched.poll_output() {
            match o {
                schedule::Output::Probe {
                    id,
                    checker,
                    url,
                    timeout,
                } => {
                    let (v, r, _) = self.owner[checker.0 as usize];
                    let rs = &self.config.virtual_servers[v].real_servers[r];
                    let ch = &self.specs[checker.0 as usize];
                    out.push_back(Output::Probe {
                        id,
                        checker: Arc::clone(ch),
                        address: ch.connect.ip.unwrap_or(rs.address),
                        port: ch.connect.port.or(rs.port).unwrap_or(0),
                        url,
                        timeout,
                    });
                }
                schedule::Output::Weight(checker, w) => {
                    let (v, r, _) = self.owner[checker.0 as usize];
                    let w = w.unwrap_or(self.config.virtual_servers[v].real_servers[r].weight);
                    if self.weights[v][r] != w {
                        self.weights[v][r] = w;
                        changed |= self.alive[v][r];
                        self.update_quorum(v, out);
                    }
                }
                schedule::Output::Up(checker) | schedule::Output::Down(checker, _) => {
                    let reason = match &o {
                        schedule::Output::Down(_, r) => r.clone(),
                        _ => String::new(),
                    };
                    let (v, r, c) = self.owner[checker.0 as usize];
                    let up = self.checkers[v][r].iter().all(|&id| self.sched.is_up(id));
                    // keepalived mails each checker's own change; the real
                    // server's state decides only under no_checker_emails.
                    let vs = &self.config.virtual_servers[v];
                    let rs = &vs.real_servers[r];
                    let checker_up = matches!(o, schedule::Output::Up(_));
                    let timed_out = reason == "timed out";
                    let alive_changed = up != self.alive[v][r];
                    let change = CheckerChange {
                        kind: &rs.checkers[c].kind,
                        up: checker_up,
                        server_up: up,
                        server_changed: alive_changed,
                        timed_out,
                    };
                    if let Some(mail) = self.alerts.checker(vs, rs, change) {
                        out.push_back(Output::Alert(mail));
                    }
                    if up != self.alive[v][r] {
                        self.alive[v][r] = up;
                        changed = true;
                        let rs = &self.config.virtual_servers[v].real_servers[r];
                        out.push_back(Output::RealServerChanged {
                            vs: v,
                            address: rs.address,
                            port: rs.port,
                            up,
                            reason,
                        });
                        let script = if up { &rs.notify_up } else { &rs.notify_down };
                        if let Some(s) = script {
                            out.push_back(Output::RunScript {
                                script: (**s).clone(),
                                args: Vec::new(),
                            });
                        }
                        self.update_quorum(v, out);
                    }
                }
            }
        }
        if changed {
            self.sync_table(out);
        }
    }
}

/// Sum of the weights of a pool's live real servers.
pub(super) fn live_weight(alive: &[bool], weights: &[u32]) -> u64 {
    alive
        .iter()
        .zip(weights)
        .filter(|(up, _)| **up)
        .map(|(_, w)| u64::from(*w))
        .sum()
}
