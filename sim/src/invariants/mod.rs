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
//! that led to it. One family per file: `strict.rs`, `single_master.rs`,
//! `master_elected.rs`, `pool.rs`; their ids are [`Invariant`].

mod master_elected;
mod pool;
mod single_master;
mod strict;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;
use std::time::Duration;

use holdfast_core::config::model::Family;
use holdfast_core::time::Instant;
use holdfast_core::trace::Record;
use serde::{Deserialize, Serialize};

use crate::incidents::Incidents;
use crate::world::World;

/// The invariants, by the id traces and reports name them with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Invariant {
    /// A director holds exactly its Masters' addresses (`strict.rs`).
    VipsFollowMasters,
    /// A sync group's members share one state (`strict.rs`).
    SyncGroupAgrees,
    /// The kernel table accepts every operation the diff makes (the
    /// engine's `apply_table`).
    DataPlaneAccepts,
    /// No two connected Masters of one VRID past the hand-over window
    /// (`single_master.rs`).
    SingleMaster,
    /// A director that could be Master is, within its master-down
    /// interval (`master_elected.rs`).
    MasterElected,
    /// A real server is in the pool as its behaviour says, once the
    /// checker's bound has passed (`pool.rs`).
    RealServerPool,
    /// The sorry server is active exactly while the quorum is lost
    /// (`pool.rs`).
    SorryServer,
    /// Every output core gives is carried out by the simulated kernel (the
    /// engine's `carry_out`): one core may grow an output before the
    /// simulator models it.
    OutputCarriedOut,
    /// The oracle: a Backup became Master before its master-down interval
    /// (or its sync group's) ran out (`oracle/election.rs`).
    TakeoverEarly,
    /// The oracle: a Backup's master-down interval (or its sync group's)
    /// ran out and it is not Master (`oracle/election.rs`).
    TakeoverMissing,
    /// The oracle: a Master yields at once to an advert that wins, and
    /// only to one (`oracle/election.rs`).
    MasterYields,
    /// The oracle: only a Master sends adverts, each laid out from its
    /// configuration byte by byte, checksum included
    /// (`oracle/sent.rs`, `oracle/wire.rs`).
    AdvertFormat,
    /// The oracle: a Master advertises on becoming Master, every
    /// advertisement interval after, and at once when it answers
    /// (`oracle/sent.rs`).
    AdvertInterval,
    /// The oracle: a real server goes down at the failure that uses up
    /// its checker's retries and up at the pass that brings every checker
    /// back, exactly then (`oracle/checker.rs`).
    RealServerExact,
    /// The oracle: each probe starts when its checker's schedule says,
    /// on the url due (`oracle/checker.rs`).
    ProbeSchedule,
    /// The oracle: keepalived's per-instance counters (adverts received
    /// and sent, priority 0 among them, times it became and left Master)
    /// are what the director received, sent and did, and its status shows
    /// each checker's last result as counted (`oracle/counters.rs`).
    CountersAgree,
    /// The oracle: an instance is in Fault exactly while a link that
    /// faults it (or a member of its sync group) is down
    /// (`oracle/fault.rs`).
    FaultExact,
    /// The oracle: each virtual server's service holds exactly the
    /// destinations, at their weights, that its real servers' lives, its
    /// quorum and its sorry server make (`oracle/pool.rs`).
    PoolExact,
    /// The oracle: a Master announces its addresses (gratuitous ARP /
    /// unsolicited NA) exactly as keepalived schedules the bursts: on
    /// becoming Master and `vrrp_garp_master_delay` later, at the first
    /// periodic advert after each `vrrp_garp_master_refresh`, and on
    /// hearing a lower priority (it or a member of its sync group), at
    /// once and `vrrp_garp_lower_prio_delay` later; each burst
    /// `count` messages per address, on each address's interface
    /// (`oracle/garp.rs`).
    GarpSchedule,
    /// The oracle: a Master that stops gracefully (SIGTERM) sends a
    /// priority-0 advert first (`oracle/release.rs`).
    MasterReleases,
    /// The oracle: each change of state runs keepalived's notify scripts,
    /// each real server's and pool's change its own, and no others run
    /// (`oracle/notify.rs`, `oracle/lvs_notify.rs`).
    NotifyScripts,
    /// A run used more events than its budget: something loops (two
    /// directors answering each other without end) instead of settling.
    EventBudget,
}

impl Invariant {
    /// Its id in traces and reports.
    pub fn id(self) -> &'static str {
        match self {
            Invariant::VipsFollowMasters => "vips_follow_masters",
            Invariant::SyncGroupAgrees => "sync_group_agrees",
            Invariant::DataPlaneAccepts => "data_plane_accepts",
            Invariant::SingleMaster => "single_master",
            Invariant::MasterElected => "master_elected",
            Invariant::RealServerPool => "real_server_pool",
            Invariant::SorryServer => "sorry_server",
            Invariant::OutputCarriedOut => "output_carried_out",
            Invariant::TakeoverEarly => "takeover_early",
            Invariant::TakeoverMissing => "takeover_missing",
            Invariant::MasterYields => "master_yields",
            Invariant::AdvertFormat => "advert_format",
            Invariant::AdvertInterval => "advert_interval",
            Invariant::RealServerExact => "real_server_exact",
            Invariant::ProbeSchedule => "probe_schedule",
            Invariant::CountersAgree => "counters_agree",
            Invariant::FaultExact => "fault_exact",
            Invariant::PoolExact => "pool_exact",
            Invariant::GarpSchedule => "garp_schedule",
            Invariant::MasterReleases => "master_releases",
            Invariant::NotifyScripts => "notify_scripts",
            Invariant::EventBudget => "event_budget",
        }
    }
}

impl fmt::Display for Invariant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

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
pub(super) struct Episode {
    since: Instant,
    bound: Duration,
    reported: bool,
}

/// What a real server should be, seen from one director.
#[derive(Debug, Clone, Copy)]
pub(super) struct Expect {
    up: bool,
    since: Instant,
    bound: Duration,
    reported: bool,
}

/// Opens the episode for `key` (its deadline scheduled) if it is new, and
/// returns (since, bound) the first time it has lasted past its bound.
pub(super) fn overdue<K: Ord>(
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
        invariant: Invariant,
        hosts: Vec<String>,
        detail: String,
        recent: &VecDeque<Record>,
    ) -> Violation {
        let v = Violation {
            t_ns: now.as_nanos(),
            invariant: invariant.id().to_string(),
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
}
