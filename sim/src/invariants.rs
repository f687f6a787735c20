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

/// How long after the original a duplicated frame arrives.
pub const DUPLICATE_GAP: Duration = Duration::from_micros(10);

/// How many trace records a violation quotes.
const CONTEXT: usize = 12;

/// Watches the world.
#[derive(Debug, Default)]
pub struct Monitor {
    handover: Option<Duration>,
    dual: BTreeMap<(usize, Family, u8), Episode>,
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
        for (k, e) in std::mem::take(&mut self.dual) {
            incidents.dual_master(&format!("{k:?}"), e.since, now);
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

    /// Every pair of connected Masters of one (segment, family, VRID).
    fn dual_masters(&mut self, w: &World, incidents: &mut Incidents, recent: &VecDeque<Record>) {
        let mut masters: BTreeMap<(usize, Family, u8), Vec<(usize, Duration)>> = BTreeMap::new();
        for (d, dir) in w.directors.iter().enumerate().filter(|(_, d)| d.active()) {
            for (i, info) in dir.info.iter().enumerate() {
                if let (State::Master, Some(seg)) = (dir.states[i], info.segment) {
                    masters
                        .entry((seg, info.family, info.vrid))
                        .or_default()
                        .push((d, info.master_down));
                }
            }
        }
        let mut now_dual = BTreeMap::new();
        for (key, ms) in &masters {
            let mut pair = None;
            for (a, &(da, mda)) in ms.iter().enumerate() {
                for &(db, mdb) in &ms[a + 1..] {
                    let (ha, hb) = (w.directors[da].host, w.directors[db].host);
                    if w.topo.connected(key.0, ha, hb) {
                        pair = Some((da, db, mda.max(mdb)));
                    }
                }
            }
            if let Some(p) = pair {
                now_dual.insert(*key, p);
            }
        }
        // Windows that closed.
        let closed: Vec<_> = self
            .dual
            .keys()
            .filter(|k| !now_dual.contains_key(k))
            .copied()
            .collect();
        for k in closed {
            if let Some(e) = self.dual.remove(&k) {
                incidents.dual_master(&format!("{k:?}"), e.since, w.now);
            }
        }
        for (key, (da, db, md)) in now_dual {
            let bound = self.handover.unwrap_or(md);
            let e = self.dual.entry(key).or_insert_with(|| {
                self.deadlines.push(w.now + bound);
                Episode {
                    since: w.now,
                    bound,
                    reported: false,
                }
            });
            if !e.reported && w.now - e.since > e.bound {
                e.reported = true;
                let (since, bound) = (e.since, e.bound);
                let names = vec![w.directors[da].name.clone(), w.directors[db].name.clone()];
                let detail = format!(
                    "two connected Masters of VRID {} on {} since t={:.6}s, past the {:.3}s hand-over window",
                    key.2,
                    w.topo.segments[key.0].name,
                    since.as_nanos() as f64 / 1e9,
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

    /// An eligible Backup (it and its sync-group mates hear no Master)
    /// must become Master within its master-down interval.
    fn no_master(&mut self, w: &World, recent: &VecDeque<Record>) {
        let mut waiting = BTreeMap::new();
        for (d, dir) in w.directors.iter().enumerate().filter(|(_, d)| d.active()) {
            for (i, info) in dir.info.iter().enumerate() {
                if dir.states[i] != State::Backup {
                    continue;
                }
                let mates: Vec<usize> = match info.group {
                    Some(g) => (0..dir.info.len())
                        .filter(|&j| dir.info[j].group == Some(g))
                        .collect(),
                    None => vec![i],
                };
                let eligible = mates.iter().all(|&j| {
                    let m = &dir.info[j];
                    let Some(seg) = m.segment else { return true };
                    let link = w
                        .topo
                        .on_segment(dir.host, seg)
                        .is_some_and(|e| w.topo.up(e));
                    link && !Self::hears_master(w, d, seg, m.family, m.vrid)
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
                        .unwrap_or(info.master_down);
                    waiting.insert((d, i), bound);
                }
            }
        }
        self.no_master.retain(|k, _| waiting.contains_key(k));
        for ((d, i), bound) in waiting {
            let e = self.no_master.entry((d, i)).or_insert_with(|| {
                self.deadlines.push(w.now + bound);
                Episode {
                    since: w.now,
                    bound,
                    reported: false,
                }
            });
            if !e.reported && w.now - e.since > e.bound {
                e.reported = true;
                let dir = &w.directors[d];
                let detail = format!(
                    "{} has heard no Master since t={:.6}s and is still Backup past its {:.6}s master-down interval",
                    dir.info[i].name,
                    e.since.as_nanos() as f64 / 1e9,
                    e.bound.as_secs_f64()
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
                    expect.push((r, up));
                }
                let q = u64::from(vs.quorum);
                let h = u64::from(vs.hysteresis);
                let lost = live < q.saturating_sub(h);
                let kept = live >= q + h;
                let has_sorry = vs.sorry_server.is_some();
                let dest_active = |address, port: Option<u16>| {
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
                                .is_some_and(|p| p.weight > 0)
                        })
                };
                for (r, up) in expect {
                    if has_sorry && !lost && !kept {
                        continue; // inside the hysteresis band: history decides
                    }
                    let rs = &vs.real_servers[r];
                    let want = up && !(lost && has_sorry);
                    let have = dest_active(rs.address, rs.port);
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
                    let have = dest_active(s.address, s.port);
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
        let exchange = rtt * 2;
        bound = bound.max(bounds::detect_down(ch, exchange).max(bounds::detect_up(ch, exchange)));
    }
    (up, bound)
}
