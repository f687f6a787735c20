//! One director: every VRRP instance of a configuration, its sync groups and
//! tracked interfaces, behind one sans-IO facade (docs/architecture.md,
//! "The sans-IO contract"). Drivers feed [`Input`]s with the time, drain
//! [`Output`]s, and wake at [`Node::poll_timeout`].
//!
//! The real-server side: checkers run on `check::schedule`, their probes are
//! outputs and their results inputs; the LVS table follows from
//! `lvs::pool` and comes out as `lvs::Op`s.

use std::collections::{BTreeMap, VecDeque};
use std::net::IpAddr;
use std::sync::Arc;

use serde::Serialize;

use crate::alert::{CheckerChange, Mail, Policy};
use crate::check::schedule::{self, CheckerId, Outcome, ProbeId, Scheduler};
use crate::config::model::{
    Checker, Config, Family, Notify, Script, SyncGroup, VirtualIp, VrrpInstance, VrrpScript,
};
use crate::lvs::{self, Op, Table};
use crate::time::Instant;
use crate::vrrp::instance::{Action, Instance, Reason, Settings, State, Transmit};
use crate::vrrp::stats::Stats;
use crate::vrrp::sync_group;
use crate::vrrp::wire::{Packet, Repr};
use crate::vrrp::Reject;

/// Something that happened to the director.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A VRRP message arrived (the bytes after the IP header).
    Packet {
        /// Interface it came in on.
        interface: String,
        /// IP source.
        src: IpAddr,
        /// IP destination.
        dst: IpAddr,
        /// IP TTL / hop limit.
        ttl: u8,
        /// The message.
        bytes: Vec<u8>,
    },
    /// An interface's link went up or down.
    Link {
        /// Interface name.
        interface: String,
        /// Up?
        up: bool,
    },
    /// Stop: masters release with priority 0.
    Shutdown,
    /// A checker's probe ([`Output::Probe`]) finished.
    ProbeDone {
        /// The probe.
        id: ProbeId,
        /// How it went.
        outcome: Outcome,
    },
    /// A tracked script ([`Output::RunTrackScript`]) finished.
    ScriptDone {
        /// The run it reports on.
        id: u64,
        /// Exit status 0.
        success: bool,
    },
}

/// Something the driver must do or report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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

/// The state word keepalived passes to notify scripts.
fn state_word(state: State, reason: &Reason) -> &'static str {
    match (state, reason) {
        (State::Master, _) => "MASTER",
        (State::Backup, _) => "BACKUP",
        (State::Fault, _) => "FAULT",
        (State::Initialize, _) => "STOP",
    }
}

/// The notify scripts for a transition to `to`: the specific one, then the
/// generic `notify` with keepalived's four arguments.
fn notify_outputs(
    notify: &Notify,
    kind: &str,
    name: &str,
    to: State,
    reason: &Reason,
    priority: u8,
) -> Vec<Output> {
    let specific = match to {
        State::Master => &notify.master,
        State::Backup => &notify.backup,
        State::Fault => &notify.fault,
        State::Initialize => &notify.stop,
    };
    let mut out: Vec<Output> = specific
        .iter()
        .map(|s| Output::RunScript {
            script: s.clone(),
            args: Vec::new(),
        })
        .collect();
    if let Some(s) = &notify.any {
        let args = vec![
            kind.to_string(),
            name.to_string(),
            state_word(to, reason).to_string(),
            priority.to_string(),
        ];
        out.push(Output::RunScript {
            script: s.clone(),
            args,
        });
    }
    out
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

/// An interface the director has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    /// Name.
    pub name: String,
    /// Primary IPv4 address.
    pub ipv4: Option<IpAddr>,
    /// Link-local IPv6 address.
    pub ipv6: Option<IpAddr>,
    /// Link up?
    pub up: bool,
}

/// Why a node cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NodeError {
    /// An instance names an interface the director does not have, or one
    /// without an address of the instance's family.
    #[error("vrrp_instance {instance}: interface {interface} does not exist or has no {family:?} address")]
    Interface {
        /// Instance.
        instance: String,
        /// Interface.
        interface: String,
        /// Family needed.
        family: Family,
    },
}

/// A snapshot for dumps and metrics.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Status {
    /// Each instance.
    pub instances: Vec<InstanceStatus>,
    /// Dropped adverts by reason, all instances together (and those for
    /// no instance: `wrong_vrid`).
    pub rejected: BTreeMap<Reject, u64>,
    /// Each real server.
    pub real_servers: Vec<RealServerStatus>,
}

/// One real server in [`Status`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RealServerStatus {
    /// Virtual server index.
    pub vs: usize,
    /// Address.
    pub address: IpAddr,
    /// Port.
    pub port: Option<u16>,
    /// All its checkers pass.
    pub up: bool,
    /// Current weight (configured, or set by a misc_dynamic check).
    pub weight: u32,
    /// The last probe outcome of each checker (a failure says why).
    pub last: Vec<Option<Outcome>>,
}

/// The real-server side of a director.
struct Pools {
    config: Config,
    sched: Scheduler,
    /// (vs, rs, checker index) of each checker.
    owner: Vec<(usize, usize, usize)>,
    /// Each checker's settings, as its probes carry them.
    specs: Vec<Arc<Checker>>,
    /// Checker ids of each real server.
    checkers: Vec<Vec<Vec<CheckerId>>>,
    alive: Vec<Vec<bool>>,
    /// Current weights: configured, or set by a misc_dynamic check.
    weights: Vec<Vec<u32>>,
    quorum: Vec<bool>,
    /// What the data plane holds (as far as holdfast told it).
    table: Table,
    /// Seed of the warmup jitter.
    seed: u64,
    /// Which checker and quorum alerts are mailed.
    alerts: Policy,
}

/// splitmix64: a seeded stream for the checkers' warmup jitter.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Pools {
    fn new(now: Instant, config: &Config, seed: u64) -> Pools {
        Pools::carry(now, config, seed, None)
    }

    /// Pools for `config`; on a reload, checkers, weights and quorums that
    /// exist in `previous` (same virtual server, real server and checker
    /// settings) keep their state, so a failed server is not re-added at
    /// once (keepalived's init_service_rs).
    fn carry(now: Instant, config: &Config, seed: u64, previous: Option<&Pools>) -> Pools {
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
    fn update_quorum(&mut self, v: usize, out: &mut VecDeque<Output>) {
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
    fn omega(&self, out: &mut VecDeque<Output>) {
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
    fn sync_table(&mut self, out: &mut VecDeque<Output>) {
        let want = lvs::pool::desired(&self.config, &self.alive, &self.weights, &self.quorum);
        out.extend(lvs::diff(&self.table, &want).into_iter().map(Output::Lvs));
        self.table = want;
    }

    /// Carries out the scheduler's outputs.
    fn pump(&mut self, out: &mut VecDeque<Output>) {
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
fn live_weight(alive: &[bool], weights: &[u32]) -> u64 {
    alive
        .iter()
        .zip(weights)
        .filter(|(up, _)| **up)
        .map(|(_, w)| u64::from(*w))
        .sum()
}

/// One instance in [`Status`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InstanceStatus {
    /// Name.
    pub name: String,
    /// State.
    pub state: State,
    /// Configured priority.
    pub priority: u8,
    /// Priority after trackers.
    pub effective_priority: u8,
    /// Its own trackers hold it down.
    pub faulted: bool,
    /// Adverts for it (its interface and VRID) dropped, by reason.
    pub rejected: BTreeMap<Reject, u64>,
    /// keepalived's counters (what SIGUSR2 writes).
    pub stats: Stats,
}

struct Member {
    inst: Instance,
    cfg: VrrpInstance,
    group: Option<usize>,
    /// (interface, weight, reverse); weight 0 means Fault while down.
    tracked: Vec<(String, i32, bool)>,
    /// (vrrp_script index, weight, reverse), with the same weight rule.
    scripts: Vec<(usize, i32, bool)>,
    /// Its dropped adverts by reason.
    rejected: BTreeMap<Reject, u64>,
    /// keepalived's counters.
    stats: Stats,
}

/// A `vrrp_script` being run periodically.
#[derive(Debug, Clone)]
struct TrackScript {
    cfg: VrrpScript,
    next_run: Instant,
    /// The run in flight and when it times out.
    running: Option<(u64, Instant)>,
    ok: bool,
    successes: u32,
    failures: u32,
}

impl TrackScript {
    fn new(cfg: &VrrpScript, now: Instant) -> Self {
        // keepalived: one success is enough to start with, unless init_fail.
        TrackScript {
            cfg: cfg.clone(),
            next_run: now,
            running: None,
            ok: !cfg.init_fail,
            successes: 0,
            failures: 0,
        }
    }

    /// Counts a result; true when the status flips (`rise` successes or
    /// `fall` failures in a row).
    fn record(&mut self, success: bool) -> bool {
        if success {
            self.successes += 1;
            self.failures = 0;
            if !self.ok && self.successes >= self.cfg.rise {
                self.ok = true;
                return true;
            }
        } else {
            self.failures += 1;
            self.successes = 0;
            if self.ok && self.failures >= self.cfg.fall {
                self.ok = false;
                return true;
            }
        }
        false
    }
}

/// The members of a configuration, each on its interface's address.
fn build_members(config: &Config, interfaces: &[Interface]) -> Result<Vec<Member>, NodeError> {
    let mut members = Vec::new();
    let group_of = |name: &str| {
        config
            .sync_groups
            .iter()
            .position(|g| g.members.iter().any(|m| m == name))
    };
    for cfg in &config.instances {
        let ifname = cfg.interface.clone().unwrap_or_default();
        let iface = interfaces.iter().find(|i| i.name == ifname);
        let primary = iface.and_then(|i| match cfg.family {
            Family::Ipv4 => i.ipv4,
            Family::Ipv6 => i.ipv6,
        });
        let primary = match (cfg.unicast_src_ip, primary) {
            (Some(src), _) => src,
            (None, Some(p)) => p,
            (None, None) => {
                return Err(NodeError::Interface {
                    instance: cfg.name.clone(),
                    interface: ifname,
                    family: cfg.family,
                })
            }
        };
        let group = group_of(&cfg.name);
        let g = group.map(|g| &config.sync_groups[g]);
        // keepalived: trackers of sync-group members count as unweighted
        // unless the group says sync_group_tracking_weight.
        let weighted = g.is_none_or(|g| g.sync_group_tracking_weight);
        let mut tracked = Vec::new();
        if !cfg.dont_track_primary && !ifname.is_empty() {
            tracked.push((ifname.clone(), 0, false));
        }
        for t in cfg
            .track_interfaces
            .iter()
            .chain(g.into_iter().flat_map(|g| g.track_interfaces.iter()))
        {
            tracked.push((
                t.name.clone(),
                if weighted { t.weight } else { 0 },
                t.reverse,
            ));
        }
        let scripts = cfg
            .track_scripts
            .iter()
            .chain(g.into_iter().flat_map(|g| g.track_scripts.iter()))
            .filter_map(|t| {
                let i = config.vrrp_scripts.iter().position(|s| s.name == t.name)?;
                Some((i, if weighted { t.weight } else { 0 }, t.reverse))
            })
            .collect();
        let mut inst = Instance::new(Settings::from_config(cfg, &config.global, primary));
        inst.set_in_group(group.is_some());
        members.push(Member {
            inst,
            cfg: cfg.clone(),
            group,
            tracked,
            scripts,
            rejected: BTreeMap::new(),
            stats: Stats::default(),
        });
    }
    Ok(members)
}

/// Member indices of each sync group.
fn group_members(members: &[Member], groups: usize) -> Vec<Vec<usize>> {
    (0..groups)
        .map(|g| {
            members
                .iter()
                .enumerate()
                .filter(|(_, m)| m.group == Some(g))
                .map(|(i, _)| i)
                .collect()
        })
        .collect()
}

/// One director's VRRP side.
pub struct Node {
    members: Vec<Member>,
    pools: Pools,
    scripts: Vec<TrackScript>,
    next_script_run: u64,
    groups: Vec<Vec<usize>>,
    group_cfgs: Vec<SyncGroup>,
    /// Each group's last common state, for its notifies.
    group_states: Vec<State>,
    links: BTreeMap<String, bool>,
    outputs: VecDeque<Output>,
    rejected: BTreeMap<Reject, u64>,
    /// Which instance and group alerts are mailed.
    alerts: Policy,
    /// Test-only: sync groups do not move together (proof that the
    /// simulator's invariants catch a broken core).
    #[cfg(feature = "defects")]
    split_sync_groups: bool,
}

impl Node {
    /// Builds the director from its configuration and interfaces, and starts
    /// every instance at `now`.
    pub fn new(now: Instant, config: &Config, interfaces: &[Interface]) -> Result<Node, NodeError> {
        Node::with_seed(now, config, interfaces, 0)
    }

    /// [`Node::new`] with a seed for the random parts (the checkers' warmup
    /// jitter), so a simulation replays exactly.
    pub fn with_seed(
        now: Instant,
        config: &Config,
        interfaces: &[Interface],
        seed: u64,
    ) -> Result<Node, NodeError> {
        let mut members = build_members(config, interfaces)?;
        let groups = group_members(&members, config.sync_groups.len());
        // keepalived starts a group master at once only if every member is
        // an address owner; they then start as owners do.
        for g in &groups {
            if !g.is_empty() && g.iter().all(|&i| members[i].cfg.priority == 255) {
                for &i in g {
                    members[i].inst.set_in_group(false);
                }
            }
        }
        let links = interfaces.iter().map(|i| (i.name.clone(), i.up)).collect();
        let mut node = Node {
            members,
            pools: Pools::new(now, config, seed),
            scripts: config
                .vrrp_scripts
                .iter()
                .map(|c| TrackScript::new(c, now))
                .collect(),
            next_script_run: 1,
            groups,
            group_cfgs: config.sync_groups.clone(),
            group_states: vec![State::Initialize; config.sync_groups.len()],
            links,
            outputs: VecDeque::new(),
            rejected: BTreeMap::new(),
            alerts: Policy::new(&config.global),
            #[cfg(feature = "defects")]
            split_sync_groups: false,
        };
        node.update_trackers(now);
        for m in &mut node.members {
            m.inst.start(now);
        }
        node.pools.sync_table(&mut node.outputs);
        node.pump(now);
        Ok(node)
    }

    /// Applies a new configuration. Instances whose settings and sync group
    /// did not change keep their state and timers (keepalived's reload keeps
    /// a master master); removed or changed ones release (priority 0 and
    /// their addresses removed) and changed or new ones start afresh. On
    /// error nothing changes.
    pub fn reload(
        &mut self,
        now: Instant,
        config: &Config,
        interfaces: &[Interface],
    ) -> Result<(), NodeError> {
        let mut fresh = build_members(config, interfaces)?;
        let group_name = |cfgs: &[SyncGroup], g: Option<usize>| g.map(|g| cfgs[g].name.clone());
        let mut old: Vec<Option<Member>> = std::mem::take(&mut self.members)
            .into_iter()
            .map(Some)
            .collect();
        let mut started = Vec::new();
        for (i, m) in fresh.iter_mut().enumerate() {
            // keepalived keeps an instance across a reload when its name,
            // interface, VRID and family (and here its sync group) stay.
            let keep = old.iter().position(|o| {
                o.as_ref().is_some_and(|o| {
                    o.cfg.name == m.cfg.name
                        && o.cfg.interface == m.cfg.interface
                        && o.cfg.virtual_router_id == m.cfg.virtual_router_id
                        && o.cfg.family == m.cfg.family
                        && group_name(&self.group_cfgs, o.group)
                            == group_name(&config.sync_groups, m.group)
                })
            });
            match keep {
                Some(k) => {
                    let previous = old[k].take().expect("checked above");
                    let mut kept = previous.inst;
                    if kept.settings() != m.inst.settings() {
                        kept.reconfigure(now, m.inst.settings().clone());
                    }
                    m.inst = kept;
                    // Its counters go on too: a reload is not a restart.
                    m.rejected = previous.rejected;
                    m.stats = previous.stats;
                }
                None => started.push(i),
            }
        }
        // Release what goes away, with its actions carried out as usual.
        let released: Vec<Member> = old
            .into_iter()
            .flatten()
            .map(|mut m| {
                m.group = None;
                m.inst.shutdown(now);
                m
            })
            .collect();
        self.members = released;
        self.groups.clear();
        self.pump(now);
        // Then the new set.
        let previous: BTreeMap<String, State> = self
            .group_cfgs
            .iter()
            .zip(&self.group_states)
            .map(|(g, s)| (g.name.clone(), *s))
            .collect();
        self.members = fresh;
        self.groups = group_members(&self.members, config.sync_groups.len());
        self.group_states = config
            .sync_groups
            .iter()
            .map(|g| previous.get(&g.name).copied().unwrap_or(State::Initialize))
            .collect();
        self.group_cfgs = config.sync_groups.clone();
        self.alerts = Policy::new(&config.global);
        let old_scripts = std::mem::take(&mut self.scripts);
        self.scripts = config
            .vrrp_scripts
            .iter()
            .map(|c| {
                old_scripts
                    .iter()
                    .find(|o| &o.cfg == c)
                    .cloned()
                    .unwrap_or_else(|| TrackScript::new(c, now))
            })
            .collect();
        for l in interfaces {
            self.links.entry(l.name.clone()).or_insert(l.up);
        }
        self.update_trackers(now);
        for i in started {
            self.members[i].inst.start(now);
        }
        // The pools restart when any virtual server changed; the data plane
        // is moved from what it holds to the new table, not rebuilt.
        if self.pools.config.virtual_servers != config.virtual_servers
            || self.pools.config.virtual_server_groups != config.virtual_server_groups
        {
            let mut pools = Pools::carry(now, config, self.pools.seed, Some(&self.pools));
            pools.table = std::mem::take(&mut self.pools.table);
            self.pools = pools;
            self.pools.sync_table(&mut self.outputs);
        }
        // Alert settings live in global_defs, which may change alone.
        self.pools.alerts = Policy::new(&config.global);
        self.pump(now);
        Ok(())
    }

    /// Takes one input.
    pub fn handle(&mut self, now: Instant, input: Input) {
        match input {
            Input::Packet {
                interface,
                src,
                dst,
                ttl,
                bytes,
            } => self.packet(now, &interface, src, dst, ttl, &bytes),
            Input::Link { interface, up } => {
                self.links.insert(interface, up);
                self.update_trackers(now);
            }
            Input::Shutdown => {
                for m in &mut self.members {
                    m.inst.shutdown(now);
                }
                self.pools.omega(&mut self.outputs);
            }
            Input::ProbeDone { id, outcome } => self.pools.sched.probe_done(now, id, outcome),
            Input::ScriptDone { id, success } => {
                // A late answer to a run already timed out is ignored.
                let flipped = self
                    .scripts
                    .iter_mut()
                    .find(|s| s.running.is_some_and(|(run, _)| run == id))
                    .map(|s| {
                        s.running = None;
                        s.record(success)
                    });
                if flipped == Some(true) {
                    self.update_trackers(now);
                }
            }
        }
        self.pump(now);
    }

    /// Runs the timers due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.pools.sched.handle_timeout(now);
        let mut flipped = false;
        for s in &mut self.scripts {
            if let Some((_, deadline)) = s.running.filter(|&(_, d)| d <= now) {
                debug_assert!(deadline <= now);
                // keepalived kills a script past its timeout: a failure.
                s.running = None;
                flipped |= s.record(false);
            }
            if s.next_run <= now {
                s.next_run = now + s.cfg.interval;
                // A run still going is not started again (keepalived skips it).
                if s.running.is_none() {
                    let id = self.next_script_run;
                    self.next_script_run += 1;
                    s.running = Some((id, now + s.cfg.timeout));
                    self.outputs.push_back(Output::RunTrackScript {
                        id,
                        name: s.cfg.name.clone(),
                        script: s.cfg.script.clone(),
                        timeout: s.cfg.timeout,
                    });
                }
            }
        }
        if flipped {
            self.update_trackers(now);
        }
        for m in &mut self.members {
            if m.inst.poll_timeout().is_some_and(|t| t <= now) {
                m.inst.handle_timeout(now);
            }
        }
        self.pump(now);
    }

    /// When [`Node::handle_timeout`] must next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let scripts = self
            .scripts
            .iter()
            .flat_map(|s| [Some(s.next_run), s.running.map(|r| r.1)])
            .flatten();
        self.members
            .iter()
            .filter_map(|m| m.inst.poll_timeout())
            .chain(scripts)
            .chain(self.pools.sched.poll_timeout())
            .min()
    }

    /// The next output.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// The LVS table as core wants it now (what every `Output::Lvs` so far
    /// adds up to): a data plane that programs whole tables takes this.
    pub fn lvs_table(&self) -> &crate::lvs::Table {
        &self.pools.table
    }

    /// Zeroes every instance's keepalived counters (keepalived's
    /// SIGSTATS_CLEAR, after the file is written).
    pub fn clear_stats(&mut self) {
        for m in &mut self.members {
            m.stats = Stats::default();
        }
    }

    /// A snapshot.
    pub fn status(&self) -> Status {
        Status {
            instances: self
                .members
                .iter()
                .map(|m| InstanceStatus {
                    name: m.cfg.name.clone(),
                    state: m.inst.state(),
                    priority: m.cfg.priority,
                    effective_priority: m.inst.effective_priority(),
                    faulted: m.inst.own_fault(),
                    rejected: m.rejected.clone(),
                    stats: m.stats.clone(),
                })
                .collect(),
            rejected: self.rejected.clone(),
            real_servers: self
                .pools
                .config
                .virtual_servers
                .iter()
                .enumerate()
                .flat_map(|(v, vs)| {
                    vs.real_servers
                        .iter()
                        .enumerate()
                        .map(move |(r, rs)| (v, r, rs))
                })
                .map(|(v, r, rs)| RealServerStatus {
                    vs: v,
                    address: rs.address,
                    port: rs.port,
                    up: self.pools.alive[v][r],
                    weight: self.pools.weights[v][r],
                    last: self.pools.checkers[v][r]
                        .iter()
                        .map(|&id| self.pools.sched.last(id).cloned())
                        .collect(),
                })
                .collect(),
        }
    }

    /// Test-only defect: members of a sync group stop following each other.
    #[cfg(feature = "defects")]
    pub fn split_sync_groups(&mut self, on: bool) {
        self.split_sync_groups = on;
    }

    /// The effective priority (after trackers) of the instance called `name`.
    pub fn priority(&self, name: &str) -> Option<u8> {
        self.members
            .iter()
            .find(|m| m.cfg.name == name)
            .map(|m| m.inst.effective_priority())
    }

    /// The state of the instance called `name`.
    pub fn state(&self, name: &str) -> Option<State> {
        self.members
            .iter()
            .find(|m| m.cfg.name == name)
            .map(|m| m.inst.state())
    }

    fn count(&mut self, r: Reject) {
        *self.rejected.entry(r).or_default() += 1;
    }

    fn packet(
        &mut self,
        now: Instant,
        interface: &str,
        src: IpAddr,
        dst: IpAddr,
        ttl: u8,
        bytes: &[u8],
    ) {
        let family = Family::of(&src);
        // The instances it is for: its interface, family and VRID (byte 1,
        // read even from a packet that does not parse, so that a bad one
        // is counted against the instance it aimed at).
        let vrid = bytes.get(1).copied();
        let targets: Vec<usize> = self
            .members
            .iter()
            .enumerate()
            .filter(|(_, m)| {
                m.cfg.interface.as_deref() == Some(interface)
                    && Some(m.cfg.virtual_router_id) == vrid
                    && m.cfg.family == family
            })
            .map(|(i, _)| i)
            .collect();
        let parsed = match Repr::parse(&Packet::new_unchecked(bytes), src, dst) {
            Ok(p) => p,
            Err(r) => {
                for &i in &targets {
                    *self.members[i].rejected.entry(r).or_default() += 1;
                    self.members[i].stats.reject(r);
                }
                return self.count(r);
            }
        };
        if targets.is_empty() {
            self.count(Reject::WrongVrid);
        }
        for i in targets {
            let m = &mut self.members[i];
            match m.inst.handle_advert(now, src, ttl, &parsed) {
                Ok(()) => {
                    m.stats.advert_rcvd += 1;
                    if parsed.repr.priority == 0 {
                        m.stats.pri_zero_rcvd += 1;
                    }
                }
                Err(r) => {
                    *m.rejected.entry(r).or_default() += 1;
                    m.stats.reject(r);
                    self.count(r);
                }
            }
        }
    }

    /// Recomputes every instance's faults and priority adjustments from the
    /// links, then the sync groups' shared faults.
    fn update_trackers(&mut self, now: Instant) {
        for m in &mut self.members {
            let mut fault = false;
            let mut adjustment = 0;
            let links = m
                .tracked
                .iter()
                .map(|(name, w, r)| (self.links.get(name).copied().unwrap_or(false), *w, *r));
            let scripts = m
                .scripts
                .iter()
                .map(|&(i, w, r)| (self.scripts[i].ok, w, r));
            for (ok, weight, reverse) in links.chain(scripts) {
                let up = ok != reverse;
                match weight {
                    0 if !up => fault = true,
                    w if w > 0 && up => adjustment += w,
                    w if w < 0 && !up => adjustment += w,
                    _ => {}
                }
            }
            m.inst.set_priority_adjustment(now, adjustment);
            if m.inst.own_fault() != fault {
                m.inst.set_fault(now, fault);
            }
        }
        self.update_group_faults(now);
    }

    /// One member down puts the whole group down.
    fn update_group_faults(&mut self, now: Instant) {
        for g in 0..self.groups.len() {
            let members = self.groups[g].clone();
            let own: Vec<bool> = members
                .iter()
                .map(|&i| self.members[i].inst.own_fault())
                .collect();
            for (&i, shared) in members.iter().zip(sync_group::shared_faults(&own)) {
                self.members[i].inst.set_group_fault(now, shared);
            }
        }
    }

    /// Carries out the instances' actions and the sync groups' reactions
    /// until nothing is left.
    fn pump(&mut self, now: Instant) {
        self.pools.pump(&mut self.outputs);
        // Each round either drains actions or settles a group; a group can
        // only move each member once, so this ends quickly.
        for _ in 0..64 {
            let mut moved = false;
            for i in 0..self.members.len() {
                while let Some(a) = self.members[i].inst.poll_action() {
                    moved = true;
                    self.act(now, i, a);
                }
            }
            if !moved {
                break;
            }
        }
        self.group_notifies();
    }

    /// A group whose members now share a new state notifies once.
    fn group_notifies(&mut self) {
        for g in 0..self.groups.len() {
            let states: Vec<State> = self.groups[g]
                .iter()
                .map(|&j| self.members[j].inst.state())
                .collect();
            let Some(to) =
                sync_group::common_state(&states).filter(|&to| to != self.group_states[g])
            else {
                continue;
            };
            let from = std::mem::replace(&mut self.group_states[g], to);
            let cfg = &self.group_cfgs[g];
            let reason = Reason::SyncGroup;
            self.outputs.push_back(Output::GroupChanged {
                group: cfg.name.clone(),
                from,
                to,
            });
            if let Some(mail) = self.alerts.vrrp(cfg.smtp_alert, true, &cfg.name, to) {
                self.outputs.push_back(Output::Alert(mail));
            }
            let scripts = notify_outputs(&cfg.notify, "GROUP", &cfg.name, to, &reason, 0);
            self.outputs.extend(scripts);
        }
    }

    fn act(&mut self, now: Instant, i: usize, action: Action) {
        let m = &self.members[i];
        let dev = |v: &VirtualIp| {
            v.dev
                .clone()
                .or_else(|| m.cfg.interface.clone())
                .unwrap_or_default()
        };
        let vips = m
            .cfg
            .virtual_ipaddress
            .iter()
            .chain(&m.cfg.virtual_ipaddress_excluded);
        match action {
            Action::Transmit(t) => {
                // Byte 2 of a VRRP message, v2 or v3, is the priority.
                let zero = t.bytes.get(2) == Some(&0);
                let stats = &mut self.members[i].stats;
                stats.advert_sent += 1;
                stats.pri_zero_sent += u64::from(zero);
                self.outputs.push_back(Output::Transmit(t));
            }
            Action::AddVips | Action::RemoveVips => {
                let add = action == Action::AddVips;
                let out: Vec<Output> = vips
                    .map(|v| {
                        let (instance, vip, dev) = (m.cfg.name.clone(), v.clone(), dev(v));
                        if add {
                            Output::AddVip { instance, vip, dev }
                        } else {
                            Output::RemoveVip { instance, vip, dev }
                        }
                    })
                    .collect();
                self.outputs.extend(out);
            }
            Action::Announce { count } => {
                // Each address is announced on the interface it lives on
                // (its own `dev`, else the instance's), as keepalived does.
                let mut by_dev: Vec<(String, Vec<IpAddr>)> = Vec::new();
                for v in vips {
                    let d = dev(v);
                    match by_dev.iter_mut().find(|(x, _)| *x == d) {
                        Some((_, a)) => a.push(v.address),
                        None => by_dev.push((d, vec![v.address])),
                    }
                }
                for (interface, addresses) in by_dev {
                    self.outputs.push_back(Output::Announce {
                        instance: m.cfg.name.clone(),
                        interface,
                        addresses,
                        count,
                    });
                }
            }
            Action::WantMaster => {
                // keepalived's vrrp_sync_can_goto_master: only if every
                // member wants master; then they all go together.
                #[cfg(feature = "defects")]
                if self.split_sync_groups {
                    self.members[i].inst.force_master(now);
                    return;
                }
                if let Some(g) = m.group {
                    let wants: Vec<bool> = self.groups[g]
                        .iter()
                        .map(|&j| self.members[j].inst.wants_master())
                        .collect();
                    if sync_group::can_go_master(&wants) {
                        for j in self.groups[g].clone() {
                            self.members[j].inst.force_master(now);
                        }
                    }
                }
            }
            Action::StateChanged { from, to, reason } => {
                let stats = &mut self.members[i].stats;
                stats.become_master += u64::from(to == State::Master);
                stats.release_master += u64::from(from == State::Master && to != State::Master);
                let m = &self.members[i];
                let scripts = notify_outputs(
                    &m.cfg.notify,
                    "INSTANCE",
                    &m.cfg.name,
                    to,
                    &reason,
                    m.inst.effective_priority(),
                );
                self.outputs.push_back(Output::Event(Event {
                    instance: m.cfg.name.clone(),
                    from,
                    to,
                    reason,
                }));
                if let Some(mail) = self.alerts.vrrp(m.cfg.smtp_alert, false, &m.cfg.name, to) {
                    self.outputs.push_back(Output::Alert(mail));
                }
                self.outputs.extend(scripts);
                #[cfg(feature = "defects")]
                let group = m.group.filter(|_| !self.split_sync_groups);
                #[cfg(not(feature = "defects"))]
                let group = m.group;
                if let Some(g) = group {
                    let others: Vec<usize> =
                        self.groups[g].iter().copied().filter(|&j| j != i).collect();
                    for j in others {
                        match sync_group::follow(from, to) {
                            sync_group::Follow::Master => self.members[j].inst.force_master(now),
                            sync_group::Follow::Backup => self.members[j].inst.force_backup(now),
                            sync_group::Follow::Stay => {}
                        }
                    }
                }
            }
        }
    }
}
