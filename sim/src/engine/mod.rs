//! The discrete-event loop. Events sit in a queue ordered by (time,
//! sequence number); one ChaCha RNG seeded from the scenario draws every
//! loss, jitter, duplicate and node seed; nothing else is random, and every
//! map is ordered — so a scenario and a seed give one trace, byte for byte.
//!
//! Directors are unmodified `core::Node`s: the engine feeds them packets,
//! link changes, probe and script results at their virtual arrival times,
//! wakes them at `poll_timeout`, and carries out their outputs on the
//! simulated network, servers and kernel tables.

mod effects;
mod faults;
mod foreign;
mod network;
mod queue;
mod report;

use queue::{Entry, Ev};
pub use report::Report;

use std::collections::{BTreeMap, BTreeSet, BinaryHeap, VecDeque};
use std::time::Duration;

use holdfast_core::node::Input;
use holdfast_core::time::Instant;
use holdfast_core::trace::{self, Kind, Record};
use holdfast_core::vrrp::instance::State;
use holdfast_core::{lvs, Node};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::incidents::Incidents;
use crate::invariants::{Invariant, Monitor};
use crate::oracle::Oracle;
use crate::scenario::{seconds, Fault, Scenario, ScenarioError};
use crate::setup::Setup;
use crate::world::{Client, Director, InstInfo, Server, World};

/// How many trace records are kept for violation reports.
const RING: usize = 32;

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
    oracle: Oracle,
    /// Events a run may take before it is reported as looping.
    budget: u64,
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
    /// A deliberate bug put into every node it boots (tests only).
    #[cfg(feature = "defects")]
    defect: Option<holdfast_core::defect::Defect>,
}

fn at(d: Duration) -> Instant {
    Instant::ZERO + d
}

/// Events a run ending at `end` may take: a thousand times what the case
/// study needs per simulated second (about 7), and a floor for short runs.
fn budget(end: Instant) -> u64 {
    let secs = (end - Instant::ZERO).as_secs();
    10_000 * secs.max(60)
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
                pending_clear: false,
                pending_stop: false,
                seed: 0,
                scripts: BTreeMap::new(),
                config_id: d.config_id.clone(),
                states: vec![State::Initialize; info.len()],
                info,
                config: d.config.clone(),
                interfaces: d.interfaces.clone(),
                ipv4: BTreeMap::new(),
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
        let directors_len = directors.len();
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
                heard: Default::default(),
                hidden: Default::default(),
            },
            timeline: setup.timeline,
            base: setup.base,
            files: setup.files,
            queue: BinaryHeap::new(),
            seq: 0,
            rng: ChaCha8Rng::seed_from_u64(seed),
            end,
            monitor: Monitor::new(handover),
            oracle: Oracle::new(directors_len),
            budget: budget(end),
            incidents: Incidents::default(),
            ring: VecDeque::new(),
            out: trace.then(Vec::new),
            dirty: true,
            events: 0,
            adverts: BTreeMap::new(),
            last_master: BTreeMap::new(),
            name: scenario.name.clone().unwrap_or_else(|| "scenario".into()),
            seed,
            #[cfg(feature = "defects")]
            defect: None,
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

    /// Hands `input` to director `name` at `at` from the scenario's start,
    /// as the network hands over a packet: a test drives one director
    /// with inputs of its choosing (the adverts of a peer that is not
    /// simulated, link and address events) through the engine's own
    /// delivery, wake-ups and drain.
    pub fn inject(&mut self, at: Duration, name: &str, input: holdfast_core::node::Input) -> bool {
        let Some(d) = self.world.directors.iter().position(|x| x.name == name) else {
            return false;
        };
        self.push(
            Instant::ZERO + at,
            Ev::Deliver {
                d,
                life: None,
                input,
            },
        );
        true
    }

    /// The seed director `name`'s running node was built with (core's
    /// random parts: the checkers' warmup), so another driver can build
    /// the same node.
    pub fn node_seed(&self, name: &str) -> Option<u64> {
        self.world
            .directors
            .iter()
            .find(|x| x.name == name && x.node.is_some())
            .map(|x| x.seed)
    }

    /// Test-only: puts `defect` into every director's core, now and at
    /// every boot.
    #[cfg(feature = "defects")]
    pub fn inject_defect(&mut self, defect: holdfast_core::defect::Defect) {
        self.defect = Some(defect);
        for d in &mut self.world.directors {
            if let Some(n) = &mut d.node {
                n.inject(defect);
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
        self.record_at(host, self.world.now, kind);
    }

    /// A record stamped `at`: for a node output, the time core raised it.
    fn record_at(&mut self, host: String, at: Instant, kind: Kind) {
        let r = Record {
            t_ns: at.as_nanos(),
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
        // A start lists each interface's addresses as they are now.
        for i in &mut dir.interfaces {
            if let Some(list) = dir.ipv4.get(&i.name) {
                i.ipv4 = list.first().copied();
            }
        }
        let node = Node::with_seed(now, &dir.config, &dir.interfaces, seed).map_err(|e| {
            ScenarioError::Invalid {
                path: dir.config_path.display().to_string(),
                place: dir.name.clone(),
                message: e.to_string(),
            }
        })?;
        self.oracle.booted(now, d, &dir.config, &dir.interfaces);
        dir.node = Some(node);
        dir.seed = seed;
        dir.life += 1;
        dir.since = now;
        dir.states = vec![State::Initialize; dir.info.len()];
        #[cfg(feature = "defects")]
        if let (Some(defect), Some(n)) = (self.defect, &mut dir.node) {
            n.inject(defect);
        }
        // The other addresses the interfaces have, as the daemon reports
        // them at its start.
        let found: Vec<Input> = dir
            .ipv4
            .iter()
            .flat_map(|(interface, list)| {
                list.iter().skip(1).map(|&address| Input::Found {
                    interface: interface.clone(),
                    address,
                })
            })
            .collect();
        let (name, config) = (dir.name.clone(), dir.config_shown.clone());
        self.record(name, Kind::Start { config });
        for input in found {
            self.hand(d, input);
        }
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
            if self.events > self.budget {
                let detail = format!(
                    "more than {} events by t={:.6}s: something loops instead of settling",
                    self.budget,
                    (at - Instant::ZERO).as_secs_f64()
                );
                let v =
                    self.monitor
                        .report(at, Invariant::EventBudget, Vec::new(), detail, &self.ring);
                let kind = Kind::Violation {
                    invariant: v.invariant,
                    detail: v.detail,
                };
                self.record("sim".into(), kind);
                break;
            }
            self.step(ev);
            if self.dirty {
                self.check();
            }
        }
        self.world.now = self.end;
        self.check();
        for d in 0..self.world.directors.len() {
            self.compare_counters(d);
        }
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
        for f in self.oracle.check(self.world.now) {
            self.violation(f.director, f.rule, f.detail);
        }
        for d in 0..self.world.directors.len() {
            for f in self.oracle.pools(d, &self.world.directors[d].table) {
                self.violation(f.director, f.rule, f.detail);
            }
        }
        let oracle_deadlines = self.oracle.take_deadlines();
        for t in self.monitor.take_deadlines(self.world.now) {
            // A deadline just after the bound: the check is "longer than".
            let t = t + Duration::from_nanos(1);
            if t <= self.end {
                self.push(t, Ev::Check);
            }
        }
        for t in oracle_deadlines {
            // Just after: the takeover due at `t` happens at `t`.
            let t = t + Duration::from_nanos(1);
            if t > self.world.now && t <= self.end {
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
                self.input(d, input);
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
            Ev::Foreign {
                segment,
                advert,
                left,
            } => self.foreign(segment, *advert, left),
            Ev::Resume(d) => {
                let dir = &mut self.world.directors[d];
                if dir.paused_until.is_none_or(|t| t > now) {
                    return;
                }
                dir.paused_until = None;
                let buffered = std::mem::take(&mut dir.buffered);
                // What the socket held is read first, then the late timers
                // fire: adverts that arrived during the pause still count.
                // For the oracle, a deadline that passed during the pause
                // runs out now, after what the socket held.
                self.oracle.resumed(d, now);
                // One at a time, each drained before the next is read, as
                // the daemon's loop reads its socket.
                for input in buffered {
                    self.hand(d, input);
                    self.settle(d);
                }
                let dir = &mut self.world.directors[d];
                if let Some(n) = &mut dir.node {
                    if n.poll_timeout().is_some_and(|t| t <= now) {
                        n.handle_timeout(now);
                    }
                }
                dir.wake = None;
                // Its probes were held up: checker bounds start again.
                dir.since = now;
                let reload = dir.pending_reload.take();
                let clear = std::mem::take(&mut dir.pending_clear);
                let stop = dir.pending_stop;
                self.settle(d);
                if clear {
                    self.clear_stats(d);
                }
                if let Some(path) = reload {
                    self.reload(d, &path);
                }
                if stop {
                    // A step of its own: what it did on waking is seen
                    // before it stops.
                    self.push(now, Ev::Stop(d));
                }
                self.dirty = true;
            }
            Ev::Stop(d) => {
                if self.world.directors[d].paused_until.is_some() {
                    self.world.directors[d].pending_stop = true;
                } else {
                    self.stop(d);
                }
            }
            Ev::Check => self.dirty = true,
        }
    }

    /// Carries out a director's outputs and schedules its next wake-up.
    /// Hands `input` to director `d`'s node now; the oracle sees an
    /// advert first, as the node does.
    pub(super) fn hand(&mut self, d: usize, input: Input) {
        let now = self.world.now;
        if let Input::Packet {
            interface,
            src,
            dst,
            ttl,
            bytes,
        } = &input
        {
            self.oracle
                .packet(now, d, interface, (*src, *dst), *ttl, bytes);
        }
        match &input {
            Input::ProbeDone { id, .. } => self.oracle.probe_done(now, d, *id),
            Input::Link { interface, up } => self.oracle.link(now, d, interface, *up),
            Input::ScriptDone { id, .. } => self.oracle.script_done(now, d, *id),
            Input::Address {
                interface,
                address,
                added,
            } => self.oracle.address(now, d, interface, *address, *added),
            Input::Found { interface, address } => {
                self.oracle.address(now, d, interface, *address, true)
            }
            _ => {}
        }
        if let Some(n) = &mut self.world.directors[d].node {
            n.handle(now, input);
        }
    }

    /// The drain is the daemon's (`Node`, "Driving a node"): one output at
    /// a time, its trace record first, and what the kernel answers at once
    /// given to core before the next output is taken; then the desired
    /// LVS table, if it changed, goes to the kernel model.
    fn settle(&mut self, d: usize) {
        let mut table_changed = false;
        while let Some((at, o, kind)) = self.world.directors[d]
            .node
            .as_mut()
            .and_then(Node::poll_traced)
        {
            table_changed |= matches!(o, holdfast_core::node::Output::Lvs(_));
            if let Some(kind) = kind {
                let host = self.world.directors[d].name.clone();
                self.record_at(host, at, kind);
            }
            if let Some(answer) = self.carry_out(d, o) {
                let now = self.world.now;
                if let Some(n) = &mut self.world.directors[d].node {
                    n.handle(now, answer);
                }
            }
        }
        if table_changed {
            self.apply_table(d);
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
            sim.inject_defect(holdfast_core::defect::Defect::SplitSyncGroups);
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
