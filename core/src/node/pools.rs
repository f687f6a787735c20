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
        // Dynamic weights and quorum states carry over a reload; the quorum
        // is then judged again with the new settings, from the state it
        // had (keepalived's init_service_vs: "we may have got/lost quorum
        // due to quorum setting changed").
        for (v, vs) in config.virtual_servers.iter().enumerate() {
            if let Some((p, ov)) = old_vs(vs) {
                for (r, rs) in vs.real_servers.iter().enumerate() {
                    let old = &p.config.virtual_servers[ov].real_servers;
                    // Only a `misc_dynamic` script that stays (the same
                    // checker) carries the weight it set (keepalived's
                    // migrate_misc_check); otherwise the file's weight.
                    let dynamic = |o: &crate::config::model::RealServer| {
                        rs.checkers
                            .iter()
                            .any(|c| c.kind.is_dynamic() && o.checkers.contains(c))
                    };
                    if let Some(or) = old.iter().position(|o| {
                        o.address == rs.address
                            && o.port == rs.port
                            && o.weight == rs.weight
                            && dynamic(o)
                    }) {
                        weights[v][r] = p.weights[ov][or];
                    }
                }
                let live = live_weight(&alive[v], &weights[v]);
                quorum[v] = lvs::pool::quorum(vs, live, p.quorum[ov]);
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

    /// keepalived's omega (its `clear_service_rs` and `update_vs_notifies`
    /// when stopping): on shutdown, the `notify_down` of each live real
    /// server still in the service (not one a lost quorum swapped for the
    /// sorry server), then the pool's `quorum_down`, whatever its quorum
    /// was (keepalived marks every pool's quorum lost as it stops).
    pub(super) fn omega(&self, out: &mut Outbox) {
        for (v, vs) in self
            .config
            .virtual_servers
            .iter()
            .enumerate()
            .filter(|(_, vs)| vs.omega)
        {
            let swapped = !self.quorum[v] && vs.sorry_server.is_some();
            for (r, rs) in vs.real_servers.iter().enumerate() {
                if let (true, false, Some(s)) = (self.alive[v][r], swapped, &rs.notify_down) {
                    out.push_back(Output::RunScript {
                        script: (**s).clone(),
                        args: Vec::new(),
                    });
                }
            }
            if let Some(s) = &vs.quorum_down {
                out.push_back(Output::RunScript {
                    script: s.clone(),
                    args: Vec::new(),
                });
            }
        }
    }

    /// At start, a pool without its quorum that has a sorry server runs
    /// its `quorum_down` (keepalived's "Starting with quorum down", from
    /// `update_quorum_state` at init); a pool that starts with it runs
    /// nothing.
    pub(super) fn started(&self, out: &mut Outbox) {
        for (v, vs) in self.config.virtual_servers.iter().enumerate() {
            if let (false, Some(_), Some(s)) = (self.quorum[v], &vs.sorry_server, &vs.quorum_down) {
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

#[cfg(test)]
mod tests {
    //! The pools alone, as a state machine: the checker scheduler's timers
    //! and probe results in, probes, pool changes, LVS operations, scripts
    //! out.

    use super::*;
    use crate::check::schedule::Outcome;
    use crate::config::{self, LoadOptions, MemLoader};
    use crate::lvs::Op;

    #[test]
    fn splitmix_is_splitmix64() {
        // The reference generator's first outputs from state 0 (Vigna's
        // splitmix64.c; the same values appear in many ports' tests).
        let mut state = 0;
        let got: Vec<u64> = (0..3).map(|_| splitmix(&mut state)).collect();
        assert_eq!(
            got,
            [
                0xe220_a839_7b1d_cdaf,
                0x6e78_9e6a_a1b9_65f4,
                0x06c4_5d18_8009_454f
            ]
        );
    }

    const CONF: &str = "virtual_server 10.0.0.100 80 {
    delay_loop 2
    lb_algo rr
    lb_kind DR
    protocol TCP
    quorum 2
    quorum_down \"/bin/echo down\"
    real_server 10.0.0.11 80 {
        weight 1
        notify_down \"/bin/echo rs-down\"
        TCP_CHECK {
            connect_timeout 1
            retry 0
            warmup 0
        }
    }
    real_server 10.0.0.12 80 {
        weight 1
        TCP_CHECK {
            connect_timeout 1
            retry 0
            warmup 0
        }
    }
}
";

    fn config(text: &str) -> Config {
        let loaded = config::parse_str("t.conf", text, &MemLoader::new(), &LoadOptions::default());
        loaded
            .config
            .clone()
            .unwrap_or_else(|| panic!("{}", loaded.render()))
    }

    fn at(s: u64) -> Instant {
        Instant::from_nanos(s * 1_000_000_000)
    }

    /// The commands of the scripts among `o`, in order.
    fn scripts(o: &[Output]) -> Vec<&str> {
        o.iter()
            .filter_map(|o| match o {
                Output::RunScript { script, .. } => Some(script.command.as_str()),
                _ => None,
            })
            .collect()
    }

    fn drain(out: &mut Outbox) -> Vec<Output> {
        std::iter::from_fn(|| out.pop().map(|(_, o)| o)).collect()
    }

    /// Fires the scheduler's timers up to `now` and returns the probes it
    /// sends, by address.
    fn probes(
        p: &mut Pools,
        now: Instant,
        out: &mut Outbox,
    ) -> Vec<(std::net::IpAddr, schedule::ProbeId)> {
        while p.sched.poll_timeout().is_some_and(|t| t <= now) {
            p.sched.handle_timeout(now);
        }
        p.pump(out);
        drain(out)
            .into_iter()
            .filter_map(|o| match o {
                Output::Probe {
                    id, address, port, ..
                } => {
                    assert_eq!(port, 80);
                    Some((address, id))
                }
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_failed_probe_takes_its_server_out_and_the_quorum_goes_with_it() {
        let cfg = config(CONF);
        let mut out = Outbox::default();
        let mut p = Pools::new(at(0), &cfg, 7);
        p.sync_table(&mut out);
        let first = drain(&mut out);
        assert_eq!(
            first
                .iter()
                .filter(|o| matches!(o, Output::Lvs(Op::AddDest(..))))
                .count(),
            2,
            "{first:?}"
        );
        // keepalived's first probes: 1 s after start, plus the warmup's
        // jitter (none here).
        let sent = probes(&mut p, at(1), &mut out);
        assert_eq!(sent.len(), 2, "both checkers probe at 1 s (warmup 0)");
        let (a, id) = sent[0];
        assert_eq!(a, "10.0.0.11".parse::<std::net::IpAddr>().unwrap());
        p.sched
            .probe_done(at(1), id, Outcome::Fail("connection refused".into()));
        p.pump(&mut out);
        let o = drain(&mut out);
        assert!(
            o.iter().any(|o| matches!(o, Output::RealServerChanged { up: false, address, .. } if *address == a)),
            "{o:?}"
        );
        let scripts = scripts(&o);
        assert_eq!(scripts, ["/bin/echo rs-down", "/bin/echo down"], "{o:?}");
        assert!(
            o.iter()
                .any(|o| matches!(o, Output::Lvs(Op::RemoveDest(_, d)) if d.address == a)),
            "{o:?}"
        );
        assert!(!p.quorum[0], "one of two live: below quorum 2");
        // Nothing runs twice.
        p.pump(&mut out);
        assert!(drain(&mut out).is_empty());
    }

    /// `CONF`'s pools after the first server's first probe failed (live
    /// weight 1, below quorum 2), with what that put out drained.
    fn one_failed(cfg: &Config) -> (Pools, Outbox) {
        let mut out = Outbox::default();
        let mut p = Pools::new(at(0), cfg, 7);
        p.sync_table(&mut out);
        let sent = probes(&mut p, at(1), &mut out);
        p.sched
            .probe_done(at(1), sent[0].1, Outcome::Fail("timed out".into()));
        p.pump(&mut out);
        drain(&mut out);
        (p, out)
    }

    #[test]
    fn a_reload_judges_the_quorum_again_with_its_new_settings() {
        let cfg = config(CONF);
        let (p, _) = one_failed(&cfg);
        assert!(!p.quorum[0]);
        // The new file asks for quorum 1: the live weight (1) holds it at
        // once, as keepalived's init_service_vs re-judges it on a reload.
        let lower = config(&CONF.replacen("    quorum 2\n", "    quorum 1\n", 1));
        let q = Pools::carry(at(5), &lower, 7, Some(&p));
        assert!(q.quorum[0], "live weight 1 holds quorum 1");
        // The same file: nothing changes, the quorum stays lost.
        let same = Pools::carry(at(5), &cfg, 7, Some(&p));
        assert!(!same.quorum[0]);
    }

    #[test]
    fn a_reload_keeps_a_failed_server_out_and_omega_runs_only_with_the_flag() {
        let cfg = config(CONF);
        let (p, mut out) = one_failed(&cfg);
        // The same file again: the failed server stays out.
        let mut q = Pools::carry(at(5), &cfg, 7, Some(&p));
        q.table = p.table.clone();
        q.sync_table(&mut out);
        assert!(drain(&mut out).is_empty(), "nothing re-added or removed");
        assert_eq!(q.alive, p.alive);
        // No omega: no down scripts on shutdown.
        q.omega(&mut out);
        assert!(drain(&mut out).is_empty());
        let with_omega = CONF.replacen("    quorum 2\n", "    quorum 2\n    omega\n", 1);
        let r = Pools::new(at(0), &config(&with_omega), 7);
        r.omega(&mut out);
        // At start both servers are up and the quorum held: omega runs the
        // live server's notify_down and the pool's quorum_down.
        let o = drain(&mut out);
        assert_eq!(
            scripts(&o),
            ["/bin/echo rs-down", "/bin/echo down"],
            "{o:?}"
        );
        // Without its quorum, keepalived still runs quorum_down as it stops.
        let (lost, _) = one_failed(&config(&with_omega));
        lost.omega(&mut out);
        assert_eq!(scripts(&drain(&mut out)), ["/bin/echo down"]);
    }

    /// A `misc_dynamic` script's weight stays over a reload while the same
    /// script checks the server; a file that checks it otherwise brings
    /// the configured weight back.
    #[test]
    fn a_dynamic_weight_carries_over_a_reload_only_with_its_script() {
        let text = CONF.replacen(
            "        TCP_CHECK {\n            connect_timeout 1\n            retry 0\n            warmup 0\n        }",
            "        MISC_CHECK {\n            misc_path /bin/check\n            misc_dynamic\n            retry 0\n            warmup 0\n        }",
            1,
        );
        let cfg = config(&text);
        let mut out = Outbox::default();
        let mut p = Pools::new(at(0), &cfg, 7);
        p.sync_table(&mut out);
        let sent = probes(&mut p, at(1), &mut out);
        p.sched.probe_done(at(1), sent[0].1, Outcome::Exit(5));
        p.pump(&mut out);
        drain(&mut out);
        assert_eq!(p.weights[0][0], 3, "status 5 sets weight 3");
        let same = Pools::carry(at(5), &cfg, 7, Some(&p));
        assert_eq!(same.weights[0][0], 3);
        let tcp = Pools::carry(at(5), &config(CONF), 7, Some(&p));
        assert_eq!(tcp.weights[0][0], 1, "the file's weight");
    }

    /// keepalived's start: a pool that starts without its quorum and has a
    /// sorry server runs quorum_down ("Starting with quorum down"); with
    /// omega, a live server that the lost quorum took out of the service
    /// (the sorry server in its place) gets no notify_down as it stops.
    #[test]
    fn quorum_down_at_a_start_without_quorum_and_no_notify_down_for_a_server_out() {
        let text = CONF
            .replacen(
                "    quorum 2\n",
                "    quorum 3\n    omega\n    sorry_server 10.0.0.99 80\n",
                1,
            )
            .replacen(
                "        notify_down",
                "        weight 2\n        notify_down",
                1,
            )
            .replacen(
                "real_server 10.0.0.12 80 {\n",
                "real_server 10.0.0.12 80 {\n        notify_down \"/bin/echo rs2-down\"\n",
                1,
            );
        let cfg = config(&text);
        let mut out = Outbox::default();
        let p = Pools::new(at(0), &cfg, 7);
        assert!(p.quorum[0], "weights 2 + 1 hold quorum 3");
        p.started(&mut out);
        assert!(
            drain(&mut out).is_empty(),
            "a pool starting with its quorum runs nothing"
        );
        let (lost, _) = one_failed(&cfg);
        assert!(
            !lost.quorum[0] && lost.alive[0][1],
            "10.0.0.12 lives, out of the service"
        );
        lost.omega(&mut out);
        assert_eq!(scripts(&drain(&mut out)), ["/bin/echo down"]);
        let alpha = text.replace("TCP_CHECK {", "TCP_CHECK {\n            alpha");
        let q = Pools::new(at(0), &config(&alpha), 7);
        q.started(&mut out);
        assert_eq!(scripts(&drain(&mut out)), ["/bin/echo down"]);
    }
}
