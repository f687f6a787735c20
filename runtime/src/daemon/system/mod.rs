//! The production kernel under the driver loop: the monotonic clock and a
//! timerfd, raw VRRP sockets, packet sockets for gratuitous ARP and
//! unsolicited NA, rtnetlink (addresses, link and address events), probes,
//! scripts and mail on tokio tasks, signals, and the data plane's thread.
//!
//! - `setup.rs`: start-up (interfaces, stale addresses of a crashed run,
//!   sockets per interface the configuration names);
//! - `netlink.rs`: link and address events as core inputs, interfaces that
//!   are deleted and created again;
//! - `effects.rs`: carrying out core's outputs;
//! - `signals.rs`: every signal a keepalived user sends.

mod effects;
mod netlink;
mod setup;
mod signals;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::StreamExt;
use holdfast_core::config::model::{Config, Family, GlobalDefs, VirtualIp};
use holdfast_core::lvs::Table;
use holdfast_core::node::{Input, Interface, Output};
use holdfast_core::time::Instant;
use tokio::signal::unix::{signal, Signal as Stream, SignalKind};
use tokio::sync::{mpsc, Semaphore};
use tokio::task::AbortHandle;
use tracing::warn;

use crate::announce::Announcer;
use crate::clock::{monotonic_ns, Timer};
use crate::dataplane::worker::{Choice, Worker};
use crate::links::Link;
use crate::probes;
use crate::vrrp_socket::VrrpSocket;

use super::kernel::{Arrival, Kernel, Signal, Wake};
use super::{sys, DaemonError};
use signals::OtherSignal;

/// Notify scripts and alerts running at once, at most: a storm of state
/// changes must not pile up processes.
const MAX_SCRIPTS: usize = 32;
/// How long a notify script may run.
const NOTIFY_TIMEOUT: Duration = Duration::from_secs(30);

/// rtnetlink's multicast messages.
type NetlinkEvents = futures_util::stream::BoxStream<
    'static,
    (
        netlink_packet_core::NetlinkMessage<netlink_packet_route::RouteNetlinkMessage>,
        netlink_sys::SocketAddr,
    ),
>;

/// What the configuration asks of the machine, kept from the last
/// `configure`: the driver holds the configuration, not the kernel.
#[derive(Debug, Default)]
struct Needs {
    /// (interface, IPv6?) of every instance: a VRRP socket each ("" for
    /// the one bound to no interface).
    sockets: Vec<(String, bool)>,
    /// Interfaces a virtual address lives on: an announcer each.
    vip_devs: Vec<String>,
    /// The multicast groups and the mail settings.
    global: GlobalDefs,
}

/// The real machine.
pub struct System {
    keep_lvs: bool,
    ssl_verify: bool,
    data_plane: Choice,
    repair_interval: Duration,
    origin: u64,
    handle: rtnetlink::Handle,
    events: NetlinkEvents,
    links: Vec<Link>,
    needs: Needs,
    sockets: BTreeMap<(String, bool), (Arc<VrrpSocket>, AbortHandle)>,
    announcers: BTreeMap<String, Announcer>,
    /// Virtual addresses holdfast put on interfaces: (ifindex, address).
    held: BTreeMap<(u32, IpAddr), (String, VirtualIp)>,
    tx: mpsc::UnboundedSender<Arrival>,
    rx: mpsc::UnboundedReceiver<Arrival>,
    timer: Timer,
    slots: Arc<Semaphore>,
    /// Notify scripts in flight: a stop waits for them (a bounded while),
    /// so notify_stop runs.
    tasks: tokio::task::JoinSet<()>,
    /// Alert mail in flight. A stop abandons what was sent before it and
    /// waits, with the scripts, for the alerts the stop itself raises.
    mails: tokio::task::JoinSet<()>,
    /// What probes share: TLS settings, script user and security.
    probe_env: probes::ProbeEnv,
    /// The data plane's thread, from the first LVS table on.
    dataplane: Option<Worker>,
    term: Stream,
    int: Stream,
    hup: Stream,
    usr1: Stream,
    others: mpsc::UnboundedReceiver<i32>,
}

impl System {
    /// The interface called `name`, as the kernel last reported it.
    fn link(&self, name: &str) -> Option<&Link> {
        self.links.iter().find(|l| l.name == name && l.index != 0)
    }

    /// The monotonic clock as core counts it (from the start).
    fn instant(&self, ns: u64) -> Instant {
        Instant::from_nanos(ns.saturating_sub(self.origin))
    }

    /// Closes every VRRP socket but those `keep` says, and stops their
    /// readers.
    fn close_sockets(&mut self, keep: impl Fn(&(String, bool)) -> bool) {
        let gone: Vec<(String, bool)> = self.sockets.keys().filter(|k| !keep(k)).cloned().collect();
        for k in gone {
            if let Some((_, reader)) = self.sockets.remove(&k) {
                reader.abort();
            }
        }
    }

    /// Signals, the timer, inputs and netlink, in this order of priority.
    async fn wait(&mut self, at: Option<u64>) -> Result<Option<Wake>, DaemonError> {
        Ok(Some(tokio::select! {
            biased;
            _ = self.term.recv() => Wake::Signal(Signal::Stop("SIGTERM")),
            _ = self.int.recv() => Wake::Signal(Signal::Stop("SIGINT")),
            r = self.timer.fired(), if at.is_some() => {
                r.map_err(sys("timerfd"))?;
                Wake::Timer
            }
            Some(ev) = self.rx.recv() => Wake::Input(ev),
            Some((msg, _)) = self.events.next() => {
                // Its inputs join the queue: nothing to hand over yet.
                self.netlink(msg.payload);
                return Ok(None);
            }
            _ = self.hup.recv() => Wake::Signal(Signal::Reload),
            _ = self.usr1.recv() => Wake::Signal(Signal::Dump),
            Some(n) = self.others.recv() => Wake::Signal(match OtherSignal::of(n) {
                OtherSignal::Stats => Signal::Stats { clear: false },
                OtherSignal::StatsClear => Signal::Stats { clear: true },
                OtherSignal::Json => Signal::Dump,
                OtherSignal::Quit => Signal::Stop("SIGQUIT"),
                OtherSignal::Ignored => Signal::Ignored(n),
            }),
        }))
    }
}

impl Kernel for System {
    fn now(&self) -> Instant {
        self.instant(monotonic_ns())
    }

    fn interfaces(&self) -> Vec<Interface> {
        // A deleted interface is still known, down: a reload while it is
        // gone keeps tracking it (keepalived keeps its interface_t).
        self.links
            .iter()
            .map(|l| Interface {
                name: l.name.clone(),
                ipv4: l.ipv4.map(IpAddr::V4),
                ipv6: l.ipv6.map(IpAddr::V6),
                up: l.up,
            })
            .collect()
    }

    fn try_next(&mut self) -> Option<Arrival> {
        self.rx.try_recv().ok()
    }

    async fn next(&mut self, deadline: Option<Instant>) -> Result<Wake, DaemonError> {
        let at = deadline.map(|t| self.origin + t.as_nanos());
        self.timer.arm(at).map_err(sys("timerfd"))?;
        loop {
            if let Some(w) = self.wait(at).await? {
                return Ok(w);
            }
            // A netlink event's inputs are queued; hand the first over.
            if let Some(ev) = self.try_next() {
                return Ok(Wake::Input(ev));
            }
        }
    }

    async fn carry_out(&mut self, output: Output) -> Option<Input> {
        self.effect(output).await
    }

    fn apply_table(&mut self, table: &Table) {
        // `--data-plane none`: the table is only logged (debug).
        if self.data_plane == Choice::None {
            return;
        }
        if self.dataplane.is_none() {
            match Worker::start(self.data_plane, self.repair_interval) {
                Ok(w) => self.dataplane = Some(w),
                Err(e) => return tracing::error!("starting the data-plane thread: {e}"),
            }
        }
        if let Some(w) = &self.dataplane {
            w.apply(table.clone());
        }
    }

    fn configure(&mut self, config: &Config) -> Result<(), DaemonError> {
        let needs = Needs {
            // "": the socket bound to no interface (unicast instances
            // without one).
            sockets: config
                .instances
                .iter()
                .map(|i| {
                    let name = i.interface.clone().unwrap_or_default();
                    (name, i.family == Family::Ipv6)
                })
                .collect(),
            vip_devs: config
                .instances
                .iter()
                .flat_map(|i| i.vips().map(|v| i.vip_dev(v)))
                .filter(|dev| !dev.is_empty())
                .collect(),
            global: config.global.clone(),
        };
        // What the new configuration needs is opened first; if the system
        // refuses it, what this attempt opened is closed and the running
        // configuration's needs stay.
        let previous = std::mem::replace(&mut self.needs, needs);
        let had: Vec<(String, bool)> = self.sockets.keys().cloned().collect();
        let had_announcers: Vec<String> = self.announcers.keys().cloned().collect();
        if let Err(e) = self.open_sockets() {
            self.needs = previous;
            self.close_sockets(|k| had.contains(k));
            self.announcers.retain(|k, _| had_announcers.contains(k));
            return Err(e);
        }
        // What the configuration no longer needs closes.
        let wanted = self.needs.sockets.clone();
        self.close_sockets(|k| wanted.contains(k));
        let devs: Vec<String> = (self.needs.vip_devs.iter())
            .chain(self.needs.sockets.iter().map(|(n, _)| n))
            .cloned()
            .collect();
        self.announcers.retain(|k, _| devs.contains(k));
        self.probe_env = self.make_probe_env(config);
        Ok(())
    }

    fn data_plane(&self) -> serde_json::Value {
        let status = self.dataplane.as_ref().map(Worker::status);
        serde_json::to_value(status).unwrap_or_default()
    }

    fn reap(&mut self) {
        while self.tasks.try_join_next().is_some() {}
        while self.mails.try_join_next().is_some() {}
    }

    fn stopping(&mut self) {
        let abandoned = std::mem::take(&mut self.mails).len();
        if abandoned > 0 {
            warn!("{abandoned} alert mail(s) still in flight abandoned");
        }
    }

    async fn stop(&mut self) {
        // Anything still held (an instance that never got to remove it).
        for ((index, _), (inst, vip)) in std::mem::take(&mut self.held) {
            if let Err(e) = crate::links::remove_vip(&self.handle, index, &vip).await {
                warn!("({inst}) removing {}: {e}", vip.address);
            }
        }
        // The LVS table goes (unless kept), after the addresses: traffic
        // for the VIPs has already moved to the peer. Joined off this
        // thread and for a bounded while: an nft run in flight finishes
        // first, and nothing here must hang the stop.
        if let Some(w) = self.dataplane.take() {
            let keep = self.keep_lvs;
            let stop = tokio::task::spawn_blocking(move || w.stop(keep));
            if tokio::time::timeout(Duration::from_secs(10), stop)
                .await
                .is_err()
            {
                warn!("the data plane did not finish within 10 s: its table may be left behind");
            }
        }
        // notify_stop and the stop's own alerts, for a bounded while.
        let wait = async {
            while self.tasks.join_next().await.is_some() {}
            while self.mails.join_next().await.is_some() {}
        };
        if tokio::time::timeout(Duration::from_secs(5), wait)
            .await
            .is_err()
        {
            warn!("scripts or mail still running at exit: left behind");
        }
    }
}

/// Opens the signal streams the loop selects on.
fn streams() -> Result<[Stream; 4], DaemonError> {
    let open = |k| signal(k).map_err(sys("signal"));
    Ok([
        open(SignalKind::terminate())?,
        open(SignalKind::interrupt())?,
        open(SignalKind::hangup())?,
        open(SignalKind::user_defined1())?,
    ])
}
