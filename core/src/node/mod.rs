//! One director: every VRRP instance of a configuration, its sync groups and
//! tracked interfaces, behind one sans-IO facade (docs/architecture.md,
//! "The sans-IO contract"). Drivers feed [`Input`]s with the time, drain
//! [`Output`]s, and wake at [`Node::poll_timeout`].
//!
//! The real-server side: checkers run on `check::schedule`, their probes are
//! outputs and their results inputs; the LVS table follows from
//! `lvs::pool` and comes out as `lvs::Op`s.

mod addresses;
mod error;
mod input;
mod interface;
mod members;
mod notify;
mod output;
mod pools;
mod status;
mod track_script;
mod vip_retry;

use addresses::Addresses;
pub use error::NodeError;
pub use input::Input;
pub use interface::Interface;
use output::Outbox;
pub use output::{Event, Output};
pub use status::{InstanceStatus, RealServerStatus, Status};
pub use vip_retry::VipError;
use vip_retry::VipRetries;

use members::{build_members, group_members, Member};
use notify::notify_outputs;
use pools::Pools;
use track_script::{ScriptStatus, TrackScript};

use std::collections::BTreeMap;
use std::net::IpAddr;

use crate::alert::Policy;
use crate::config::model::{Config, Family, SyncGroup, VirtualIp};
use crate::time::Instant;
use crate::vrrp::instance::{Action, Reason, State};
use crate::vrrp::stats::Stats;
use crate::vrrp::sync_group;
use crate::vrrp::wire::{Packet, Repr, HEADER_LEN};
use crate::vrrp::Reject;

/// One director: its VRRP instances and sync groups, its trackers, and its
/// real-server pools.
///
/// # Driving a node
///
/// Both drivers (the daemon and the simulator) follow one contract, so
/// that the same inputs give the same outputs in the same order:
///
/// 1. Feed every input with [`Node::handle`], in the order it happened,
///    with the time it happened: for an advert, when the kernel received
///    it, not when the driver got round to it. Times never go backwards.
/// 2. After each [`Node::handle`] or [`Node::handle_timeout`], drain
///    [`Node::poll_output`] until it returns `None`, and carry the outputs
///    out in that order. The node hands out every pending
///    [`Output::Transmit`] first, in the order the instances sent them: an
///    advert never waits behind an address change or a script.
/// 3. Ask [`Node::poll_timeout`] when to wake, and call
///    [`Node::handle_timeout`] then. When a deadline is due, the inputs that
///    happened before it are fed first, then the timeout: an advert that
///    arrived in time resets a master-down timer even when it is read late.
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
    outputs: Outbox,
    rejected: BTreeMap<Reject, u64>,
    /// Addresses the kernel refused, to add again.
    vips: VipRetries,
    /// The interfaces' addresses, for the instances' source addresses.
    addrs: Addresses,
    /// Test-only: sync groups do not move together (proof that the
    /// simulator's invariants catch a broken core).
    #[cfg(feature = "defects")]
    defect: Option<crate::defect::Defect>,
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
        let members = build_members(config, interfaces)?;
        let groups = group_members(&members, config.sync_groups.len());
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
            outputs: Outbox::default(),
            rejected: BTreeMap::new(),
            vips: VipRetries::default(),
            addrs: Addresses::new(interfaces.iter().flat_map(|i| {
                [i.ipv4, i.ipv6]
                    .into_iter()
                    .flatten()
                    .map(|a| (i.name.as_str(), a))
            })),
            #[cfg(feature = "defects")]
            defect: None,
        };
        node.outputs.at(now);
        for m in &mut node.members {
            m.held = true;
        }
        // Starts every instance no script holds.
        node.update_trackers(now);
        node.pools.sync_table(&mut node.outputs);
        node.pools.started(&mut node.outputs);
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
        self.outputs.at(now);
        // The interfaces as core follows them now: their addresses may
        // have changed since the driver listed them.
        let interfaces: Vec<Interface> = interfaces
            .iter()
            .map(|i| Interface {
                ipv4: self.addrs.primary(&i.name, Family::Ipv4),
                ipv6: self.addrs.primary(&i.name, Family::Ipv6),
                ..i.clone()
            })
            .collect();
        let interfaces = &interfaces[..];
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
                    // Still waiting for a script's first result: it waits on.
                    m.held = previous.held;
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
        #[cfg(feature = "defects")]
        if let Some(d) = self.defect {
            for m in &mut self.members {
                m.inst.inject(d);
            }
        }
        self.groups = group_members(&self.members, config.sync_groups.len());
        self.group_states = config
            .sync_groups
            .iter()
            .map(|g| previous.get(&g.name).copied().unwrap_or(State::Initialize))
            .collect();
        self.group_cfgs = config.sync_groups.clone();
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
        // Alert settings live in global_defs, which may change alone; the
        // pools hold them for the instances' alerts too.
        self.pools.alerts = Policy::new(&config.global);
        self.pump(now);
        Ok(())
    }

    /// Takes one input.
    pub fn handle(&mut self, now: Instant, input: Input) {
        self.outputs.at(now);
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
            Input::Found { interface, address } => self.found(now, &interface, address),
            Input::Address {
                interface,
                address,
                added,
            } => self.address(now, &interface, address, added),
            Input::Shutdown => {
                for m in &mut self.members {
                    m.inst.shutdown(now);
                }
                self.pools.omega(&mut self.outputs);
            }
            Input::ProbeDone { id, outcome } => self.pools.sched.probe_done(now, id, outcome),
            Input::VipResult {
                instance,
                address,
                error,
            } => {
                // Only a Master wants its addresses; a late answer for one
                // that has left Master is moot.
                if self.state(&instance) == Some(State::Master)
                    && self.vips.result(now, &instance, address, error)
                {
                    self.announce_late(&instance, address);
                }
            }
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
        self.outputs.at(now);
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
        self.retry_vips(now);
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
            .chain(self.vips.next())
            .min()
    }

    /// The next output: adverts first (see "Driving a node").
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop().map(|(_, o)| o)
    }

    /// [`Node::poll_output`] with the time core raised the output (the
    /// `now` of the call that raised it), and its trace record: both
    /// drivers trace what core decided, when core decided it.
    pub fn poll_traced(&mut self) -> Option<(Instant, Output, Option<crate::trace::Kind>)> {
        let (at, o) = self.outputs.pop()?;
        let kind = crate::trace::Kind::of_output(&o);
        Some((at, o, kind))
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

    /// keepalived's statistics file (what SIGUSR2 writes): each instance's
    /// block, in the configuration's order.
    pub fn stats_file(&self) -> String {
        self.members
            .iter()
            .map(|m| m.stats.keepalived_text(&m.cfg.name))
            .collect()
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
                    vip_errors: self.vips.errors(&m.cfg.name),
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

    /// Test-only: puts `defect` into this node (see `core/src/defect.rs`).
    #[cfg(feature = "defects")]
    pub fn inject(&mut self, defect: crate::defect::Defect) {
        self.defect = Some(defect);
        for m in &mut self.members {
            m.inst.inject(defect);
        }
    }

    #[cfg(feature = "defects")]
    fn split_sync_groups(&self) -> bool {
        self.defect == Some(crate::defect::Defect::SplitSyncGroups)
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

    /// (instance, interface) of every `track_interface` dropped because
    /// the interface did not exist when the instance was built (at start,
    /// or at the reload that added it): keepalived reports "tracked
    /// interface X doesn't exist" and does not track it. For the driver's
    /// log.
    pub fn untracked(&self) -> Vec<(String, String)> {
        self.members
            .iter()
            .flat_map(|m| m.untracked.iter().map(|i| (m.cfg.name.clone(), i.clone())))
            .collect()
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
        // is counted against the instance it aimed at). An instance
        // without an interface (unicast) hears what arrives on the
        // socket bound to none, which the driver names "" (keepalived's
        // sockets are per interface too, the unbound one included).
        let vrid = bytes.get(1).copied();
        let targets: Vec<usize> = self
            .members
            .iter()
            .enumerate()
            .filter(|(_, m)| {
                m.cfg.interface.as_deref().unwrap_or("") == interface
                    && Some(m.cfg.virtual_router_id) == vrid
                    && m.cfg.family == family
            })
            .map(|(i, _)| i)
            .collect();
        if bytes.len() < HEADER_LEN {
            // keepalived's dispatcher drops it before any instance sees it.
            return self.count(Reject::Truncated);
        }
        // Read as far as it can be; the type and the checksum are each
        // instance's to judge, after its own checks (keepalived's order).
        let parsed = match Repr::read(&Packet::new_unchecked(bytes), src, dst) {
            Ok(p) => p,
            Err(r) => {
                for &i in &targets {
                    let r = self.members[i].inst.unread(src, ttl, r);
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
                    // keepalived counts an advert as received before it
                    // compares the address list.
                    if r == crate::vrrp::Reject::AddressList {
                        m.stats.advert_rcvd += 1;
                    }
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
            let mut adjustment = 0;
            let links = m
                .tracked
                .iter()
                .map(|(name, w, r)| (self.links.get(name).copied().unwrap_or(false), *w, *r));
            // A script without a result yet moves nothing (keepalived's
            // SCRIPT_INIT_STATE_INIT); one that can fault the instance
            // holds its start instead (`start_ready`).
            let scripts =
                m.scripts
                    .iter()
                    .filter_map(|&(i, w, r)| match self.scripts[i].status() {
                        ScriptStatus::Pending => None,
                        s => Some((s == ScriptStatus::Passing, w, r)),
                    });
            let mut fault = m.no_address;
            for (up, weight, reverse) in links.chain(scripts) {
                // keepalived (vrrp_track.c, keepalived_netlink.c): weight 0
                // faults while down (while up, `reverse`); a positive
                // weight counts while up, a negative one while down, and
                // `reverse` negates it (weight × multiplier -1), it does
                // not swap up and down.
                let level = match weight {
                    0 => {
                        fault |= up == reverse;
                        0
                    }
                    w if (w > 0) == up => w,
                    _ => 0,
                };
                adjustment += if reverse { -level } else { level };
            }
            m.inst.set_priority_adjustment(now, adjustment);
            if m.inst.own_fault() != fault {
                m.inst.set_fault(now, fault);
            }
        }
        self.update_group_faults(now);
        self.start_ready(now);
    }

    /// Starts the instances held at start-up once no script that can fault
    /// them (weight 0), nor one of a member of their sync group, is still
    /// without its first result: keepalived keeps them in its init state
    /// until then (`num_script_init`, the group's `num_member_init`), and
    /// they start from that moment.
    fn start_ready(&mut self, now: Instant) {
        let waiting: Vec<bool> = self
            .members
            .iter()
            .map(|m| {
                m.scripts
                    .iter()
                    .any(|&(i, w, _)| w == 0 && self.scripts[i].status() == ScriptStatus::Pending)
            })
            .collect();
        for i in 0..self.members.len() {
            let group_waits = self.members[i]
                .group
                .is_some_and(|g| self.groups[g].iter().any(|&j| waiting[j]));
            if self.members[i].held && !waiting[i] && !group_waits {
                self.members[i].held = false;
                self.members[i].inst.start(now);
            }
        }
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
            if let Some(mail) = self.pools.alerts.vrrp(cfg.smtp_alert, true, &cfg.name, to) {
                self.outputs.push_back(Output::Alert(mail));
            }
            let scripts = notify_outputs(&cfg.notify, "GROUP", &cfg.name, to, &reason, 0);
            self.outputs.extend(scripts);
        }
    }

    fn act(&mut self, now: Instant, i: usize, action: Action) {
        let m = &self.members[i];
        let dev = |v: &VirtualIp| m.vip_dev(v);
        // A closure, not the iterator itself: an opaque iterator would hold
        // the borrow of `members` to the end of the function.
        let vips = || m.vips();
        match action {
            Action::Transmit(t) => {
                // One advert goes to every unicast peer: keepalived counts
                // it once, with its first destination.
                let first = m.inst.settings().destinations.first() == Some(&t.dst);
                // Byte 2 of a VRRP message, v2 or v3, is the priority.
                let zero = t.bytes.get(2) == Some(&0);
                let stats = &mut self.members[i].stats;
                stats.advert_sent += u64::from(first);
                stats.pri_zero_sent += u64::from(first && zero);
                self.outputs.push_back(Output::Transmit(t));
            }
            Action::AddVips | Action::RemoveVips => {
                let add = action == Action::AddVips;
                if !add {
                    self.vips.forget(&m.cfg.name);
                }
                let out: Vec<Output> = vips()
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
                for v in vips() {
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
            Action::HeardLowerPriority => {
                // keepalived's vrrp_state_master_rx announces for every
                // other member of the group that has a lower-priority
                // repeat (each checks that its own addresses are set).
                if let Some(g) = m.group {
                    for j in self.groups[g].clone() {
                        if j != i {
                            self.members[j].inst.announce_lower_priority(now);
                        }
                    }
                }
            }
            Action::WantMaster => {
                // keepalived's vrrp_sync_can_goto_master: only if every
                // member wants master; then they all go together.
                #[cfg(feature = "defects")]
                if self.split_sync_groups() {
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
                if let Some(mail) = self
                    .pools
                    .alerts
                    .vrrp(m.cfg.smtp_alert, false, &m.cfg.name, to)
                {
                    self.outputs.push_back(Output::Alert(mail));
                }
                self.outputs.extend(scripts);
                #[cfg(feature = "defects")]
                let group = m.group.filter(|_| !self.split_sync_groups());
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
