//! The oracle: an independent model of what each director may do, judged
//! at every transition, not only by the end state. It is a spec written
//! from RFC 3768 / 5798 as keepalived applies them, not a copy of core:
//! it reads the adverts each director received (its own parse,
//! `advert.rs`), keeps each instance's master-down deadline by the RFC's
//! rules (`spec.rs`), and checks every state change core makes against it
//! (`election.rs`).
//!
//! It judges only what it can decide exactly: the elections of an
//! address owner (priority 255) after its start are left to the other
//! invariants (its start is judged), and so is an instance between a
//! reload and its next transition.

mod advert;
mod checker;
mod counters;
mod election;
mod garp;
mod lvs_notify;
mod notify;
mod pool;
mod release;
mod scripts;
mod sent;
mod sources;
mod spec;
mod trackers;
pub mod verdict;
pub(crate) mod wire;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use holdfast_core::config::model::Config;
use holdfast_core::node::Interface;
use holdfast_core::time::Instant;
use holdfast_core::vrrp::instance::State;

use crate::invariants::Invariant;
pub use spec::Facts;

/// A rule that did not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The rule.
    pub rule: Invariant,
    /// The director (index).
    pub director: usize,
    /// What happened and what the rule wanted.
    pub detail: String,
}

/// One instance as the oracle follows it.
#[derive(Debug, Clone)]
struct Track {
    state: State,
    /// Backup: when its master-down interval runs out.
    deadline: Option<Instant>,
    /// Backup in a sync group: since when it has wanted Master (its
    /// interval ran out; keepalived's `wantstate`). Only an advert that
    /// restarts the interval ends it: a priority-0 one does not.
    wants_since: Option<Instant>,
    /// What set the deadline last (for the report).
    cause: String,
    /// The master's advertisement interval it counts with (v3 adopts it).
    interval: Duration,
    /// Master: when it heard an advert it must yield to, and that
    /// advert's interval.
    yield_at: Option<(Instant, Option<Duration>)>,
    /// Whether its facts decide everything (see the module's docs).
    judged: bool,
    /// Its effective priority (its weighted trackers').
    priority: u8,
    /// Master: when its next advert is due, and why then.
    next_advert: Option<Instant>,
    advert_cause: String,
    /// When it last sent an advert.
    last_sent: Option<Instant>,
    /// Adverts sent while not Master, judged once their instant is over.
    sends: Vec<Instant>,
    /// When it last became Master.
    master_since: Option<Instant>,
    /// keepalived's counters, as the oracle counts them.
    counts: counters::Counts,
    /// After a reload: the next advert may come any time until it is due
    /// (core advertises at once when the instance's settings changed,
    /// else keeps its timer).
    loose: bool,
    /// Its announcements.
    garp: garp::Garp,
    /// Backup with `preempt_delay`: until when a lower priority is still
    /// obeyed (keepalived's `preempt_time`, started by the first lower
    /// priority heard, cleared by entering Backup and by a priority at
    /// or above its own).
    preempt_time: Option<Instant>,
    /// Master when its director took SIGTERM, and no priority-0 advert
    /// sent since (`release.rs`).
    must_release: bool,
}

impl Track {
    fn new(f: &Facts, state: State, judged: bool) -> Track {
        Track {
            state,
            deadline: None,
            wants_since: None,
            cause: String::new(),
            interval: f.advert_int,
            yield_at: None,
            judged,
            priority: f.priority,
            next_advert: None,
            advert_cause: String::new(),
            last_sent: None,
            sends: Vec::new(),
            master_since: None,
            counts: counters::Counts::default(),
            loose: false,
            garp: garp::Garp::default(),
            preempt_time: None,
            must_release: false,
        }
    }
}

/// A time as the findings print it.
fn secs(t: Instant) -> String {
    format!("{:.6}s", t.as_nanos() as f64 / 1e9)
}

/// One director as the oracle follows it.
#[derive(Debug, Clone, Default)]
struct Dir {
    facts: Vec<Facts>,
    tracks: Vec<Track>,
    running: bool,
    paused: bool,
    /// It took a reload (its counters are no longer compared).
    reloaded: bool,
    /// Its trackers: links as core was told of them, and scripts as
    /// their results counted.
    links: trackers::Links,
    /// Its `vrrp_script`s.
    scripts: scripts::Scripts,
    /// Its interfaces' addresses, for the instances' sources.
    sources: sources::Sources,
    /// Its notify scripts, and the runs owed.
    notifies: notify::Notifies,
    /// Its checkers and probes.
    checkers: checker::Checkers,
    /// When each sync group last went Master, or yielded, together.
    group_master_at: BTreeMap<usize, Instant>,
    group_yield_at: BTreeMap<usize, Instant>,
    /// Packets the director as a whole dropped, as core counts them: once
    /// for one no instance reads (shorter than a header, not the length
    /// its header says, an unknown version, no instance for it), else
    /// once for each instance it was meant for that dropped it.
    node_rejected: u64,
}

/// The oracle of a simulation.
#[derive(Debug, Default)]
pub struct Oracle {
    dirs: Vec<Dir>,
    /// Deadlines at which `check` must run (a takeover that must have
    /// happened by then).
    deadlines: Vec<Instant>,
    /// (director, instance, deadline) already reported.
    reported: BTreeSet<(usize, usize, Instant)>,
    /// (director, instance, link change) whose Fault was reported.
    fault_reported: BTreeSet<(usize, usize, Instant)>,
    /// (director, virtual server) whose pool differs, reported.
    pool_reported: BTreeSet<(usize, usize)>,
}

impl Oracle {
    /// An oracle for `directors` directors.
    pub fn new(directors: usize) -> Oracle {
        Oracle {
            dirs: vec![Dir::default(); directors],
            ..Oracle::default()
        }
    }

    /// Director `d` starts now with `config` on `interfaces`.
    pub fn booted(&mut self, now: Instant, d: usize, config: &Config, interfaces: &[Interface]) {
        let facts = Facts::of(config, interfaces);
        let names: Vec<String> = facts.iter().map(|f| f.name.clone()).collect();
        let tracks = facts
            .iter()
            .map(|f| Track::new(f, State::Initialize, f.judged))
            .collect();
        self.dirs[d] = Dir {
            facts,
            tracks,
            running: true,
            checkers: checker::Checkers::new(now, config),
            links: interfaces
                .iter()
                .map(|i| (i.name.clone(), (i.up, now)))
                .collect(),
            scripts: scripts::Scripts::new(config, None),
            sources: sources::Sources::new(interfaces),
            notifies: notify::Notifies::new(config, &names),
            ..Dir::default()
        };
        let started: Vec<(String, bool)> = self.dirs[d].scripts.states().collect();
        self.dirs[d]
            .links
            .extend(started.into_iter().map(|(n, up)| (n, (up, now))));
        self.owe_start_scripts(now, d);
        self.reprioritise(now, d);
    }

    /// Director `d`'s process is gone.
    pub fn ended(&mut self, d: usize) {
        self.dirs[d] = Dir::default();
    }

    /// Director `d` took a new configuration now: its instances keep their
    /// states, and their elections are judged again from their next
    /// transition (core keeps a running timer across a reload); a Master
    /// advertises at once with its new settings.
    pub fn reloaded(&mut self, now: Instant, d: usize, config: &Config, interfaces: &[Interface]) {
        let facts = Facts::of(config, interfaces);
        let dir = &mut self.dirs[d];
        // Scripts whose definition changed start again without a result.
        dir.scripts = scripts::Scripts::new(config, Some(&dir.scripts));
        let kept: BTreeMap<String, bool> = dir.scripts.states().collect();
        dir.links
            .retain(|name, (up, _)| !spec::is_script_tracker(name) || kept.get(name) == Some(up));
        for (name, up) in kept {
            dir.links.entry(name).or_insert((up, now));
        }
        let tracks = facts
            .iter()
            .map(|f| {
                let old = dir
                    .facts
                    .iter()
                    .position(|o| o.name == f.name)
                    .map(|i| dir.tracks[i].clone());
                let state = old.map_or(State::Initialize, |t| t.state);
                let mut t = Track::new(f, state, false);
                if state == State::Master {
                    let cause = format!("a reload at {}", secs(now));
                    t.due_advert(now + f.advert_int, cause);
                    t.loose = true;
                    self.deadlines.push(now + f.advert_int);
                }
                t
            })
            .collect();
        // Notifies are not judged from a reload on.
        dir.notifies = notify::Notifies::default();
        dir.facts = facts;
        // The sources as they are now, not as the driver listed them.
        dir.follow_sources();
        dir.tracks = tracks;
        dir.reloaded = true;
        self.checkers_reloaded(d);
        self.reprioritise(now, d);
    }

    /// Director `d` stops being scheduled.
    pub fn paused(&mut self, d: usize) {
        self.dirs[d].paused = true;
    }

    /// Director `d` runs again at `now`, before the inputs that waited are
    /// given (at `now` too): a deadline that passed meanwhile runs out now,
    /// unless one of those inputs restarts it.
    pub fn resumed(&mut self, d: usize, now: Instant) {
        let dir = &mut self.dirs[d];
        dir.paused = false;
        for t in &mut dir.tracks {
            if t.deadline.is_some_and(|x| x < now) {
                t.deadline = Some(now);
                t.cause.push_str(", run out during a pause");
            }
            if let Some((at, _)) = &mut t.yield_at {
                *at = (*at).max(now);
            }
            if let Some(at) = &mut t.next_advert {
                *at = (*at).max(now);
            }
        }
        dir.checkers.resumed(now);
        self.garp_resumed(d, now);
        self.deadlines.push(now);
    }

    /// Deadlines at which [`Oracle::check`] must run again.
    pub fn take_deadlines(&mut self) -> Vec<Instant> {
        std::mem::take(&mut self.deadlines)
    }
}
