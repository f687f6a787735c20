//! Carrying out a director's outputs on the simulated world: adverts onto
//! the network, addresses and tables into the director's model of its
//! kernel, probes against the simulated servers, and the trace record of
//! each (made once, by `Kind::of_output`).

use holdfast_core::check::schedule::Outcome;
use holdfast_core::lvs;
use holdfast_core::node::{Input, Output};
use holdfast_core::trace::Kind;
use holdfast_core::vrrp::instance::State;

use crate::behaviour;
use crate::invariants::Invariant;
use crate::oracle::verdict;

use super::{Ev, Sim};

impl Sim {
    /// Gives an input to a director now, or after its pause.
    pub(super) fn input(&mut self, d: usize, input: Input) {
        let dir = &mut self.world.directors[d];
        if dir.paused_until.is_some() {
            dir.buffered.push(input);
            return;
        }
        if dir.node.is_some() {
            self.hand(d, input);
            self.settle(d);
        }
    }

    /// Brings director `d`'s kernel table to the table its node wants,
    /// through `lvs::diff` as the IPVS data plane does; an operation the
    /// table refuses, or an edit that changes nothing (a netlink round
    /// trip per unchanged destination, on every change), is a violation
    /// (`data_plane_accepts`).
    pub(super) fn apply_table(&mut self, d: usize) {
        let dir = &mut self.world.directors[d];
        let Some(node) = &dir.node else {
            return;
        };
        let ops = lvs::diff(&dir.table, node.lvs_table());
        let mut refused = Vec::new();
        for op in ops {
            let unchanged = match &op {
                lvs::Op::EditService(k, p) => {
                    dir.table.services.get(k).map(|s| &s.params) == Some(p)
                }
                lvs::Op::EditDest(k, d, p) => {
                    dir.table.services.get(k).and_then(|s| s.dests.get(d)) == Some(p)
                }
                _ => false,
            };
            if unchanged {
                refused.push(format!("{op:?} changes nothing in the kernel table"));
            }
            if let Err(e) = lvs::apply(&mut dir.table, &op) {
                refused.push(format!("the kernel table refused {op:?}: {e}"));
            }
        }
        for detail in refused {
            self.violation(d, Invariant::DataPlaneAccepts, detail);
        }
    }

    /// Carries out one output; what the kernel answers at once (an
    /// address was added) is returned, for core.
    pub(super) fn carry_out(&mut self, d: usize, o: Output) -> Option<Input> {
        let now = self.world.now;
        match o {
            Output::Transmit(t) => {
                for f in self.oracle.sent(now, d, &t) {
                    self.violation(f.director, f.rule, f.detail);
                }
                self.transmit(d, t)
            }
            Output::AddVip { instance, vip, .. } => {
                self.world.directors[d].vips.insert(vip.address);
                self.dirty = true;
                return Some(Input::VipResult {
                    instance,
                    address: vip.address,
                    error: None,
                });
            }
            Output::RemoveVip { vip, .. } => {
                self.world.directors[d].vips.remove(&vip.address);
                self.dirty = true;
            }
            Output::Announce {
                instance,
                interface,
                addresses,
                count,
            } => {
                if let Some(f) = self.oracle.announced(now, d, &instance, &interface, count) {
                    self.violation(f.director, f.rule, f.detail);
                }
                self.announce(d, &interface, &addresses, count)
            }
            Output::Event(e) => {
                let found = self
                    .oracle
                    .transition(now, d, &e.instance, e.from, e.to, &e.reason);
                for f in found {
                    self.violation(f.director, f.rule, f.detail);
                }
                let dir = &mut self.world.directors[d];
                let i = dir.info.iter().position(|i| i.name == e.instance)?;
                dir.states[i] = e.to;
                self.dirty = true;
                if e.to == State::Master {
                    let info = &self.world.directors[d].info[i];
                    let after = info.segment.and_then(|seg| {
                        let key = (
                            seg,
                            info.family == holdfast_core::config::model::Family::Ipv6,
                            info.vrid,
                        );
                        let prev = self.last_master.insert(key, d).filter(|&p| p != d)?;
                        let last = *self.adverts.get(&key)?.get(&prev)?;
                        Some(now - last)
                    });
                    self.incidents.master(now, after);
                } else {
                    self.incidents.detected(now);
                }
            }
            Output::RunScript { script, args } => {
                if let Some(f) = self.oracle.script_run(d, &script.command, &args) {
                    self.violation(f.director, f.rule, f.detail);
                }
            }
            Output::GroupChanged { .. } | Output::Alert(_) => {}
            Output::Probe {
                id,
                checker,
                address,
                port,
                url,
                timeout,
            } => {
                let (result, said) = match self.world.servers.get(&address) {
                    Some(server) => {
                        let (host, behaviour) = (server.host, server.on(port).clone());
                        let rtt = self.probe_rtt(host);
                        let reachable = self.world.server_reachable(d, host);
                        let r =
                            behaviour::probe(&behaviour, &checker, url, rtt, timeout, reachable);
                        let said = verdict::verdict(
                            &behaviour, &checker, url, reachable, r.after, timeout,
                        );
                        (r, said)
                    }
                    None => {
                        let r = behaviour::ProbeResult {
                            after: timeout,
                            outcome: Outcome::Fail("no route to host".into()),
                        };
                        (r, Err(String::new()))
                    }
                };
                let found = self
                    .oracle
                    .probe_started(now, d, id, &checker, address, port, url, timeout, said);
                if let Some(f) = found {
                    self.violation(f.director, f.rule, f.detail);
                }
                let life = Some(self.world.directors[d].life);
                let input = Input::ProbeDone {
                    id,
                    outcome: result.outcome,
                };
                self.push(now + result.after, Ev::Deliver { d, life, input });
            }
            Output::Lvs(_) => {
                // The operation is core's record of what changed; the
                // kernel model gets the whole desired table after the
                // drain (`apply_table`), as the data planes do.
                self.incidents.pool(now);
                self.dirty = true;
            }
            Output::RealServerChanged {
                vs,
                address,
                port,
                up,
                reason,
            } => {
                let found =
                    self.oracle
                        .real_server_changed(now, d, (vs, address, port), up, &reason);
                if let Some(f) = found {
                    self.violation(f.director, f.rule, f.detail);
                }
                self.incidents.detected(now);
                self.dirty = true;
            }
            Output::RunTrackScript { id, name, .. } => {
                let dir = &self.world.directors[d];
                let life = Some(dir.life);
                let success = dir.scripts.get(&name).copied().unwrap_or(true);
                self.oracle.script_started(d, id, &name, success);
                let input = Input::ScriptDone { id, success };
                self.push(now + behaviour::SCRIPT_RUN, Ev::Deliver { d, life, input });
            }
            other => {
                // An output core has and this kernel does not model yet
                // (core's outputs are non-exhaustive): said, as a
                // violation, never skipped in silence.
                let detail = format!("the simulator does not carry out {other:?}");
                self.violation(d, Invariant::OutputCarriedOut, detail);
            }
        }
        None
    }

    /// Compares what director `d` reports (its statistics file, as the
    /// daemon writes it on SIGUSR2, and its instances' states) with the
    /// oracle's counts, while its process still runs.
    pub(super) fn compare_counters(&mut self, d: usize) {
        let Some(node) = &self.world.directors[d].node else {
            return;
        };
        let (status, file, untracked) = (node.status(), node.stats_file(), node.untracked());
        for f in self
            .oracle
            .counters(d, &status, &file, &|name| node.state(name), &untracked)
        {
            self.violation(f.director, f.rule, f.detail);
        }
    }

    /// Reports a violation found while carrying out director `d`'s
    /// outputs, and records it.
    pub(super) fn violation(&mut self, d: usize, invariant: Invariant, detail: String) {
        let now = self.world.now;
        let name = self.world.directors[d].name.clone();
        let v = self
            .monitor
            .report(now, invariant, vec![name.clone()], detail, &self.ring);
        let kind = Kind::Violation {
            invariant: v.invariant,
            detail: v.detail,
        };
        self.record(name, kind);
    }
}
