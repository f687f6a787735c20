//! Carrying out a scenario's faults: crashes and restarts, pauses, links,
//! partitions, network conditions, server behaviours, scripts, reloads.

use std::collections::BTreeSet;

use holdfast_core::lvs;
use holdfast_core::node::Input;
use holdfast_core::trace::Kind;
use holdfast_core::vrrp::instance::State;

use crate::scenario::{seconds, Fault};
use crate::setup::load_config;
use crate::topology::HostKind;
use crate::world::InstInfo;

use super::{Ev, Sim};

impl Sim {
    pub(super) fn director(&self, name: &str) -> Option<usize> {
        self.world.directors.iter().position(|d| d.name == name)
    }

    pub(super) fn hosts(&self, names: &[String]) -> BTreeSet<usize> {
        names
            .iter()
            .filter_map(|n| self.world.topo.host(n))
            .collect()
    }

    /// SIGSTATS_CLEAR: the statistics file as written then is judged, and
    /// the counters start again from zero.
    pub(super) fn clear_stats(&mut self, d: usize) {
        self.compare_counters(d);
        if let Some(node) = &mut self.world.directors[d].node {
            node.clear_stats();
            self.oracle.stats_cleared(d);
        }
    }

    pub(super) fn fault(&mut self, fault: Fault) {
        let now = self.world.now;
        let label = fault.label();
        self.incidents
            .open_or_join(now, fault.kind(), label.clone());
        self.record("sim".into(), Kind::Fault { label });
        match fault {
            Fault::Crash { host } => {
                let Some(d) = self.director(&host) else {
                    return;
                };
                // The machine is gone: its addresses and kernel table too.
                self.end(d, "crash");
            }
            Fault::Stop { host } => {
                let Some(d) = self.director(&host) else {
                    return;
                };
                if self.world.directors[d].node.is_none() {
                    return;
                }
                if self.world.directors[d].paused_until.is_some() {
                    // A stopped process handles SIGTERM when it runs again.
                    self.world.directors[d].pending_stop = true;
                } else {
                    self.stop(d);
                }
            }
            Fault::Restart { host } => {
                let Some(d) = self.director(&host) else {
                    return;
                };
                if self.world.directors[d].node.is_none() {
                    // The configuration booted once; it boots again.
                    let _ = self.boot(d);
                }
            }
            Fault::Pause { host, ms } => {
                let Some(d) = self.director(&host) else {
                    return;
                };
                let until = now + seconds(ms / 1e3).unwrap_or_default();
                let dir = &mut self.world.directors[d];
                if dir.node.is_some() {
                    let until = dir.paused_until.map_or(until, |u| u.max(until));
                    dir.paused_until = Some(until);
                    self.oracle.paused(d);
                    self.push(until, Ev::Resume(d));
                }
            }
            Fault::Link {
                host,
                interface,
                up,
            } => {
                let Some(h) = self.world.topo.host(&host) else {
                    return;
                };
                match self.world.topo.hosts[h].kind {
                    HostKind::Director(d) => {
                        let Some(name) = interface else { return };
                        if let Some((_, e)) = self.world.topo.interface(h, &name) {
                            self.world.topo.graph[e].up = up;
                        }
                        let dir = &mut self.world.directors[d];
                        for i in dir.interfaces.iter_mut().filter(|i| i.name == name) {
                            i.up = up;
                        }
                        self.input(
                            d,
                            Input::Link {
                                interface: name,
                                up,
                            },
                        );
                    }
                    _ => {
                        let edges: Vec<_> =
                            self.world.topo.attachments(h).map(|(_, e)| e).collect();
                        for e in edges {
                            self.world.topo.graph[e].up = up;
                        }
                    }
                }
            }
            Fault::Partition { segment, groups } => {
                let Some(s) = self.world.topo.segment(&segment) else {
                    return;
                };
                let groups = groups.iter().map(|g| self.hosts(g)).collect();
                self.world.topo.segments[s].groups = Some(groups);
            }
            Fault::OneWay { segment, from, to } => {
                let Some(s) = self.world.topo.segment(&segment) else {
                    return;
                };
                let (from, to) = (self.hosts(&from), self.hosts(&to));
                for &f in &from {
                    for &t in &to {
                        self.world.topo.segments[s].blocked.insert((f, t));
                    }
                }
            }
            Fault::Heal { segment } => {
                let Some(s) = self.world.topo.segment(&segment) else {
                    return;
                };
                self.world.topo.segments[s].groups = None;
                self.world.topo.segments[s].blocked.clear();
            }
            Fault::Net { segment, net } => {
                let Some(s) = self.world.topo.segment(&segment) else {
                    return;
                };
                self.world.topo.segments[s].net = net;
            }
            Fault::Serve {
                server,
                port,
                behaviour,
            } => {
                let Some(s) = self.world.servers.get_mut(&server) else {
                    return;
                };
                match port {
                    Some(p) => {
                        s.ports.insert(p, behaviour);
                    }
                    None => {
                        s.ports.clear();
                        s.behaviour = behaviour;
                    }
                }
            }
            Fault::Script { host, script, ok } => {
                let Some(d) = self.director(&host) else {
                    return;
                };
                self.world.directors[d].scripts.insert(script, ok);
            }
            Fault::Address {
                host,
                interface,
                address,
                up,
            } => {
                let Some(d) = self.director(&host) else {
                    return;
                };
                let dir = &mut self.world.directors[d];
                let configured = dir
                    .interfaces
                    .iter()
                    .find(|i| i.name == interface)
                    .and_then(|i| i.ipv4);
                let list = dir
                    .ipv4
                    .entry(interface.clone())
                    .or_insert_with(|| configured.into_iter().collect());
                if address.is_ipv4() {
                    list.retain(|a| *a != address);
                    if up {
                        list.push(address);
                    }
                }
                if dir.node.is_some() {
                    let added = Input::Address {
                        interface,
                        address,
                        added: up,
                    };
                    self.input(d, added);
                }
            }
            Fault::Foreign { segment, advert } => {
                let Some(s) = self.world.topo.segment(&segment) else {
                    return;
                };
                let left = advert.count;
                self.foreign(s, advert, left);
            }
            Fault::ClearStats { host } => {
                let Some(d) = self.director(&host) else {
                    return;
                };
                let dir = &mut self.world.directors[d];
                if dir.paused_until.is_some() {
                    // The signal is handled when the process runs again.
                    dir.pending_clear = true;
                } else {
                    self.clear_stats(d);
                }
            }
            Fault::Reload { host, config } => {
                let Some(d) = self.director(&host) else {
                    return;
                };
                let dir = &mut self.world.directors[d];
                if dir.paused_until.is_some() {
                    // The signal is handled when the process runs again.
                    dir.pending_reload = Some(config);
                } else {
                    self.reload(d, &config);
                }
            }
        }
    }

    /// SIGTERM: the node releases its instances (priority 0, addresses
    /// removed) and its outputs are carried out; then the data plane
    /// removes the LVS table and the process is gone.
    pub(super) fn stop(&mut self, d: usize) {
        self.oracle.stopping(self.world.now, d);
        self.input(d, Input::Shutdown);
        for f in self.oracle.stopped(self.world.now, d) {
            self.violation(f.director, f.rule, f.detail);
        }
        self.end(d, "SIGTERM");
    }

    /// Director `d`'s process is gone (`reason` in the trace): no node,
    /// no addresses, no kernel table.
    fn end(&mut self, d: usize, reason: &str) {
        self.compare_counters(d);
        self.oracle.ended(d);
        let dir = &mut self.world.directors[d];
        if dir.node.take().is_none() {
            return;
        }
        dir.paused_until = None;
        dir.pending_stop = false;
        dir.buffered.clear();
        dir.vips.clear();
        dir.table = lvs::Table::default();
        dir.states = vec![State::Initialize; dir.info.len()];
        dir.gen += 1;
        dir.wake = None;
        let name = dir.name.clone();
        let reason = reason.into();
        self.record(name, Kind::Stop { reason });
        self.dirty = true;
    }

    /// SIGHUP with a new file: a configuration with errors is refused and
    /// the running one kept.
    pub(super) fn reload(&mut self, d: usize, config: &std::path::Path) {
        let path = self.base.join(config);
        let dir = &self.world.directors[d];
        let name = dir.name.clone();
        let shown = config.display().to_string();
        let cfg = match load_config(&shown, &name, &path, &dir.config_id, &self.files) {
            Ok(c) => c,
            Err(e) => {
                let detail = e.to_string();
                self.record(name, Kind::Reload { ok: false, detail });
                return;
            }
        };
        let now = self.world.now;
        let topo = &self.world.topo;
        let dir = &mut self.world.directors[d];
        let host = dir.host;
        let info = InstInfo::of(&cfg, |i| topo.interface(host, i).map(|(s, _)| s));
        let Some(node) = &mut dir.node else {
            // Not running: the next start uses the new file.
            dir.states = vec![State::Initialize; info.len()];
            dir.info = info;
            dir.config = cfg;
            dir.config_path = path;
            dir.config_shown = shown.clone();
            let detail = format!("{shown} (used at the next start)");
            self.record(name, Kind::Reload { ok: true, detail });
            return;
        };
        match node.reload(now, &cfg, &dir.interfaces) {
            Ok(()) => {
                self.oracle.reloaded(now, d, &cfg, &dir.interfaces);
                // States carry over by name; new instances start from Initialize.
                let states = info
                    .iter()
                    .map(|i| {
                        dir.info
                            .iter()
                            .position(|o| o.name == i.name)
                            .map_or(State::Initialize, |o| dir.states[o])
                    })
                    .collect();
                dir.states = states;
                dir.info = info;
                dir.config = cfg;
                dir.config_path = path;
                dir.config_shown = shown.clone();
                dir.since = now;
                self.record(
                    name,
                    Kind::Reload {
                        ok: true,
                        detail: shown,
                    },
                );
                self.settle(d);
            }
            Err(e) => {
                let detail = e.to_string();
                self.record(name, Kind::Reload { ok: false, detail });
            }
        }
    }
}
