//! Carrying out core's outputs on the machine: adverts on the VRRP
//! sockets, addresses over rtnetlink, announcements on packet sockets,
//! probes, scripts and mail on tasks. Nothing here decides: a refused
//! address is reported back to core, which retries it.

use holdfast_core::node::{Input, Output};
use tracing::{debug, error, info, warn};

use crate::links;
use crate::mail;
use crate::probes;
use crate::scripts;

use super::{System, NOTIFY_TIMEOUT};

impl System {
    /// Carries out one output of the node; a VIP add answers at once.
    pub(super) async fn effect(&mut self, o: Output) -> Option<Input> {
        match o {
            Output::Transmit(t) => {
                let iface = t.interface.clone().unwrap_or_default();
                match self.sockets.get(&(iface.clone(), t.dst.is_ipv6())) {
                    Some((s, _)) => {
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
                return Some(Input::VipResult {
                    instance,
                    address,
                    error,
                });
            }
            Output::RemoveVip { instance, vip, dev } => {
                let index = self.link(&dev).map(|l| l.index)?;
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
                mail::send(&self.needs.global, m, slots, &mut self.mails);
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
            Output::Lvs(op) => debug!("LVS: {op:?}"),
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
            // An output core has and this kernel does not carry out yet
            // (core's outputs are non-exhaustive): said, never skipped in
            // silence.
            other => error!("the daemon does not carry out {other:?}"),
        }
        None
    }
}
