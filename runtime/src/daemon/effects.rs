//! Carrying out the node's outputs, in its drain order: adverts, addresses,
//! announcements, probes, scripts, mail, the LVS table, and the trace
//! record of each.

use std::io::Write as _;

use holdfast_core::node::{Input, Output};
use holdfast_core::time::Instant;
use holdfast_core::trace::{self, Kind, Record};
use tracing::{debug, error, info, warn};

use crate::dataplane::worker::{Choice, Worker};
use crate::links;
use crate::mail;
use crate::probes;
use crate::scripts;

use super::{Daemon, NOTIFY_TIMEOUT};

impl Daemon {
    /// Writes one trace record (`--trace`) of the daemon's own (start,
    /// reload, stop), stamped with the monotonic clock now.
    pub(super) fn record(&mut self, kind: Kind) {
        self.record_at(self.now(), kind);
    }

    /// Writes one trace record stamped `at`: for a node output, the time
    /// core raised it, as the simulator stamps it.
    pub(super) fn record_at(&mut self, at: Instant, kind: Kind) {
        let t_ns = at.as_nanos();
        if let Some(w) = &mut self.trace {
            let r = Record {
                t_ns,
                host: self
                    .config
                    .global
                    .router_id
                    .clone()
                    .unwrap_or_else(|| "holdfast".into()),
                kind,
            };
            if let Err(e) = trace::write(w, &r).and_then(|_| w.flush()) {
                warn!("trace: {e}");
            }
        }
    }

    /// Carries out everything the node asked for, in the node's drain order
    /// (adverts first: a netlink round trip for an address must not delay
    /// the next instance's advert; see `Node`, "Driving a node").
    pub(super) async fn drain(&mut self) {
        while let Some((at, o, kind)) = self.node.poll_traced() {
            if let Some(k) = kind {
                self.record_at(at, k);
            }
            self.carry_out(o).await;
        }
        self.hand_over_table();
    }

    /// Gives the data plane's thread the table core wants, when it
    /// changed; the thread starts with the first table.
    pub(super) fn hand_over_table(&mut self) {
        // `--data-plane none`: the table is only logged (debug).
        if !std::mem::take(&mut self.lvs_changed) || self.opts.data_plane == Choice::None {
            return;
        }
        if self.dataplane.is_none() {
            match Worker::start(self.opts.data_plane, self.opts.repair_interval) {
                Ok(w) => self.dataplane = Some(w),
                Err(e) => return error!("starting the data-plane thread: {e}"),
            }
        }
        if let Some(w) = &self.dataplane {
            w.apply(self.node.lvs_table().clone());
        }
    }

    /// Carries out one output of the node.
    pub(super) async fn carry_out(&mut self, o: Output) {
        match o {
            Output::Transmit(t) => {
                let iface = t.interface.clone().unwrap_or_default();
                match self.sockets.get(&(iface.clone(), t.dst.is_ipv6())) {
                    Some(s) => {
                        if let Err(e) = s.send(t.src, t.dst, t.ttl, &t.bytes) {
                            warn!("{iface}: sending advert to {}: {e}", t.dst);
                        }
                    }
                    None => warn!("no VRRP socket on {iface}"),
                }
            }
            Output::AddVip { instance, vip, dev } => {
                let address = vip.address;
                // Core hears how it went: a refusal is retried by core.
                let error = match self.link(&dev).map(|l| l.index) {
                    None => Some(format!("no interface {dev}")),
                    Some(index) => match links::add_vip(&self.handle, index, &vip).await {
                        Ok(()) => {
                            debug!("({instance}) added {address} on {dev}");
                            self.held.insert((index, address), (instance.clone(), vip));
                            None
                        }
                        Err(e) => Some(e.to_string()),
                    },
                };
                if let Some(e) = &error {
                    error!("({instance}) adding {address} on {dev}: {e}");
                }
                let now = self.core_now();
                self.node.handle(
                    now,
                    Input::VipResult {
                        instance,
                        address,
                        error,
                    },
                );
            }
            Output::RemoveVip { instance, vip, dev } => {
                let Some(index) = self.link(&dev).map(|l| l.index) else {
                    return;
                };
                self.held.remove(&(index, vip.address));
                if let Err(e) = links::remove_vip(&self.handle, index, &vip).await {
                    error!("({instance}) removing {} from {dev}: {e}", vip.address);
                }
            }
            Output::Announce {
                instance,
                interface,
                addresses,
                count,
            } => {
                if let Some(a) = self.announcers.get(&interface) {
                    for addr in addresses {
                        if let Err(e) = a.announce(addr, count) {
                            warn!("({instance}) announcing {addr} on {interface}: {e}");
                        }
                    }
                }
            }
            Output::Event(e) => {
                info!("({}) Entering {:?} STATE ({})", e.instance, e.to, e.reason);
            }
            Output::Alert(m) => {
                info!("alert mail: {}", m.subject);
                let slots = self.slots.clone();
                mail::send(&self.config, m, slots, &mut self.mails);
            }
            Output::GroupChanged { group, from, to } => {
                info!("VRRP_Group({group}) {from:?} -> {to:?}");
            }
            Output::Probe {
                id,
                checker,
                address,
                port,
                url,
                timeout,
            } => {
                let tx = self.tx.clone();
                let env = self.probe_env.clone();
                tokio::spawn(async move {
                    let outcome = probes::run(&checker, address, port, url, timeout, &env).await;
                    let _ = tx.send((Input::ProbeDone { id, outcome }, None));
                });
            }
            Output::Lvs(op) => {
                debug!("LVS: {op:?}");
                self.lvs_changed = true;
            }
            Output::RealServerChanged {
                address,
                port,
                up,
                reason,
                ..
            } => {
                let state = if up { "up" } else { "down" };
                info!(
                    "real server {address}:{} {state} {reason}",
                    port.unwrap_or(0)
                );
            }
            Output::RunTrackScript {
                id,
                name,
                script,
                timeout,
            } => {
                let tx = self.tx.clone();
                let prepared = self.probe_env.prepare(&script, &[]);
                tokio::spawn(async move {
                    let success = match prepared {
                        Ok(p) => p.run(timeout).await == scripts::Exit::Code(0),
                        Err(e) => {
                            warn!("vrrp_script {name}: {e}");
                            false
                        }
                    };
                    let _ = tx.send((Input::ScriptDone { id, success }, None));
                });
            }
            Output::RunScript { script, args } => {
                let prepared = self.probe_env.prepare(&script, &args);
                let slots = self.slots.clone();
                match prepared {
                    Err(e) => error!("script {}: {e}", script.command),
                    Ok(p) => {
                        self.tasks.spawn(async move {
                            // Waits for a slot: a burst is delayed, not lost.
                            let Ok(_slot) = slots.acquire_owned().await else {
                                return;
                            };
                            match p.run(NOTIFY_TIMEOUT).await {
                                scripts::Exit::Code(0) => {}
                                other => warn!("script {}: {other:?}", script.command),
                            }
                        });
                    }
                }
            }
        }
    }

    /// The global `script_user`, as scripts run.
    pub(super) fn script_user(&self) -> Option<(String, Option<String>)> {
        self.config
            .global
            .script_user
            .as_ref()
            .map(|u| (u.user.clone(), u.group.clone()))
    }
}
