//! The discrete-event loop. Events sit in a queue ordered by (time,
//! sequence number); one ChaCha RNG seeded from the scenario draws every
//! loss, jitter, duplicate and node seed; nothing else is random, and every
//! map is ordered — so a scenario and a seed give one trace, byte for byte.
//!
//! Directors are unmodified `core::Node`s: the engine feeds them packets,
//! link changes, probe and script results at their virtual arrival times,
//! wakes them at `poll_timeout`, and carries out their outputs on the
//! simulated network, servers and kernel tables.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, VecDeque};
use std::net::IpAddr;
use std::time::Duration;

use holdfast_core::check::schedule::Outcome;
use holdfast_core::node::{Input, Output};
use holdfast_core::time::Instant;
use holdfast_core::trace::{self, Kind, Record};
use holdfast_core::vrrp::instance::{State, Transmit};
use holdfast_core::{lvs, Node};
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::behaviour;
use crate::incidents::{Incident, Incidents};
use crate::invariants::{Monitor, Violation, DUPLICATE_GAP};
use crate::scenario::{seconds, Fault, Scenario, ScenarioError};
use crate::setup::{load_config, Setup};
use crate::topology::HostKind;
use crate::world::{Client, Director, InstInfo, Server, World};

/// How long a `vrrp_script` takes in the simulation (it always passes).
const SCRIPT_TIME: Duration = Duration::from_millis(5);
/// How many trace records are kept for violation reports.
const RING: usize = 32;

/// Something due at a time.
#[derive(Debug, Clone)]
enum Ev {
    /// A director's timer; stale unless `gen` is its current generation.
    Wake { d: usize, gen: u64 },
    /// An input reaches a director; `life` pins probe and script results
    /// to the boot that asked for them.
    Deliver {
        d: usize,
        life: Option<u32>,
        input: Input,
    },
    /// A gratuitous ARP reaches a client.
    Garp {
        client: usize,
        address: IpAddr,
        owner: usize,
    },
    /// The timeline's fault number n.
    Fault(usize),
    /// A paused director runs again.
    Resume(usize),
    /// An invariant deadline.
    Check,
}

struct Entry {
    at: Instant,
    seq: u64,
    ev: Ev,
}

impl PartialEq for Entry {
    fn eq(&self, o: &Self) -> bool {
        (self.at, self.seq) == (o.at, o.seq)
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Entry {
    /// Reversed: the heap pops the earliest, first-scheduled entry.
    fn cmp(&self, o: &Self) -> Ordering {
        (o.at, o.seq).cmp(&(self.at, self.seq))
    }
}

/// The outcome of a run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    /// Scenario name.
    pub name: String,
    /// Seed.
    pub seed: u64,
    /// Simulated seconds.
    pub duration: f64,
    /// Events processed.
    pub events: u64,
    /// The start-up and each fault, with its figures.
    pub incidents: Vec<Incident>,
    /// Every violation.
    pub violations: Vec<Violation>,
    /// Each director's instances and their final states.
    pub final_states: BTreeMap<String, BTreeMap<String, State>>,
    /// The trace, when asked for (JSON lines).
    #[serde(skip)]
    pub trace: Option<Vec<u8>>,
}

/// The simulator.
pub struct Sim {
    world: World,
    timeline: Vec<(Duration, Fault)>,
    base: std::path::PathBuf,
    files: crate::files::Files,
    queue: BinaryHeap<Entry>,
    seq: u64,
    rng: ChaCha8Rng,
    end: Instant,
    monitor: Monitor,
    incidents: Incidents,
    ring: VecDeque<Record>,
    out: Option<Vec<u8>>,
    dirty: bool,
    events: u64,
    /// Last advert each director sent per (segment, family, VRID).
    adverts: BTreeMap<(usize, bool, u8), BTreeMap<usize, Instant>>,
    /// The Master each (segment, family, VRID) last had.
    last_master: BTreeMap<(usize, bool, u8), usize>,
    name: String,
    seed: u64,
    #[cfg(test)]
    split_sync_groups: bool,
}

fn at(d: Duration) -> Instant {
    Instant::ZERO + d
}

impl Sim {
    /// A simulator for a checked setup.
    pub fn new(
        scenario: &Scenario,
        setup: Setup,
        seed: u64,
        trace: bool,
    ) -> Result<Sim, ScenarioError> {
        let end = at(seconds(scenario.duration).unwrap_or_default());
        let mut directors = Vec::new();
        for d in &setup.directors {
            let topo = &setup.topo;
            let info = InstInfo::of(&d.config, |i| topo.interface(d.host, i).map(|(s, _)| s));
            directors.push(Director {
                name: d.name.clone(),
                host: d.host,
                config_path: d.config_path.clone(),
                config_shown: d.config_shown.clone(),
                pending_reload: None,
                scripts: BTreeMap::new(),
                config_id: d.config_id.clone(),
                states: vec![State::Initialize; info.len()],
                info,
                config: d.config.clone(),
                interfaces: d.interfaces.clone(),
                node: None,
                life: 0,
                paused_until: None,
                buffered: Vec::new(),
                wake: None,
                gen: 0,
                vips: BTreeSet::new(),
                table: lvs::Table::default(),
                since: Instant::ZERO,
            });
        }
        let servers = setup
            .servers
            .iter()
            .map(|(a, (host, b))| {
                (
                    *a,
                    Server {
                        host: *host,
                        behaviour: b.clone(),
                        ports: BTreeMap::new(),
                    },
                )
            })
            .collect();
        let clients = setup
            .clients
            .iter()
            .filter_map(|&h| {
                let seg = setup.topo.attachments(h).next()?.0;
                Some(Client {
                    host: h,
                    segment: seg,
                    arp: BTreeMap::new(),
                })
            })
            .collect();
        let handover = scenario
            .invariants
            .handover_window_ms
            .and_then(|ms| seconds(ms / 1e3));
        let mut sim = Sim {
            world: World {
                now: Instant::ZERO,
                topo: setup.topo,
                directors,
                servers,
                clients,
            },
            timeline: setup.timeline,
            base: setup.base,
            files: setup.files,
            queue: BinaryHeap::new(),
            seq: 0,
            rng: ChaCha8Rng::seed_from_u64(seed),
            end,
            monitor: Monitor::new(handover),
            incidents: Incidents::default(),
            ring: VecDeque::new(),
            out: trace.then(Vec::new),
            dirty: true,
            events: 0,
            adverts: BTreeMap::new(),
            last_master: BTreeMap::new(),
            name: scenario.name.clone().unwrap_or_else(|| "scenario".into()),
            seed,
            #[cfg(test)]
            split_sync_groups: false,
        };
        sim.incidents
            .open(Instant::ZERO, "start-up", "start-up".into());
        for k in 0..sim.timeline.len() {
            let t = at(sim.timeline[k].0);
            sim.push(t, Ev::Fault(k));
        }
        for d in 0..sim.world.directors.len() {
            sim.boot(d)?;
        }
        Ok(sim)
    }

    /// Test-only: sync groups in every director stop moving together.
    #[cfg(test)]
    pub(crate) fn split_sync_groups(&mut self) {
        self.split_sync_groups = true;
        for d in &mut self.world.directors {
            if let Some(n) = &mut d.node {
                n.split_sync_groups(true);
            }
        }
    }

    fn push(&mut self, at: Instant, ev: Ev) {
        self.seq += 1;
        self.queue.push(Entry {
            at,
            seq: self.seq,
            ev,
        });
    }

    fn record(&mut self, host: String, kind: Kind) {
        let r = Record {
            t_ns: self.world.now.as_nanos(),
            host,
            kind,
        };
        if let Some(out) = &mut self.out {
            // Writing to a Vec cannot fail.
            let _ = trace::write(out, &r);
        }
        if self.ring.len() == RING {
            self.ring.pop_front();
        }
        self.ring.push_back(r);
    }

    /// Starts (or restarts) director `d` from its configuration.
    fn boot(&mut self, d: usize) -> Result<(), ScenarioError> {
        let now = self.world.now;
        let seed = self.rng.next_u64();
        let dir = &mut self.world.directors[d];
        let node = Node::with_seed(now, &dir.config, &dir.interfaces, seed).map_err(|e| {
            ScenarioError::Invalid {
                path: dir.config_path.display().to_string(),
                place: dir.name.clone(),
                message: e.to_string(),
            }
        })?;
        dir.node = Some(node);
        dir.life += 1;
        dir.since = now;
        dir.states = vec![State::Initialize; dir.info.len()];
        #[cfg(test)]
        if self.split_sync_groups {
            if let Some(n) = &mut dir.node {
                n.split_sync_groups(true);
            }
        }
        let (name, config) = (dir.name.clone(), dir.config_shown.clone());
        self.record(name, Kind::Start { config });
        self.settle(d);
        Ok(())
    }

    /// Runs to the end of the scenario.
    pub fn run(mut self) -> Report {
        self.check();
        while let Some(e) = self.queue.peek() {
            if e.at > self.end {
                break;
            }
            let Some(Entry { at, ev, .. }) = self.queue.pop() else {
                break;
            };
            self.world.now = at;
            self.events += 1;
            self.step(ev);
            if self.dirty {
                self.check();
            }
        }
        self.world.now = self.end;
        self.check();
        self.monitor.finish(self.end, &mut self.incidents);
        let incidents = std::mem::take(&mut self.incidents).into_list();
        // The figures close the trace, so a report needs nothing else.
        for i in &incidents {
            self.record("sim".into(), Kind::Incident(i.clone()));
        }
        let final_states = self
            .world
            .directors
            .iter()
            .map(|d| {
                let states = d
                    .info
                    .iter()
                    .zip(&d.states)
                    .map(|(i, s)| (i.name.clone(), *s))
                    .collect();
                (d.name.clone(), states)
            })
            .collect();
        Report {
            name: self.name,
            seed: self.seed,
            duration: (self.end - Instant::ZERO).as_secs_f64(),
            events: self.events,
            incidents,
            violations: self.monitor.violations().to_vec(),
            final_states,
            trace: self.out,
        }
    }

    fn check(&mut self) {
        self.dirty = false;
        let found = self
            .monitor
            .evaluate(&self.world, &mut self.incidents, &self.ring);
        for v in found {
            let host = v.hosts.first().cloned().unwrap_or_default();
            self.record(
                host,
                Kind::Violation {
                    invariant: v.invariant,
                    detail: v.detail,
                },
            );
        }
        for t in self.monitor.take_deadlines(self.world.now) {
            // A deadline just after the bound: the check is "longer than".
            let t = t + Duration::from_nanos(1);
            if t <= self.end {
                self.push(t, Ev::Check);
            }
        }
    }

    fn step(&mut self, ev: Ev) {
        let now = self.world.now;
        match ev {
            Ev::Wake { d, gen } => {
                let dir = &mut self.world.directors[d];
                if dir.gen != gen || dir.paused_until.is_some() {
                    return;
                }
                dir.wake = None;
                if let Some(n) = &mut dir.node {
                    n.handle_timeout(now);
                    self.settle(d);
                }
            }
            Ev::Deliver { d, life, input } => {
                let dir = &mut self.world.directors[d];
                if dir.node.is_none() || life.is_some_and(|l| l != dir.life) {
                    return;
                }
                if dir.paused_until.is_some() {
                    dir.buffered.push(input);
                    return;
                }
                if let Some(n) = &mut dir.node {
                    n.handle(now, input);
                }
                self.settle(d);
            }
            Ev::Garp {
                client,
                address,
                owner,
            } => {
                let c = &mut self.world.clients[client];
                if c.arp.insert(address, owner) != Some(owner) {
                    let (host, seg) = (c.host, c.segment);
                    let kind = Kind::Arp {
                        segment: self.world.topo.segments[seg].name.clone(),
                        address,
                        owner: self.world.directors[owner].name.clone(),
                    };
                    self.record(self.world.topo.hosts[host].name.clone(), kind);
                    self.incidents.arp(now);
                }
            }
            Ev::Fault(k) => {
                let fault = self.timeline[k].1.clone();
                self.fault(fault);
                self.dirty = true;
            }
            Ev::Resume(d) => {
                let dir = &mut self.world.directors[d];
                if dir.paused_until.is_none_or(|t| t > now) {
                    return;
                }
                dir.paused_until = None;
                let buffered = std::mem::take(&mut dir.buffered);
                // What the socket held is read first, then the late timers
                // fire: adverts that arrived during the pause still count.
                if let Some(n) = &mut dir.node {
                    for input in buffered {
                        n.handle(now, input);
                    }
                    if n.poll_timeout().is_some_and(|t| t <= now) {
                        n.handle_timeout(now);
                    }
                }
                dir.wake = None;
                // Its probes were held up: checker bounds start again.
                dir.since = now;
                let reload = dir.pending_reload.take();
                self.settle(d);
                if let Some(path) = reload {
                    self.reload(d, &path);
                }
                self.dirty = true;
            }
            Ev::Check => self.dirty = true,
        }
    }

    /// Carries out a director's outputs and schedules its next wake-up.
    fn settle(&mut self, d: usize) {
        let outputs: Vec<Output> = match &mut self.world.directors[d].node {
            Some(n) => std::iter::from_fn(|| n.poll_output()).collect(),
            None => return,
        };
        for o in outputs {
            self.carry_out(d, o);
        }
        let now = self.world.now;
        let dir = &mut self.world.directors[d];
        let next = dir.node.as_ref().and_then(Node::poll_timeout);
        if next != dir.wake && dir.paused_until.is_none() {
            dir.gen += 1;
            dir.wake = next;
            let gen = dir.gen;
            if let Some(t) = next {
                self.push(t.max(now), Ev::Wake { d, gen });
            }
        }
    }

    fn trace_output(&mut self, d: usize, o: &Output) {
        let dir = &self.world.directors[d];
        if let Some(kind) = Kind::of_output(o) {
            self.record(dir.name.clone(), kind);
        }
    }

    fn carry_out(&mut self, d: usize, o: Output) {
        self.trace_output(d, &o);
        let now = self.world.now;
        match o {
            Output::Transmit(t) => self.transmit(d, t),
            Output::AddVip { vip, .. } => {
                self.world.directors[d].vips.insert(vip.address);
                self.dirty = true;
            }
            Output::RemoveVip { vip, .. } => {
                self.world.directors[d].vips.remove(&vip.address);
                self.dirty = true;
            }
            Output::Announce {
                interface,
                addresses,
                count,
                ..
            } => self.announce(d, &interface, &addresses, count),
            Output::Event(e) => {
                let dir = &mut self.world.directors[d];
                let Some(i) = dir.info.iter().position(|i| i.name == e.instance) else {
                    return;
                };
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
            Output::GroupChanged { .. } | Output::RunScript { .. } | Output::Alert(_) => {}
            Output::Probe {
                id,
                checker,
                address,
                port,
                url,
                timeout,
            } => {
                let result = match self.world.servers.get(&address) {
                    Some(server) => {
                        let (host, behaviour) = (server.host, server.on(port).clone());
                        let rtt = self.probe_rtt(host);
                        let reachable = self.world.server_reachable(d, host);
                        behaviour::probe(&behaviour, &checker, url, rtt, timeout, reachable)
                    }
                    None => behaviour::ProbeResult {
                        after: timeout,
                        outcome: Outcome::Fail("no route to host".into()),
                    },
                };
                let life = Some(self.world.directors[d].life);
                let input = Input::ProbeDone {
                    id,
                    outcome: result.outcome,
                };
                self.push(now + result.after, Ev::Deliver { d, life, input });
            }
            Output::Lvs(op) => {
                let dir = &mut self.world.directors[d];
                if let Err(e) = lvs::apply(&mut dir.table, &op) {
                    let name = dir.name.clone();
                    let v = self.monitor.report(
                        now,
                        "data_plane_accepts",
                        vec![name.clone()],
                        format!("the kernel table refused {op:?}: {e}"),
                        &self.ring,
                    );
                    self.record(
                        name,
                        Kind::Violation {
                            invariant: v.invariant,
                            detail: v.detail,
                        },
                    );
                }
                self.incidents.pool(now);
                self.dirty = true;
            }
            Output::RealServerChanged { .. } => {
                self.incidents.detected(now);
                self.dirty = true;
            }
            Output::RunTrackScript { id, name, .. } => {
                let dir = &self.world.directors[d];
                let life = Some(dir.life);
                let success = dir.scripts.get(&name).copied().unwrap_or(true);
                let input = Input::ScriptDone { id, success };
                self.push(now + SCRIPT_TIME, Ev::Deliver { d, life, input });
            }
        }
    }

    /// A probe's round trip under the server segment's conditions: delay
    /// and jitter each way, and a lost segment costs TCP's initial
    /// retransmission timeout (1 s, RFC 6298).
    fn probe_rtt(&mut self, server: usize) -> Duration {
        let seg = self.world.topo.attachments(server).next().map(|(s, _)| s);
        let net = seg
            .map(|s| self.world.topo.segments[s].net)
            .unwrap_or_default();
        let mut ms = 2.0 * net.delay_ms;
        if net.jitter_ms > 0.0 {
            ms +=
                self.rng.random::<f64>() * net.jitter_ms + self.rng.random::<f64>() * net.jitter_ms;
        }
        if net.loss > 0.0 && self.rng.random::<f64>() < net.loss {
            ms += 1000.0;
        }
        Duration::from_secs_f64(ms / 1e3)
    }

    /// Schedules a frame's arrival under the segment's conditions.
    fn send(&mut self, seg: usize, ev: Ev) {
        let net = self.world.topo.segments[seg].net;
        if net.loss > 0.0 && self.rng.random::<f64>() < net.loss {
            return;
        }
        let mut delay = Duration::from_secs_f64(net.delay_ms / 1e3);
        if net.jitter_ms > 0.0 {
            delay += Duration::from_secs_f64(self.rng.random::<f64>() * net.jitter_ms / 1e3);
        }
        let now = self.world.now;
        if net.duplicate > 0.0 && self.rng.random::<f64>() < net.duplicate {
            self.push(now + delay + DUPLICATE_GAP, ev.clone());
        }
        self.push(now + delay, ev);
    }

    fn transmit(&mut self, d: usize, t: Transmit) {
        let w = &self.world;
        let host = w.directors[d].host;
        let attachment = match &t.interface {
            Some(i) => w.topo.interface(host, i),
            None => w.topo.attachments(host).next(),
        };
        let Some((seg, edge)) = attachment else {
            return;
        };
        if !w.topo.up(edge) {
            return;
        }
        // An advert that left the host (the figure measured on the wire).
        if let Some(&vrid) = t.bytes.get(1) {
            let key = (seg, t.src.is_ipv6(), vrid);
            self.adverts.entry(key).or_default().insert(d, w.now);
        }
        let w = &self.world;
        let mut receivers = Vec::new();
        if t.dst.is_multicast() {
            for &(h, e) in &w.topo.segments[seg].members {
                if let HostKind::Director(r) = w.topo.hosts[h].kind {
                    if r != d && w.topo.reaches(seg, host, h) {
                        receivers.push((r, w.topo.graph[e].interface.clone()));
                    }
                }
            }
        } else {
            // The director whose interface has the destination address.
            for (r, dir) in w.directors.iter().enumerate().filter(|(r, _)| *r != d) {
                for (s, e) in w.topo.attachments(dir.host) {
                    let a = &w.topo.graph[e];
                    if a.ipv4 == Some(t.dst) || a.ipv6 == Some(t.dst) {
                        let ok = if s == seg {
                            w.topo.reaches(seg, host, dir.host)
                        } else {
                            a.up
                        };
                        if ok {
                            receivers.push((r, a.interface.clone()));
                        }
                    }
                }
            }
        }
        for (r, interface) in receivers {
            let input = Input::Packet {
                interface,
                src: t.src,
                dst: t.dst,
                ttl: t.ttl,
                bytes: t.bytes.clone(),
            };
            self.send(
                seg,
                Ev::Deliver {
                    d: r,
                    life: None,
                    input,
                },
            );
        }
    }

    /// Gratuitous ARPs reach the clients on the interface's segment; a
    /// client misses the announcement only if all `count` are lost.
    fn announce(&mut self, d: usize, interface: &str, addresses: &[IpAddr], count: u32) {
        let host = self.world.directors[d].host;
        let Some((seg, edge)) = self.world.topo.interface(host, interface) else {
            return;
        };
        if !self.world.topo.up(edge) {
            return;
        }
        let loss = self.world.topo.segments[seg].net.loss;
        let targets: Vec<usize> = (0..self.world.clients.len())
            .filter(|&c| {
                let cl = &self.world.clients[c];
                cl.segment == seg && self.world.topo.reaches(seg, host, cl.host)
            })
            .collect();
        for c in targets {
            if loss > 0.0 && (0..count.max(1)).all(|_| self.rng.random::<f64>() < loss) {
                continue;
            }
            for &address in addresses {
                let ev = Ev::Garp {
                    client: c,
                    address,
                    owner: d,
                };
                let net = self.world.topo.segments[seg].net;
                let delay = Duration::from_secs_f64(net.delay_ms / 1e3);
                self.push(self.world.now + delay, ev);
            }
        }
    }

    fn director(&self, name: &str) -> Option<usize> {
        self.world.directors.iter().position(|d| d.name == name)
    }

    fn hosts(&self, names: &[String]) -> BTreeSet<usize> {
        names
            .iter()
            .filter_map(|n| self.world.topo.host(n))
            .collect()
    }

    /// Gives an input to a director now, or after its pause.
    fn input(&mut self, d: usize, input: Input) {
        let dir = &mut self.world.directors[d];
        if dir.paused_until.is_some() {
            dir.buffered.push(input);
            return;
        }
        if let Some(n) = &mut dir.node {
            n.handle(self.world.now, input);
            self.settle(d);
        }
    }

    fn fault(&mut self, fault: Fault) {
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
                let dir = &mut self.world.directors[d];
                if dir.node.take().is_none() {
                    return;
                }
                // The machine is gone: its addresses and kernel table too.
                dir.paused_until = None;
                dir.buffered.clear();
                dir.vips.clear();
                dir.table = lvs::Table::default();
                dir.states = vec![State::Initialize; dir.info.len()];
                dir.gen += 1;
                dir.wake = None;
                self.record(
                    host,
                    Kind::Stop {
                        reason: "crash".into(),
                    },
                );
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

    /// SIGHUP with a new file: a configuration with errors is refused and
    /// the running one kept.
    fn reload(&mut self, d: usize, config: &std::path::Path) {
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

fn cell(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), |v| format!("{v:.6}"))
}

impl Report {
    /// The summary `holdfast sim` prints: one row per incident, then the
    /// verdict and every violation.
    pub fn summary(&self) -> String {
        use std::fmt::Write as _;
        let width = self
            .incidents
            .iter()
            .map(|i| i.label.len())
            .max()
            .unwrap_or(8)
            .max(8);
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{} (seed {}): {} s simulated, {} events",
            self.name, self.seed, self.duration, self.events
        );
        let _ = writeln!(
            s,
            "{:width$}  {:>11}  {:>10}  {:>10}  {:>12}  {:>11}  {:>10}  {:>10}",
            "incident",
            "at s",
            "detect s",
            "failover s",
            "after advert",
            "dual-master",
            "ARP switch",
            "pool s"
        );
        for i in &self.incidents {
            let _ = writeln!(
                s,
                "{:width$}  {:>11.6}  {:>10}  {:>10}  {:>12}  {:>11.6}  {:>10}  {:>10}",
                i.label,
                i.at,
                cell(i.detection),
                cell(i.failover),
                cell(i.takeover_after_advert),
                i.dual_master,
                cell(i.arp_switch),
                cell(i.pool_change)
            );
        }
        if self.violations.is_empty() {
            let _ = writeln!(s, "invariants: all held");
        } else {
            let _ = writeln!(s, "invariants: {} violated", self.violations.len());
            for v in &self.violations {
                let _ = write!(s, "{v}");
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn case_study(split: bool) -> Report {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/case-study.json");
        let scenario = Scenario::read(&path).expect("the shipped scenario reads");
        let base = path.parent().expect("a directory");
        let setup = Setup::new(&scenario, base, "case-study.json").expect("it sets up");
        let mut sim = Sim::new(&scenario, setup, scenario.seed, false).expect("it boots");
        if split {
            sim.split_sync_groups();
        }
        sim.run()
    }

    /// Proof that the invariants can fail: with core's sync groups broken
    /// on purpose, director 1's eth1 going down makes director 2's VI_1
    /// take over alone (it hears director 1's priority-0 advert and waits
    /// only the skew time) while VI_2 still waits out its master-down
    /// interval.
    #[test]
    fn a_sync_group_that_does_not_move_together_is_caught() {
        assert!(case_study(false).violations.is_empty());
        let broken = case_study(true);
        let v = broken
            .violations
            .iter()
            .find(|v| v.invariant == "sync_group_agrees" && v.t_ns > 60_000_000_000)
            .unwrap_or_else(|| panic!("not caught: {}", broken.summary()));
        assert_eq!(v.hosts, vec!["director2".to_string()]);
        assert!(
            v.detail.contains("VI_1=Master") && v.detail.contains("VI_2=Backup"),
            "{}",
            v.detail
        );
        // At the skew time after the link went down at 60 s.
        assert_eq!(v.t_ns, 60_000_000_000 + 609_375_000 + 100_000);
        assert!(
            !v.recent.is_empty(),
            "the report quotes the trace before it"
        );
    }
}
