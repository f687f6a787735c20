//! What the node asks its driver to do or report, drained with
//! `Node::poll_output`.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::Arc;

use serde::Serialize;

#[cfg(doc)]
use super::Input;
use crate::alert::Mail;
use crate::check::schedule::ProbeId;
use crate::config::model::{Checker, Script, VirtualIp};
use crate::lvs::Op;
use crate::time::Instant;
use crate::vrrp::instance::{Reason, State, Transmit};

/// Something the driver must do or report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub enum Output {
    /// Send a VRRP message.
    Transmit(Transmit),
    /// Add a virtual address.
    AddVip {
        /// Instance it belongs to.
        instance: String,
        /// The address, prefix, label...
        vip: VirtualIp,
        /// Device to put it on.
        dev: String,
    },
    /// Remove a virtual address.
    RemoveVip {
        /// Instance it belongs to.
        instance: String,
        /// The address.
        vip: VirtualIp,
        /// Device it is on.
        dev: String,
    },
    /// Send gratuitous ARPs / unsolicited NAs for these addresses.
    Announce {
        /// Instance.
        instance: String,
        /// Interface to announce on.
        interface: String,
        /// Addresses.
        addresses: Vec<IpAddr>,
        /// Messages per address.
        count: u32,
    },
    /// An instance changed state.
    Event(Event),
    /// A sync group changed state (all its members now share `to`).
    GroupChanged {
        /// Group name.
        group: String,
        /// Previous common state.
        from: State,
        /// New common state.
        to: State,
    },
    /// Run a checker's probe; report with [`Input::ProbeDone`]. It carries
    /// everything the driver needs: no driver looks the checker up.
    Probe {
        /// This run.
        id: ProbeId,
        /// The checker's settings (shared with core, not copied per probe).
        checker: Arc<Checker>,
        /// Address to connect to.
        address: IpAddr,
        /// Port to connect to.
        port: u16,
        /// HTTP_GET / SSL_GET: which url.
        url: usize,
        /// It fails if not done by then.
        timeout: std::time::Duration,
    },
    /// Apply a change to the LVS table.
    Lvs(Op),
    /// Send this alert to every `notification_email` through `smtp_server`
    /// (core has decided that keepalived would).
    Alert(Mail),
    /// A real server came up or went down.
    RealServerChanged {
        /// Its virtual server: its place in the configuration, which traces
        /// and reports use to tell two services' pools apart.
        vs: usize,
        /// The real server's address.
        address: IpAddr,
        /// Its port (none: the service's ports).
        port: Option<u16>,
        /// Up now?
        up: bool,
        /// Why (the failing checker's reason when down).
        reason: String,
    },
    /// Run a `vrrp_script` check; report with [`Input::ScriptDone`]. A run
    /// that has not reported within `timeout` counts as failed.
    RunTrackScript {
        /// Identifies this run.
        id: u64,
        /// The vrrp_script's name.
        name: String,
        /// What to run.
        script: Script,
        /// How long it may take.
        timeout: std::time::Duration,
    },
    /// Run a notify script: the command as configured, then `args`
    /// (keepalived appends `INSTANCE|GROUP NAME STATE PRIORITY` for the
    /// generic `notify` script, nothing for `notify_master` and the others).
    RunScript {
        /// What to run and as whom.
        script: Script,
        /// Arguments after the configured command line.
        args: Vec<String>,
    },
}

/// A state change, with its cause.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    /// Instance name.
    pub instance: String,
    /// Previous state.
    pub from: State,
    /// New state.
    pub to: State,
    /// Why.
    pub reason: Reason,
}

/// The node's pending outputs, kept in the drain order (see `Node`,
/// "Driving a node"): adverts first, each kind in the order it was raised,
/// each stamped with the time core raised it.
#[derive(Debug, Default)]
pub(crate) struct Outbox {
    adverts: VecDeque<(Instant, Output)>,
    rest: VecDeque<(Instant, Output)>,
    /// The time of the call being handled, which stamps what it raises.
    now: Instant,
}

impl Outbox {
    /// The node is handling a call at `now`.
    pub(crate) fn at(&mut self, now: Instant) {
        self.now = now;
    }

    /// Queues one output.
    pub(crate) fn push_back(&mut self, o: Output) {
        let stamped = (self.now, o);
        match stamped.1 {
            Output::Transmit(_) => self.adverts.push_back(stamped),
            _ => self.rest.push_back(stamped),
        }
    }

    /// Queues several, in order.
    pub(crate) fn extend(&mut self, outputs: impl IntoIterator<Item = Output>) {
        for o in outputs {
            self.push_back(o);
        }
    }

    /// The next output to carry out, with the time core raised it.
    pub(crate) fn pop(&mut self) -> Option<(Instant, Output)> {
        self.adverts.pop_front().or_else(|| self.rest.pop_front())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vrrp::instance::Transmit;

    fn advert(n: u8) -> Output {
        Output::Transmit(Transmit {
            interface: None,
            src: "10.0.0.1".parse().unwrap(),
            dst: "224.0.0.18".parse().unwrap(),
            ttl: 255,
            bytes: vec![n],
        })
    }

    #[test]
    fn adverts_leave_first_and_each_kind_keeps_its_order() {
        let mut out = Outbox::default();
        let script = |c: &str| Output::RunScript {
            script: Script {
                command: c.into(),
                user: None,
                group: None,
            },
            args: Vec::new(),
        };
        out.push_back(script("a"));
        out.push_back(advert(1));
        out.extend([script("b"), advert(2)]);
        let order: Vec<Output> = std::iter::from_fn(|| out.pop().map(|(_, o)| o)).collect();
        assert_eq!(order, vec![advert(1), advert(2), script("a"), script("b")]);
    }
}
