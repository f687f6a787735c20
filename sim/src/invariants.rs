//! The failover invariants, checked after every event that can change what
//! they look at, and again at each deadline they set. Two kinds:
//!
//! - strict, true after every event: a director holds exactly its Masters'
//!   addresses; a sync group's members share one state; the data plane
//!   accepts every operation in order;
//! - bounded, true once a condition has lasted longer than its bound:
//!   connected Masters of one VRID (hand-over window), no Master while an
//!   eligible director hears none (master-down interval), a real server's
//!   place in the pool and the sorry server (the checker's bounds).
//!
//! Each violation is reported once per episode, with the trace records
//! that led to it.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;
use std::time::Duration;

use holdfast_core::config::model::Family;
use holdfast_core::lvs::{pool, DestKey};
use holdfast_core::time::Instant;
use holdfast_core::trace::Record;
use holdfast_core::vrrp::instance::State;
use serde::{Deserialize, Serialize};

use crate::behaviour;
use crate::bounds;
use crate::incidents::Incidents;
use crate::world::World;

/// An invariant that did not hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Violation {
    /// When, nanoseconds.
    pub t_ns: u64,
    /// Which invariant.
    pub invariant: String,
    /// The hosts involved.
    pub hosts: Vec<String>,
    /// What was seen.
    pub detail: String,
    /// The trace records just before.
    pub recent: Vec<Record>,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "t={:.6}s {} [{}]: {}",
            self.t_ns as f64 / 1e9,
            self.invariant,
            self.hosts.join(", "),
            self.detail
        )?;
        if !self.recent.is_empty() {
            writeln!(f, "  leading up to it:")?;
        }
        for r in &self.recent {
            let line = serde_json::to_string(r).unwrap_or_default();
            writeln!(f, "    {line}")?;
        }
        Ok(())
    }
}

/// A condition that must not last past its bound.
#[derive(Debug, Clone, Copy)]
struct Episode {
    since: Instant,
    bound: Duration,
    reported: bool,
}

/// What a real server should be, seen from one director.
#[derive(Debug, Clone, Copy)]
struct Expect {
    up: bool,
    since: Instant,
    bound: Duration,
    reported: bool,
}

/// Opens the episode for `key` (its deadline scheduled) if it is new, and
/// returns (since, bound) the first time it has lasted past its bound.
fn overdue<K: Ord>(
    episodes: &mut BTreeMap<K, Episode>,
    deadlines: &mut Vec<Instant>,
    key: K,
    now: Instant,
    bound: Duration,
) -> Option<(Instant, Duration)> {
    let e = episodes.entry(key).or_insert_with(|| {
        deadlines.push(now + bound);
        Episode {
            since: now,
            bound,
            reported: false,
        }
    });
    if e.reported || now - e.since <= e.bound {
        return None;
    }
    e.reported = true;
    Some((e.since, e.bound))
}

/// How long after the original a duplicated frame arrives.
pub const DUPLICATE_GAP: Duration = Duration::from_micros(10);

/// How many trace records a violation quotes.
const CONTEXT: usize = 12;

/// Watches the world.
#[derive(Debug, Default)]
pub struct Monitor {
    handover: Option<Duration>,
    dual: BTreeMap<(usize, Family, u8), Episode>,
    /// When two Masters (resolvable or not) of a key began, for the figure.
    figure: BTreeMap<(usize, Family, u8), Instant>,
    no_master: BTreeMap<(usize, usize), Episode>,
    strict: BTreeSet<String>,
    rs: BTreeMap<(usize, usize, usize), Expect>,
    sorry: BTreeSet<(usize, usize)>,
    violations: Vec<Violation>,
    deadlines: Vec<Instant>,
    /// Deadlines already handed out, so each is checked once.
    scheduled: BTreeSet<Instant>,
}

impl Monitor {
    /// A monitor; `handover` overrides the dual-master window.
    pub fn new(handover: Option<Duration>) -> Monitor {
        Monitor {
            handover,
            ..Monitor::default()
        }
    }

    /// Deadlines at which [`Monitor::evaluate`] must run again.
    pub fn take_deadlines(&mut self, now: Instant) -> Vec<Instant> {
        self.scheduled = self.scheduled.split_off(&now);
        let mut fresh = Vec::new();
        for t in std::mem::take(&mut self.deadlines) {
            if t >= now && self.scheduled.insert(t) {
                fresh.push(t);
            }
        }
        fresh
    }

    /// The violations so far.
    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }

    /// Reports a violation found outside the checks here (the engine's data
    /// plane refusing an operation).
    pub fn report(
        &mut self,
        now: Instant,
        invariant: &str,
        hosts: Vec<String>,
        detail: String,
        recent: &VecDeque<Record>,
    ) -> Violation {
        let v = Violation {
            t_ns: now.as_nanos(),
            invariant: invariant.to_string(),
            hosts,
            detail,
            recent: recent.iter().rev().take(CONTEXT).rev().cloned().collect(),
        };
        self.violations.push(v.clone());
        v
    }

    /// Checks everything; returns the new violations.
    pub fn evaluate(
        &mut self,
        w: &World,
        incidents: &mut Incidents,
        recent: &VecDeque<Record>,
    ) -> Vec<Violation> {
        let before = self.violations.len();
        self.strict_checks(w, recent);
        self.dual_masters(w, incidents, recent);
        self.no_master(w, recent);
        self.real_servers(w, recent);
        self.violations[before..].to_vec()
    }

    /// Closes open dual-master windows at the end of the run.
    pub fn finish(&mut self, now: Instant, incidents: &mut Incidents) {
        for (k, since) in std::mem::take(&mut self.figure) {
            incidents.dual_master(&format!("{k:?}"), since, now);
        }
    }

    fn strict_checks(&mut self, w: &World, recent: &VecDeque<Record>) {
        let mut active = BTreeSet::new();
        let mut found = Vec::new();
        for d in w.directors.iter().filter(|d| d.node.is_some()) {
            let mut wanted = BTreeSet::new();
            for (i, info) in d.info.iter().enumerate() {
                if d.states[i] == State::Master {
                    wanted.extend(info.vips.iter().copied());
                }
            }
            if wanted != d.vips {
                let missing: Vec<String> =
                    wanted.difference(&d.vips).map(|a| a.to_string()).collect();
                let extra: Vec<String> =
                    d.vips.difference(&wanted).map(|a| a.to_string()).collect();
                found.push((
                    "vips_follow_masters",
                    d.name.clone(),
                    format!(
                        "addresses held differ from its Masters' (missing [{}], extra [{}])",
                        missing.join(" "),
                        extra.join(" ")
                    ),
                ));
            }
            for g in 0..d.config.sync_groups.len() {
                let states: BTreeSet<String> = d
                    .info
                    .iter()
                    .zip(&d.states)
                    .filter(|(i, _)| i.group == Some(g))
                    .map(|(i, s)| format!("{}={s:?}", i.name))
                    .collect();
                let distinct: BTreeSet<&str> =
                    states.iter().filter_map(|s| s.split('=').nth(1)).collect();
                if distinct.len() > 1 {
                    let group = &d.config.sync_groups[g].name;
                    found.push((
                        "sync_group_agrees",
                        d.name.clone(),
                        format!(
                            "members of {group} disagree: {}",
                            states.into_iter().collect::<Vec<_>>().join(" ")
                        ),
                    ));
                }
            }
        }
        for (inv, host, detail) in found {
            let key = format!("{inv}/{host}/{detail}");
            if !self.strict.contains(&key) {
                self.report(w.now, inv, vec![host], detail, recent);
            }
            active.insert(key);
        }
        // A strict violation is reported again only after it has cleared.
        self.strict = active;
    }

    /// Two Masters of one (segment, family, VRID). Any two count for the
    /// incident figure — clients may be sent to either. The invariant is
    /// broken when the protocol should have resolved them and did not
    /// within the hand-over window: they hear each other, or the one that
    /// loses the election hears the winner (a one-way path is enough).
    fn dual_masters(&mut self, w: &World, incidents: &mut Incidents, recent: &VecDeque<Record>) {
        type Key = (usize, Family, u8);
        let mut masters: BTreeMap<Key, Vec<(usize, usize)>> = BTreeMap::new();
        for (d, dir) in w
            .directors
            .iter()
            .enumerate()
            .filter(|(_, d)| d.node.is_some())
        {
            for (i, info) in dir.info.iter().enumerate() {
                if let (State::Master, Some(seg)) = (dir.states[i], info.segment) {
                    masters
                        .entry((seg, info.family, info.vrid))
                        .or_default()
                        .push((d, i));
                }
            }
        }
        // The figure.
        let both: BTreeSet<Key> = masters
            .iter()
            .filter(|(_, v)| v.len() > 1)
            .map(|(k, _)| *k)
            .collect();
        let ended: Vec<Key> = self
            .figure
            .keys()
            .filter(|k| !both.contains(k))
            .copied()
            .collect();
        for k in ended {
            if let Some(since) = self.figure.remove(&k) {
                incidents.dual_master(&format!("{k:?}"), since, w.now);
            }
        }
        for k in &both {
            self.figure.entry(*k).or_insert(w.now);
        }
        // The invariant.
        let mut unresolved = BTreeMap::new();
        for (key, ms) in masters.iter().filter(|(k, _)| both.contains(k)) {
            let active: Vec<&(usize, usize)> = ms
                .iter()
                .filter(|(d, _)| w.directors[*d].active())
                .collect();
            for (a, &&(da, ia)) in active.iter().enumerate() {
                for &&(db, ib) in &active[a + 1..] {
                    let (win, lose) = if wins(w, key, (da, ia), (db, ib)) {
                        ((da, ia), (db, ib))
                    } else {
                        ((db, ib), (da, ia))
                    };
                    let (hw, hl) = (w.directors[win.0].host, w.directors[lose.0].host);
                    if w.topo.reaches(key.0, hw, hl) {
                        let md = w.directors[da].info[ia]
                            .master_down
                            .max(w.directors[db].info[ib].master_down);
                        unresolved.insert(*key, (win.0, lose.0, md));
                    }
                }
            }
        }
        self.dual.retain(|k, _| unresolved.contains_key(k));
        for (key, (dw, dl, md)) in unresolved {
            let bound = self.handover.unwrap_or(md);
            if let Some((since, bound)) =
                overdue(&mut self.dual, &mut self.deadlines, key, w.now, bound)
            {
                let names = vec![w.directors[dw].name.clone(), w.directors[dl].name.clone()];
                let detail = format!(
                    "{} and {} are both Master of VRID {} on {} since t={:.6}s, and {} hears {}: past the {:.3}s hand-over window",
                    names[0],
                    names[1],
                    key.2,
                    w.topo.segments[key.0].name,
                    since.as_nanos() as f64 / 1e9,
                    names[1],
                    names[0],
                    bound.as_secs_f64()
                );
                self.report(w.now, "single_master", names, detail, recent);
            }
        }
    }

    /// Whether a Master of (segment, family, vrid) other than director `d`
    /// is active and its adverts reach `d`.
    fn hears_master(w: &World, d: usize, seg: usize, family: Family, vrid: u8) -> bool {
        let host = w.directors[d].host;
        w.directors.iter().enumerate().any(|(e, other)| {
            e != d
                && other.active()
                && other.info.iter().zip(&other.states).any(|(i, s)| {
                    *s == State::Master
                        && i.segment == Some(seg)
                        && i.family == family
                        && i.vrid == vrid
                        && w.topo.reaches(seg, other.host, host)
                })
        })
    }

    /// A director that could be Master must be, within its master-down
    /// interval: running, none of its or its sync-group mates' trackers
    /// failing, and none of them hearing a Master. A Backup that waits too
    /// long and a group stuck in FAULT with its links up are both caught.
    fn no_master(&mut self, w: &World, recent: &VecDeque<Record>) {
        let mut waiting = BTreeMap::new();
        for (d, dir) in w.directors.iter().enumerate().filter(|(_, d)| d.active()) {
            for (i, info) in dir.info.iter().enumerate() {
                if dir.states[i] == State::Master {
                    continue;
                }
                let mates: Vec<usize> = match info.group {
                    Some(g) => (0..dir.info.len())
                        .filter(|&j| dir.info[j].group == Some(g))
                        .collect(),
                    None => vec![i],
                };
                let mut slack = Duration::ZERO;
                let eligible = mates.iter().all(|&j| {
                    let m = &dir.info[j];
                    let Some(seg) = m.segment else { return false };
                    match expected_fault(dir, j) {
                        None => return false,
                        Some(s) => slack = slack.max(s),
                    }
                    !Self::hears_master(w, d, seg, m.family, m.vrid)
                });
                if eligible {
                    // An advert already on the wire when the Master went
                    // away still arrives, and restarts the timer.
                    let in_flight = |seg: Option<usize>| {
                        seg.map_or(Duration::ZERO, |s| {
                            let net = w.topo.segments[s].net;
                            Duration::from_secs_f64((net.delay_ms + net.jitter_ms) / 1e3)
                                + DUPLICATE_GAP
                        })
                    };
                    let bound = mates
                        .iter()
                        .map(|&j| dir.info[j].master_down + in_flight(dir.info[j].segment))
                        .max()
                        .unwrap_or(info.master_down)
                        + slack;
                    waiting.insert((d, i), bound);
                }
            }
        }
        self.no_master.retain(|k, _| waiting.contains_key(k));
        for ((d, i), bound) in waiting {
            let due = overdue(
                &mut self.no_master,
                &mut self.deadlines,
                (d, i),
                w.now,
                bound,
            );
            if let Some((since, bound)) = due {
                let dir = &w.directors[d];
                let detail = format!(
                    "{} could be Master since t={:.6}s (its links and trackers are up and it hears no Master) but is {:?} past its {:.6}s bound",
                    dir.info[i].name,
                    since.as_nanos() as f64 / 1e9,
                    dir.states[i],
                    bound.as_secs_f64()
                );
                let hosts = vec![dir.name.clone()];
                self.report(w.now, "master_elected", hosts, detail, recent);
            }
        }
    }

    /// Real servers in the pool, and the sorry server, as the servers'
    /// behaviour says they should be once the checker's bound has passed.
    fn real_servers(&mut self, w: &World, recent: &VecDeque<Record>) {
        let mut seen = BTreeSet::new();
        let mut found = Vec::new();
        for (d, dir) in w
            .directors
            .iter()
            .enumerate()
            .filter(|(_, d)| d.node.is_some())
        {
            for (v, vs) in dir.config.virtual_servers.iter().enumerate() {
                let keys = pool::service_keys(&dir.config, vs);
                let mut settled = true;
                let mut live = 0u64;
                let mut expect = Vec::new();
                for (r, rs) in vs.real_servers.iter().enumerate() {
                    let (up, bound) = expected(w, d, rs);
                    seen.insert((d, v, r));
                    let e = self.rs.entry((d, v, r)).or_insert(Expect {
                        up,
                        since: w.now.max(dir.since),
                        bound,
                        reported: false,
                    });
                    if e.up != up || e.since < dir.since {
                        *e = Expect {
                            up,
                            since: w.now.max(dir.since),
                            bound,
                            reported: false,
                        };
                    }
                    if e.reported && e.since + e.bound > w.now {
                        e.reported = false;
                    }
                    if w.now < e.since + e.bound {
                        settled = false;
                        self.deadlines.push(e.since + e.bound);
                        continue;
                    }
                    if up {
                        live += u64::from(rs.weight);
                    }
                    expect.push((r, rs, up));
                }
                // The quorum is known only once every server has settled:
                // lost whatever it was before, or held whatever it was
                // (in between, the hysteresis band, history decides).
                let (lost, kept) = if settled {
                    (!pool::quorum(vs, live, true), pool::quorum(vs, live, false))
                } else {
                    (false, false)
                };
                let has_sorry = vs.sorry_server.is_some();
                // Active: present with its weight (a configured weight of 0
                // is active at 0; inhibit_on_failure's 0 is not).
                let dest_active = |address, port: Option<u16>, configured: u32| {
                    let key = DestKey {
                        address,
                        port: port.unwrap_or(0),
                    };
                    !keys.is_empty()
                        && keys.iter().all(|k| {
                            dir.table
                                .services
                                .get(k)
                                .and_then(|s| s.dests.get(&key))
                                .is_some_and(|p| p.weight > 0 || configured == 0)
                        })
                };
                for (r, rs, up) in expect {
                    if has_sorry && !lost && !kept {
                        continue; // the quorum decides, and it is not known
                    }
                    let want = up && !(lost && has_sorry);
                    let have = dest_active(rs.address, rs.port, rs.weight);
                    if want != have {
                        let e = self.rs.get_mut(&(d, v, r)).expect("entry inserted above");
                        if !e.reported {
                            e.reported = true;
                            let what = if want { "is not in" } else { "is still in" };
                            found.push((
                                "real_server_pool",
                                dir.name.clone(),
                                format!(
                                    "real server {}:{} of virtual server #{v} {what} the pool {:.3}s after it {} (bound {:.3}s)",
                                    rs.address,
                                    rs.port.unwrap_or(0),
                                    (w.now - e.since).as_secs_f64(),
                                    if up { "recovered" } else { "failed" },
                                    e.bound.as_secs_f64()
                                ),
                            ));
                        }
                    }
                }
                if let (Some(s), true) = (&vs.sorry_server, settled && (lost || kept)) {
                    let duplicate = vs
                        .real_servers
                        .iter()
                        .any(|r| r.address == s.address && r.port == s.port);
                    let have = dest_active(s.address, s.port, 1);
                    if !duplicate && have != lost {
                        if self.sorry.insert((d, v)) {
                            found.push((
                                "sorry_server",
                                dir.name.clone(),
                                format!(
                                    "sorry server {}:{} of virtual server #{v} is {} though the quorum is {}",
                                    s.address,
                                    s.port.unwrap_or(0),
                                    if have { "active" } else { "not active" },
                                    if lost { "lost" } else { "held" }
                                ),
                            ));
                        }
                    } else {
                        self.sorry.remove(&(d, v));
                    }
                }
            }
        }
        self.rs.retain(|k, _| seen.contains(k));
        for (inv, host, detail) in found {
            self.report(w.now, inv, vec![host], detail, recent);
        }
    }
}

/// Whether real server `rs` should pass all its checkers as director `d`
/// sees it now, and the bound for the checkers to agree.
fn expected(
    w: &World,
    d: usize,
    rs: &holdfast_core::config::model::RealServer,
) -> (bool, Duration) {
    let mut up = true;
    let mut bound = Duration::ZERO;
    for ch in &rs.checkers {
        let address = ch.connect.ip.unwrap_or(rs.address);
        let port = ch.connect.port.or(rs.port).unwrap_or(0);
        let Some(server) = w.servers.get(&address) else {
            continue;
        };
        let rtt = w.rtt(server.host);
        let ok = w.server_reachable(d, server.host)
            && behaviour::passes(server.on(port), ch, rtt, bounds::probe_budget(ch));
        up &= ok;
        bound = bound.max(bounds::detect_down(ch).max(bounds::detect_up(ch)));
    }
    (up, bound)
}

/// Whether instance `a` wins the election over `b` on `key`'s segment:
/// higher effective priority, then the higher primary address (RFC 5798
/// §6.4.3).
fn wins(w: &World, key: &(usize, Family, u8), a: (usize, usize), b: (usize, usize)) -> bool {
    let prio = |(d, i): (usize, usize)| {
        let dir = &w.directors[d];
        dir.node
            .as_ref()
            .and_then(|n| n.priority(&dir.info[i].name))
            .unwrap_or(0)
    };
    let addr = |(d, _): (usize, usize)| {
        let e = w.topo.on_segment(w.directors[d].host, key.0)?;
        let att = &w.topo.graph[e];
        match key.1 {
            Family::Ipv4 => att.ipv4,
            Family::Ipv6 => att.ipv6,
        }
    };
    (prio(a), addr(a)) > (prio(b), addr(b))
}

/// Whether instance `j` of `dir` should be out of FAULT by its trackers as
/// the simulation set them: `None` when a link or script it tracks with
/// weight 0 (or its own interface) is down, else the extra time its
/// scripts may take to notice a change (rise or fall runs).
fn expected_fault(dir: &crate::world::Director, j: usize) -> Option<Duration> {
    let cfg = &dir.config;
    let inst = cfg.instances.get(j)?;
    let group = cfg
        .sync_groups
        .iter()
        .find(|g| g.members.contains(&inst.name));
    // keepalived: trackers of sync-group members count as unweighted
    // unless the group says sync_group_tracking_weight.
    let weighted = group.is_none_or(|g| g.sync_group_tracking_weight);
    let link = |name: &str| {
        dir.interfaces
            .iter()
            .find(|i| i.name == name)
            .is_some_and(|i| i.up)
    };
    if !inst.dont_track_primary && inst.interface.as_deref().is_some_and(|i| !link(i)) {
        return None;
    }
    let tracked = inst
        .track_interfaces
        .iter()
        .chain(group.into_iter().flat_map(|g| g.track_interfaces.iter()));
    for t in tracked {
        let weight = if weighted { t.weight } else { 0 };
        if weight == 0 && link(&t.name) == t.reverse {
            return None;
        }
    }
    let mut slack = Duration::ZERO;
    let scripts = inst
        .track_scripts
        .iter()
        .chain(group.into_iter().flat_map(|g| g.track_scripts.iter()));
    for t in scripts {
        let Some(s) = cfg.vrrp_scripts.iter().find(|s| s.name == t.name) else {
            continue;
        };
        let weight = if weighted { t.weight } else { 0 };
        let ok = dir.scripts.get(&t.name).copied().unwrap_or(true);
        if weight == 0 && ok == t.reverse {
            return None;
        }
        slack = slack.max(s.interval * (s.rise.max(s.fall) + 1) + s.timeout);
    }
    Some(slack)
}
