//! The daemon: one tokio task that feeds `core::Node` its inputs with the
//! monotonic clock and carries out its outputs. It decides nothing itself
//! (docs/architecture.md, "The sans-IO contract" and "The daemon"):
//! sockets, netlink, probes and scripts only report, and every reaction
//! comes from the node.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::StreamExt;
use holdfast_core::config::model::{Config, Family, VirtualIp};
use holdfast_core::config::{self, FsLoader, LoadOptions, Severity};
use holdfast_core::node::{Input, Interface, Output};
use holdfast_core::time::Instant;
use holdfast_core::trace::{self, Kind, Record};
use holdfast_core::Node;
use netlink_packet_core::NetlinkPayload;
use netlink_packet_route::RouteNetlinkMessage;
use rtnetlink::MulticastGroup;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::{mpsc, Semaphore};
use tracing::{debug, error, info, warn};

use crate::announce::Announcer;
use crate::clock::{monotonic_ns, Timer};
use crate::dataplane::worker::{Choice, Worker};
use crate::links::{self, Link};
use crate::mail;
use crate::probes;
use crate::scripts;
use crate::vrrp_socket::VrrpSocket;

/// How to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// The configuration file.
    pub config: PathBuf,
    /// Config id for `@ID` lines.
    pub config_id: Option<String>,
    /// Where SIGUSR1 writes the state (JSON).
    pub dump: PathBuf,
    /// Write trace records (JSON lines) here.
    pub trace: Option<PathBuf>,
    /// Which data plane programs the LVS table.
    pub data_plane: Choice,
    /// How often the kernel's table is read back and drift repaired.
    pub repair_interval: Duration,
    /// Leave the LVS table in the kernel on stop (keepalived's
    /// `--dont-release-ipvs`).
    pub keep_lvs: bool,
    /// SSL_GET checks certificates against the `SSL` block's `ca`
    /// (keepalived never does).
    pub ssl_verify: bool,
    /// Run without the features holdfast does not implement, instead of
    /// refusing the configuration (`--ignore-unimplemented`).
    pub ignore_unimplemented: bool,
}

/// Why the daemon could not start.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// The configuration has errors.
    #[error("{0}")]
    Config(String),
    /// The system refused something the daemon needs.
    #[error("{0}")]
    System(String),
}

fn sys(what: &str) -> impl Fn(std::io::Error) -> DaemonError + '_ {
    move |e| DaemonError::System(format!("{what}: {e}"))
}

/// Notify scripts and alerts running at once, at most: a storm of state
/// changes must not pile up processes.
const MAX_SCRIPTS: usize = 32;
/// How long a notify script may run.
const NOTIFY_TIMEOUT: Duration = Duration::from_secs(30);

/// Reads a configuration; errors are refused whole, warnings logged.
pub fn load(opts: &Options) -> Result<Config, DaemonError> {
    let lo = LoadOptions {
        config_id: opts.config_id.clone(),
        strict: false,
        ignore_unimplemented: opts.ignore_unimplemented,
    };
    let loaded = config::load(&opts.config, &FsLoader, &lo);
    for d in loaded.diagnostics.iter() {
        let text = d.render(&loaded.sources);
        match d.severity {
            Severity::Error => error!("{}", text.trim_end()),
            _ => warn!("{}", text.trim_end()),
        }
    }
    let mut config = loaded.config.ok_or_else(|| {
        DaemonError::Config(format!(
            "{}: {} error(s): the configuration is not used",
            opts.config.display(),
            loaded.diagnostics.count(Severity::Error)
        ))
    })?;
    config.global.fill_host_defaults(&host_name(), &user_name());
    Ok(config)
}

/// The host's name, as keepalived's default `router_id` (uname's nodename).
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// The name of the user the daemon runs as (keepalived's default alert
/// sender is USER@HOST).
fn user_name() -> String {
    // SAFETY: getpwuid returns a pointer into static storage or null; the
    // name is copied out before any other call could reuse it.
    unsafe {
        let pw = libc::getpwuid(libc::getuid());
        if pw.is_null() {
            return String::new();
        }
        std::ffi::CStr::from_ptr((*pw).pw_name)
            .to_string_lossy()
            .into_owned()
    }
}

/// Runs the daemon until SIGTERM or SIGINT.
pub fn run(opts: Options) -> Result<(), DaemonError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(sys("tokio"))?;
    rt.block_on(async move {
        let daemon = Daemon::start(opts).await?;
        daemon.serve().await
    })
}

/// Where SIGUSR2 writes the statistics: the dump's path with the
/// extension `stats` (`/run/holdfast.json` → `/run/holdfast.stats`).
pub fn stats_path(dump: &std::path::Path) -> PathBuf {
    dump.with_extension("stats")
}

/// What a signal other than SIGTERM, SIGINT, SIGHUP and SIGUSR1 does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OtherSignal {
    /// SIGUSR2: keepalived's statistics file.
    Stats,
    /// keepalived's SIGSTATS_CLEAR (SIGRTMAX - 1): the file, then zero.
    StatsClear,
    /// keepalived's SIGJSON (SIGRTMIN + 2): the JSON state (as SIGUSR1).
    Json,
    /// SIGQUIT: an orderly stop, as SIGTERM.
    Quit,
    /// Any other signal whose default would end the process: logged and
    /// ignored, so that no stray signal leaves the addresses configured
    /// and the peer without a priority-0 advert.
    Ignored,
}

impl OtherSignal {
    fn of(n: i32) -> OtherSignal {
        match n {
            libc::SIGUSR2 => OtherSignal::Stats,
            libc::SIGQUIT => OtherSignal::Quit,
            n if n == libc::SIGRTMIN() + 2 => OtherSignal::Json,
            n if n == libc::SIGRTMAX() - 1 => OtherSignal::StatsClear,
            _ => OtherSignal::Ignored,
        }
    }
}

/// Catches every signal whose default action ends the process (but those
/// the loop handles itself, and the faults a program raises on itself:
/// SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP), and hands their
/// numbers to the loop.
fn other_signals() -> Result<mpsc::UnboundedReceiver<i32>, DaemonError> {
    let (tx, rx) = mpsc::unbounded_channel();
    let fixed = [
        libc::SIGUSR2,
        libc::SIGQUIT,
        libc::SIGALRM,
        libc::SIGVTALRM,
        libc::SIGPROF,
        libc::SIGIO,
        libc::SIGPWR,
        libc::SIGSTKFLT,
        libc::SIGXCPU,
        libc::SIGXFSZ,
        libc::SIGSYS,
    ];
    let realtime = libc::SIGRTMIN()..=libc::SIGRTMAX();
    for n in fixed.into_iter().chain(realtime) {
        let mut s = signal(SignalKind::from_raw(n)).map_err(sys("signal"))?;
        let tx = tx.clone();
        tokio::spawn(async move {
            while s.recv().await.is_some() {
                if tx.send(n).is_err() {
                    return;
                }
            }
        });
    }
    Ok(rx)
}

/// An input for core, and when the kernel received it if it was a packet.
type Event = (Input, Option<u64>);

struct Daemon {
    opts: Options,
    config: Config,
    node: Node,
    origin: u64,
    handle: rtnetlink::Handle,
    links: Vec<Link>,
    sockets: BTreeMap<(String, bool), Arc<VrrpSocket>>,
    announcers: BTreeMap<String, Announcer>,
    /// Virtual addresses holdfast put on interfaces: (ifindex, address).
    held: BTreeMap<(u32, IpAddr), (String, VirtualIp)>,
    tx: mpsc::UnboundedSender<Event>,
    rx: mpsc::UnboundedReceiver<Event>,
    /// The latest time handed to core: a packet's kernel timestamp may be
    /// older than an event core already saw, and core's time never runs
    /// backwards.
    fed: std::cell::Cell<Instant>,
    timer: Timer,
    slots: Arc<Semaphore>,
    /// Notify scripts in flight: a stop waits for them (a bounded while),
    /// so notify_stop runs.
    tasks: tokio::task::JoinSet<()>,
    /// Alert mail in flight. A stop abandons what was sent before it (a
    /// mail stuck on an unreachable relay must not hold the exit up) and
    /// waits, with the scripts, for the alerts the stop itself raises.
    mails: tokio::task::JoinSet<()>,
    trace: Option<std::io::BufWriter<std::fs::File>>,
    /// What probes share: TLS settings, script user and security.
    probe_env: probes::ProbeEnv,
    /// The data plane's thread, from the first LVS table on.
    dataplane: Option<Worker>,
    /// The LVS table changed in the last drain: hand it over.
    lvs_changed: bool,
    /// An input taken from the queue early and put back (see
    /// `take_arrived_before`).
    stash: Option<Event>,
}

impl Daemon {
    /// The monotonic clock, from the daemon's start.
    fn now(&self) -> Instant {
        Instant::from_nanos(monotonic_ns().saturating_sub(self.origin))
    }

    /// The time to hand core now: never before the last one it got.
    fn core_now(&self) -> Instant {
        self.time_of(None)
    }

    /// Core's time for an input: when the kernel received it if it said
    /// (between the last time core got and now), else now. Only times
    /// handed to core raise the floor, so an advert that waited in the
    /// queue while the loop was busy still counts from its arrival.
    fn time_of(&self, arrived_ns: Option<u64>) -> Instant {
        let floor = self.fed.get();
        let now = self.now().max(floor);
        let t = arrived_ns.map_or(now, |a| {
            Instant::from_nanos(a.saturating_sub(self.origin)).clamp(floor, now)
        });
        self.fed.set(t);
        t
    }

    /// Before a due timer fires: inputs that the kernel received before
    /// its deadline go first (an advert that came in time resets a
    /// master-down timer, whenever it was read). At most 64 a turn, so a
    /// flood cannot hold the timer back; the first later one waits in
    /// `stash`.
    async fn take_arrived_before(&mut self, due: Instant) {
        // The readers get to hand over what the kernel holds.
        tokio::task::yield_now().await;
        for _ in 0..64 {
            let ev = match self.stash.take() {
                Some(ev) => ev,
                None => match self.rx.try_recv() {
                    Ok(ev) => ev,
                    Err(_) => return,
                },
            };
            match ev.1 {
                Some(a) if Instant::from_nanos(a.saturating_sub(self.origin)) <= due => {
                    let at = self.time_of(ev.1);
                    self.node.handle(at, ev.0);
                }
                _ => {
                    self.stash = Some(ev);
                    return;
                }
            }
        }
    }

    fn core_interfaces(&self) -> Vec<Interface> {
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

    fn link(&self, name: &str) -> Option<&Link> {
        self.links.iter().find(|l| l.name == name)
    }

    async fn start(opts: Options) -> Result<Daemon, DaemonError> {
        let origin = monotonic_ns();
        let config = load(&opts)?;
        let (conn, handle, _) = rtnetlink::new_connection().map_err(sys("netlink"))?;
        tokio::spawn(conn);
        let links = links::discover(&handle)
            .await
            .map_err(|e| DaemonError::System(format!("netlink: listing interfaces: {e}")))?;
        let (tx, rx) = mpsc::unbounded_channel();
        let trace = match &opts.trace {
            Some(p) => Some(std::io::BufWriter::new(
                std::fs::File::create(p).map_err(sys("trace file"))?,
            )),
            None => None,
        };
        let seed = monotonic_ns() ^ u64::from(std::process::id());
        let mut d = Daemon {
            node: Node::new(Instant::ZERO, &Config::default(), &[])
                .map_err(|e| DaemonError::System(e.to_string()))?,
            opts,
            config,
            origin,
            handle,
            links,
            sockets: BTreeMap::new(),
            announcers: BTreeMap::new(),
            held: BTreeMap::new(),
            tx,
            rx,
            fed: std::cell::Cell::new(Instant::ZERO),
            timer: Timer::new().map_err(sys("timerfd"))?,
            slots: Arc::new(Semaphore::new(MAX_SCRIPTS)),
            tasks: tokio::task::JoinSet::new(),
            mails: tokio::task::JoinSet::new(),
            trace,
            dataplane: None,
            lvs_changed: false,
            stash: None,
            probe_env: probes::ProbeEnv {
                tls: Arc::new(probes::Tls::new(None, false)),
                script_user: None,
                enforce_security: false,
            },
        };
        d.probe_env = d.make_probe_env();
        d.remove_stale_vips().await;
        let now = d.core_now();
        d.node = Node::with_seed(now, &d.config, &d.core_interfaces(), seed)
            .map_err(|e| DaemonError::Config(e.to_string()))?;
        d.open_sockets()?;
        d.record(Kind::Start {
            config: d.opts.config.display().to_string(),
        });
        info!(
            "started: {} VRRP instance(s), {} virtual server(s)",
            d.config.instances.len(),
            d.config.virtual_servers.len()
        );
        Ok(d)
    }

    fn make_probe_env(&self) -> probes::ProbeEnv {
        let tls = probes::Tls::new(self.config.ssl.as_ref(), self.opts.ssl_verify);
        if let Some(e) = tls.error() {
            error!("{e}: every SSL_GET check fails until it is fixed");
        }
        probes::ProbeEnv {
            tls: Arc::new(tls),
            script_user: self.script_user(),
            enforce_security: self.config.global.enable_script_security,
        }
    }

    /// A crashed run may have left its addresses: they go before anything
    /// starts (keepalived: "removing VIPs" before BACKUP(init)).
    async fn remove_stale_vips(&mut self) {
        let mut stale = Vec::new();
        for inst in &self.config.instances {
            for vip in inst
                .virtual_ipaddress
                .iter()
                .chain(&inst.virtual_ipaddress_excluded)
            {
                let dev = vip
                    .dev
                    .clone()
                    .or_else(|| inst.interface.clone())
                    .unwrap_or_default();
                // The discovery's address dump says what is there.
                let link = self
                    .link(&dev)
                    .filter(|l| l.addresses.contains(&vip.address));
                if let Some(l) = link {
                    stale.push((inst.name.clone(), l.index, dev, vip.clone()));
                }
            }
        }
        for (inst, index, dev, vip) in stale {
            info!("({inst}) removing stale VIP {} from {dev}", vip.address);
            if let Err(e) = links::remove_vip(&self.handle, index, &vip).await {
                warn!("({inst}) cannot remove {} from {dev}: {e}", vip.address);
            }
        }
    }

    /// One VRRP socket per interface and family the instances use, and an
    /// announcer for every interface a virtual address lives on.
    fn open_sockets(&mut self) -> Result<(), DaemonError> {
        let devs: Vec<String> = self
            .config
            .instances
            .iter()
            .flat_map(|i| {
                i.virtual_ipaddress
                    .iter()
                    .chain(&i.virtual_ipaddress_excluded)
                    .filter_map(|v| v.dev.clone().or_else(|| i.interface.clone()))
            })
            .collect();
        for dev in devs {
            let Some(link) = self.link(&dev).cloned() else {
                continue;
            };
            if let std::collections::btree_map::Entry::Vacant(slot) =
                self.announcers.entry(dev.clone())
            {
                let a = Announcer::open(&dev, link.index, link.mac)
                    .map_err(|e| DaemonError::System(format!("packet socket on {dev}: {e}")))?;
                slot.insert(a);
            }
        }
        let wanted: Vec<(String, Family)> = self
            .config
            .instances
            .iter()
            .filter_map(|i| Some((i.interface.clone()?, i.family)))
            .collect();
        for (ifname, family) in wanted {
            let v6 = family == Family::Ipv6;
            if self.sockets.contains_key(&(ifname.clone(), v6)) {
                continue;
            }
            let link = self
                .link(&ifname)
                .ok_or_else(|| DaemonError::Config(format!("interface {ifname} does not exist")))?
                .clone();
            let (local, group) = if v6 {
                (
                    link.ipv6.map(IpAddr::V6),
                    IpAddr::V6(self.config.global.vrrp_mcast_group6),
                )
            } else {
                (
                    link.ipv4.map(IpAddr::V4),
                    IpAddr::V4(self.config.global.vrrp_mcast_group4),
                )
            };
            let local = local.ok_or_else(|| {
                DaemonError::Config(format!("interface {ifname} has no {family:?} address"))
            })?;
            let sock = Arc::new(
                VrrpSocket::open(&ifname, link.index, local, group)
                    .map_err(|e| DaemonError::System(format!("VRRP socket on {ifname}: {e}")))?,
            );
            let (tx, reader, name) = (self.tx.clone(), sock.clone(), ifname.clone());
            tokio::spawn(async move {
                loop {
                    match reader.recv().await {
                        Ok(r) => {
                            let input = Input::Packet {
                                interface: name.clone(),
                                src: r.src,
                                dst: r.dst,
                                ttl: r.ttl,
                                bytes: r.bytes,
                            };
                            if tx.send((input, r.arrived_ns)).is_err() {
                                return;
                            }
                        }
                        Err(e) => {
                            warn!("{name}: reading VRRP: {e}");
                            tokio::time::sleep(Duration::from_millis(100)).await;
                        }
                    }
                }
            });
            self.sockets.insert((ifname.clone(), v6), sock);
            if let std::collections::btree_map::Entry::Vacant(slot) =
                self.announcers.entry(ifname.clone())
            {
                let a = Announcer::open(&ifname, link.index, link.mac)
                    .map_err(|e| DaemonError::System(format!("packet socket on {ifname}: {e}")))?;
                slot.insert(a);
            }
        }
        Ok(())
    }

    fn record(&mut self, kind: Kind) {
        let t_ns = self.now().as_nanos();
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

    async fn serve(mut self) -> Result<(), DaemonError> {
        let mut term = signal(SignalKind::terminate()).map_err(sys("signal"))?;
        let mut int = signal(SignalKind::interrupt()).map_err(sys("signal"))?;
        let mut hup = signal(SignalKind::hangup()).map_err(sys("signal"))?;
        let mut usr1 = signal(SignalKind::user_defined1()).map_err(sys("signal"))?;
        let mut others = other_signals()?;
        let (conn, _, mut events) = rtnetlink::new_multicast_connection(&[
            MulticastGroup::Link,
            MulticastGroup::Ipv4Ifaddr,
            MulticastGroup::Ipv6Ifaddr,
        ])
        .map_err(sys("netlink"))?;
        tokio::spawn(conn);
        crate::notify::ready();
        loop {
            // Timers that are due run before anything newer, so a flood of
            // packets cannot starve a Master's adverts.
            while let Some(due) = self.node.poll_timeout().filter(|t| *t <= self.now()) {
                self.take_arrived_before(due).await;
                if self.node.poll_timeout().is_some_and(|t| t <= self.now()) {
                    let now = self.core_now();
                    self.node.handle_timeout(now);
                }
                self.drain().await;
            }
            self.drain().await;
            if let Some((input, arrived)) = self.stash.take() {
                let at = self.time_of(arrived);
                self.node.handle(at, input);
                continue;
            }
            while self.tasks.try_join_next().is_some() {}
            while self.mails.try_join_next().is_some() {}
            let at = self.node.poll_timeout().map(|t| self.origin + t.as_nanos());
            self.timer.arm(at).map_err(sys("timerfd"))?;
            tokio::select! {
                biased;
                _ = term.recv() => return self.shutdown("SIGTERM").await,
                _ = int.recv() => return self.shutdown("SIGINT").await,
                r = self.timer.fired(), if at.is_some() => {
                    r.map_err(sys("timerfd"))?;
                    let now = self.core_now();
                    self.node.handle_timeout(now);
                }
                Some((input, arrived)) = self.rx.recv() => {
                    let at = self.time_of(arrived);
                    self.node.handle(at, input);
                }
                Some((msg, _)) = events.next() => self.netlink(msg.payload).await,
                _ = hup.recv() => self.reload().await,
                _ = usr1.recv() => self.dump(),
                Some(n) = others.recv() => match OtherSignal::of(n) {
                    OtherSignal::Stats => self.write_stats(false),
                    OtherSignal::StatsClear => self.write_stats(true),
                    OtherSignal::Json => self.dump(),
                    OtherSignal::Quit => return self.shutdown("SIGQUIT").await,
                    OtherSignal::Ignored => info!("signal {n} ignored"),
                },
            }
        }
    }

    /// Carries out everything the node asked for. Adverts leave first, in
    /// their order: a netlink round trip for an address must not delay the
    /// next instance's advert (a sync group's members move together).
    async fn drain(&mut self) {
        loop {
            let batch: Vec<Output> = std::iter::from_fn(|| self.node.poll_output()).collect();
            if batch.is_empty() {
                return self.hand_over_table();
            }
            let (adverts, rest): (Vec<Output>, Vec<Output>) = batch
                .into_iter()
                .partition(|o| matches!(o, Output::Transmit(_)));
            for o in adverts.into_iter().chain(rest) {
                if let Some(k) = Kind::of_output(&o) {
                    self.record(k);
                }
                self.carry_out(o).await;
            }
        }
    }

    /// Gives the data plane's thread the table core wants, when it
    /// changed; the thread starts with the first table.
    fn hand_over_table(&mut self) {
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

    async fn carry_out(&mut self, o: Output) {
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
                let Some(index) = self.link(&dev).map(|l| l.index) else {
                    return warn!("({instance}) no interface {dev} for {}", vip.address);
                };
                match links::add_vip(&self.handle, index, &vip).await {
                    Ok(()) => {
                        debug!("({instance}) added {} on {dev}", vip.address);
                        self.held.insert((index, vip.address), (instance, vip));
                    }
                    Err(e) => error!("({instance}) adding {} on {dev}: {e}", vip.address),
                }
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

    fn script_user(&self) -> Option<(String, Option<String>)> {
        self.config
            .global
            .script_user
            .as_ref()
            .map(|u| (u.user.clone(), u.group.clone()))
    }

    async fn netlink(&mut self, payload: NetlinkPayload<RouteNetlinkMessage>) {
        let NetlinkPayload::InnerMessage(msg) = payload else {
            return;
        };
        match msg {
            RouteNetlinkMessage::NewLink(m) | RouteNetlinkMessage::DelLink(m) => {
                let (index, _, up) = links::link_state(&m);
                let Some(l) = self.links.iter_mut().find(|l| l.index == index) else {
                    return;
                };
                if l.up != up {
                    l.up = up;
                    let name = l.name.clone();
                    info!("{name}: link {}", if up { "up" } else { "down" });
                    let now = self.core_now();
                    self.node.handle(
                        now,
                        Input::Link {
                            interface: name,
                            up,
                        },
                    );
                }
            }
            RouteNetlinkMessage::DelAddress(m) => {
                let Some(addr) = links::address_of(&m) else {
                    return;
                };
                if let Some((inst, vip)) = self.held.get(&(m.header.index, addr)).cloned() {
                    warn!(
                        "({inst}) {addr} was removed by someone else while Master: adding it back"
                    );
                    if let Err(e) = links::add_vip(&self.handle, m.header.index, &vip).await {
                        error!("({inst}) re-adding {addr}: {e}");
                    }
                }
            }
            _ => {}
        }
    }

    /// SIGHUP: a configuration with errors is refused and the running one
    /// kept; a good one is applied without disturbing unchanged instances.
    async fn reload(&mut self) {
        info!("reloading {}", self.opts.config.display());
        let cfg = match load(&self.opts) {
            Ok(c) => c,
            Err(e) => {
                return error!("reload refused, still running the previous configuration: {e}")
            }
        };
        let now = self.core_now();
        let ifaces = self.core_interfaces();
        if let Err(e) = self.node.reload(now, &cfg, &ifaces) {
            return error!("reload refused, still running the previous configuration: {e}");
        }
        let previous = std::mem::replace(&mut self.config, cfg);
        self.probe_env = self.make_probe_env();
        if let Err(e) = self.open_sockets() {
            error!("after reload: {e}");
        }
        let detail = self.opts.config.display().to_string();
        self.record(Kind::Reload { ok: true, detail });
        drop(previous);
    }

    /// SIGUSR1: the node's status as JSON.
    fn dump(&self) {
        let status = self.node.status();
        let plane = self.dataplane.as_ref().map(Worker::status);
        // Written whole, then renamed: a reader never sees half a file.
        let tmp = self.opts.dump.with_extension("tmp");
        let result = serde_json::to_value(&status)
            .and_then(|mut v| {
                v["data_plane"] = serde_json::to_value(plane)?;
                serde_json::to_vec_pretty(&v)
            })
            .map_err(std::io::Error::other)
            .and_then(|j| std::fs::write(&tmp, j))
            .and_then(|()| std::fs::rename(&tmp, &self.opts.dump));
        match result {
            Ok(()) => info!("state written to {}", self.opts.dump.display()),
            Err(e) => error!("writing {}: {e}", self.opts.dump.display()),
        }
    }

    /// SIGUSR2: keepalived's statistics file, beside the dump (`--dump`
    /// with the extension `stats`), written whole then renamed; SIGSTATS_CLEAR
    /// zeroes the counters after writing them, as keepalived does.
    fn write_stats(&mut self, clear: bool) {
        let status = self.node.status();
        let text: String = status
            .instances
            .iter()
            .map(|i| i.stats.keepalived_text(&i.name))
            .collect();
        let path = stats_path(&self.opts.dump);
        let tmp = path.with_extension("stats.tmp");
        let result = std::fs::write(&tmp, text).and_then(|()| std::fs::rename(&tmp, &path));
        match result {
            Ok(()) => info!("statistics written to {}", path.display()),
            Err(e) => error!("writing {}: {e}", path.display()),
        }
        if clear {
            self.node.clear_stats();
        }
    }

    /// SIGTERM / SIGINT: Masters send priority 0 and drop their addresses,
    /// then the process ends (no second's wait, unlike keepalived).
    async fn shutdown(mut self, why: &str) -> Result<(), DaemonError> {
        // Alerts still trying to leave are abandoned (dropping the set
        // aborts them); those the stop raises get the wait below.
        let abandoned = std::mem::take(&mut self.mails).len();
        // Priority 0 first: the log line can wait a few microseconds.
        let now = self.core_now();
        self.node.handle(now, Input::Shutdown);
        self.drain().await;
        info!("{why}: stopping");
        if abandoned > 0 {
            warn!("{abandoned} alert mail(s) still in flight abandoned");
        }
        // Anything still held (an instance that never got to remove it).
        for ((index, _), (inst, vip)) in std::mem::take(&mut self.held) {
            if let Err(e) = links::remove_vip(&self.handle, index, &vip).await {
                warn!("({inst}) removing {}: {e}", vip.address);
            }
        }
        // The LVS table goes (unless kept), after the addresses: traffic
        // for the VIPs has already moved to the peer.
        // Joined off this thread and for a bounded while: an nft run in
        // flight finishes first, and nothing here must hang the stop.
        if let Some(w) = self.dataplane.take() {
            let keep = self.opts.keep_lvs;
            let stop = tokio::task::spawn_blocking(move || w.stop(keep));
            if tokio::time::timeout(Duration::from_secs(10), stop)
                .await
                .is_err()
            {
                warn!("the data plane did not finish within 10 s: its table may be left behind");
            }
        }
        self.record(Kind::Stop { reason: why.into() });
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
        info!("stopped");
        Ok(())
    }
}
