//! Real servers in and out, probe by probe (keepalived's `check_api.c`,
//! `check_tcp.c`, `check_http.c`, `check_misc.c`; docs/keepalived.md,
//! "Checkers"):
//!
//! - the first probe comes 1 s (keepalived's BOOTSTRAP_DELAY) plus up to
//!   `warmup` after the start; a checker starts passing (failed with
//!   `alpha`, and then checking every url from the first), with its
//!   retries used up, so one failure takes it down;
//! - while up: a pass gives it its `retry` retries back, moves HTTP to the
//!   next url, and the next probe comes `delay_loop` later; a failure with
//!   retries left is retried after `delay_before_retry`; the `retry + 1`-th
//!   failure in a row takes it down;
//! - while down: the failing url alone, every `delay_loop` (for HTTP the
//!   larger of `delay_loop` and `delay_before_retry`); one pass brings it
//!   up, except that HTTP with several urls first checks every url again
//!   from the first, `delay_loop` apart (at once with `fast_recovery`),
//!   and is up when the last passes; a failure meanwhile starts over;
//! - a real server is alive exactly while every checker of it is up, and
//!   core says so (`RealServerChanged`) at the probe result that changes
//!   it (`real_server_exact`); each probe starts when it is due and on
//!   the url due (`probe_schedule`).
//!
//! What each probe should say comes from `verdict.rs`, not from what the
//! simulator told core. A director's checkers are judged from its start
//! until a reload (which carries checker states over in ways this model
//! does not follow); an `ha_suspend` server is not judged. A `misc_dynamic`
//! script's statuses 2 to 255 pass (the weights they set are left to
//! `real_server_pool`).

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

use holdfast_core::check::schedule::ProbeId;
use holdfast_core::config::model::{Checker, CheckerKind, Config, RealServer};
use holdfast_core::time::Instant;

use crate::invariants::Invariant;

use super::pool::Quorum;
use super::{secs, Finding, Oracle};

/// A real server: its virtual server's place, address and port.
pub(super) type RsKey = (usize, IpAddr, Option<u16>);

/// keepalived's BOOTSTRAP_DELAY: the first probe comes this long after
/// the start, plus a random part of `warmup`.
const BOOTSTRAP: Duration = Duration::from_secs(1);

/// One checker as the oracle follows it.
#[derive(Debug, Clone)]
struct Model {
    rs: RsKey,
    up: bool,
    /// Failures it may still take while up before it goes down.
    retries: u32,
    retry: u32,
    /// The url the next probe is for, and how many there are.
    url: usize,
    urls: usize,
    /// Down, and checking every url again after the failing one passed.
    recovering: bool,
    http: bool,
    fast_recovery: bool,
    delay_loop: Duration,
    delay_before_retry: Duration,
    /// When the next probe may start: from, until (inclusive); `None`
    /// while one is under way.
    next: Option<(Instant, Instant)>,
    /// What its last failure's reason must mention.
    why: String,
    /// Its place among its real server's checkers.
    index: usize,
    /// Whether the last probe it counted passed.
    last: Option<bool>,
    /// A `misc_dynamic` script: exit statuses 2 to 255 pass.
    dynamic: bool,
}

impl Model {
    /// The wait after a failure that leaves it down.
    fn down_wait(&self) -> Duration {
        if self.http {
            self.delay_loop.max(self.delay_before_retry)
        } else {
            self.delay_loop
        }
    }

    /// The wait between the urls of a recovery.
    fn rescan_wait(&self) -> Duration {
        if self.fast_recovery {
            Duration::ZERO
        } else {
            self.delay_loop
        }
    }
}

/// A probe under way: when it gives up, and what it should say (a
/// failure: what the reason must mention, "" for anything).
#[derive(Debug, Clone)]
pub(super) struct Probe {
    checker: u64,
    url: usize,
    gives_up: Instant,
    pass: bool,
    why: String,
}

/// The checkers of one director.
#[derive(Debug, Clone, Default)]
pub(super) struct Checkers {
    /// Judged at all (false after a reload).
    judged: bool,
    /// Real servers whose every checker the model can follow.
    followed: BTreeMap<RsKey, bool>,
    /// What the pool oracle knows of each virtual server's quorum.
    quorums: BTreeMap<usize, Quorum>,
    /// When the director started, and last ran again after a pause.
    booted: Instant,
    resumed: Instant,
    pub(super) config: Option<Config>,
    models: BTreeMap<u64, Model>,
    probes: BTreeMap<u64, Probe>,
    /// Real servers whose change is due now: (server, alive, when, why).
    due: Vec<(RsKey, bool, Instant, String)>,
}

impl Checkers {
    /// The checkers of a director that starts with `config` at `now`.
    pub(super) fn new(now: Instant, config: &Config) -> Checkers {
        let mut c = Checkers {
            judged: true,
            booted: now,
            resumed: now,
            config: Some(config.clone()),
            ..Checkers::default()
        };
        for (v, vs) in config.virtual_servers.iter().enumerate() {
            for rs in &vs.real_servers {
                let key = (v, rs.address, rs.port);
                let all = rs.checkers.iter().all(|ch| {
                    let at = ch.connect.ip.unwrap_or(rs.address);
                    let on = ch.connect.port.or(rs.port).unwrap_or(0);
                    c.owner(ch, at, on).map(|(k, _, judged)| (k, judged)) == Some((key, true))
                });
                c.followed.insert(key, all);
            }
            // keepalived's set_quorum_states: at the start, held when the
            // servers alive then (those without `alpha`) weigh at least
            // quorum + hysteresis.
            let live: u64 = vs
                .real_servers
                .iter()
                .filter(|rs| rs.checkers.iter().all(|ch| !ch.alpha))
                .map(|rs| u64::from(rs.weight))
                .sum();
            let held = live >= u64::from(vs.quorum) + u64::from(vs.hysteresis);
            c.quorums
                .insert(v, if held { Quorum::Held } else { Quorum::Lost });
        }
        c
    }

    /// Whether the last probe of each followed checker passed, by its real
    /// server and its place among that server's checkers; a checker with a
    /// probe under way is left out (core may have given it up already).
    /// (With whether it is a `misc_dynamic` one.)
    pub(super) fn last_results(&self) -> BTreeMap<(RsKey, usize), (bool, bool)> {
        self.models
            .iter()
            .filter(|(n, _)| !self.probes.values().any(|p| p.checker == **n))
            .filter_map(|(_, m)| Some(((m.rs, m.index), (m.last?, m.dynamic))))
            .collect()
    }

    /// Whether real server `rs` (`key`) is alive as the model has it;
    /// `None` when the model does not follow all its checkers.
    pub(super) fn alive_of(&self, key: RsKey, rs: &RealServer) -> Option<bool> {
        if !self.judged || self.followed.get(&key) != Some(&true) {
            return None;
        }
        let models: Vec<&Model> = self.models.values().filter(|m| m.rs == key).collect();
        // A checker that has not probed yet is as it started: up, unless
        // `alpha` (which one that is, the model cannot tell).
        if models.len() < rs.checkers.len() && rs.checkers.iter().any(|c| c.alpha) {
            return None;
        }
        Some(models.iter().all(|m| m.up))
    }

    /// What is known of virtual server `v`'s quorum.
    pub(super) fn quorum(&self, v: usize) -> Quorum {
        self.quorums.get(&v).copied().unwrap_or(Quorum::Unknown)
    }

    /// Virtual server `v`'s quorum is now `q`.
    pub(super) fn set_quorum(&mut self, v: usize, q: Quorum) {
        self.quorums.insert(v, q);
    }

    /// The real server `checker` (probing `address`:`port`) belongs to,
    /// when exactly one real server of the configuration has it.
    fn owner(&self, checker: &Checker, address: IpAddr, port: u16) -> Option<(RsKey, usize, bool)> {
        let config = self.config.as_ref()?;
        let mut found = None;
        for (v, vs) in config.virtual_servers.iter().enumerate() {
            for rs in &vs.real_servers {
                for (index, ch) in rs.checkers.iter().enumerate() {
                    let at = ch.connect.ip.unwrap_or(rs.address);
                    let on = ch.connect.port.or(rs.port).unwrap_or(0);
                    if ch == checker && at == address && on == port {
                        if found.is_some() {
                            return None; // two servers with the same checker
                        }
                        let judged = !vs.ha_suspend;
                        found = Some(((v, rs.address, rs.port), index, judged));
                    }
                }
            }
        }
        found
    }

    /// The director runs again at `now`: probes that fell due while it
    /// was paused start now.
    pub(super) fn resumed(&mut self, now: Instant) {
        self.resumed = now;
        for m in self.models.values_mut() {
            if let Some((lo, hi)) = &mut m.next {
                *lo = (*lo).max(now);
                *hi = (*hi).max(now);
            }
        }
    }

    fn alive(&self, rs: RsKey) -> bool {
        self.models.values().filter(|m| m.rs == rs).all(|m| m.up)
    }
}

impl Oracle {
    /// Director `d` starts a probe now; `said` is whether it should pass,
    /// or what its failure's reason must mention (`verdict.rs`); `timeout`
    /// is when core gives it up. A probe out of its schedule is a finding.
    #[allow(clippy::too_many_arguments)]
    pub fn probe_started(
        &mut self,
        now: Instant,
        d: usize,
        id: ProbeId,
        checker: &Checker,
        address: IpAddr,
        port: u16,
        url: usize,
        timeout: Duration,
        said: Result<(), String>,
    ) -> Option<Finding> {
        let c = &mut self.dirs[d].checkers;
        if !c.judged {
            return None;
        }
        let number = id.0 >> 32;
        if !c.models.contains_key(&number) {
            let (rs, index, true) = c.owner(checker, address, port)? else {
                return None;
            };
            let (urls, http, fast_recovery) = match &checker.kind {
                CheckerKind::HttpGet(h) | CheckerKind::SslGet(h) => {
                    (h.urls.len().max(1), true, h.fast_recovery)
                }
                _ => (1, false, false),
            };
            // A pause over the first probe's time delays it to the end.
            let first = c.booted + BOOTSTRAP;
            let last = (first + checker.warmup).max(c.resumed);
            c.models.insert(
                number,
                Model {
                    rs,
                    up: !checker.alpha,
                    retries: 0,
                    retry: checker.retry,
                    url: 0,
                    urls,
                    // Down from the start (`alpha`), every url is checked
                    // once from the first before it is up.
                    recovering: checker.alpha,
                    http,
                    fast_recovery,
                    delay_loop: checker.delay_loop,
                    delay_before_retry: checker.delay_before_retry,
                    next: Some((first, last)),
                    why: String::new(),
                    index,
                    last: None,
                    dynamic: checker.kind.is_dynamic(),
                },
            );
        }
        // One that core gave up at its timeout, whose answer has not been
        // handed over yet (it comes this same instant): counted now.
        given_up(c, now, |p, _| p.checker == number);
        c.probes.insert(
            id.0,
            Probe {
                checker: number,
                url,
                gives_up: now + timeout,
                pass: said.is_ok(),
                why: said.err().unwrap_or_default(),
            },
        );
        let m = c.models.get_mut(&number).expect("inserted above");
        let next = m.next.take();
        let on_time = next.is_some_and(|(lo, hi)| lo <= now && now <= hi);
        if on_time && url == m.url {
            return None;
        }
        Some(Finding {
            rule: Invariant::ProbeSchedule,
            director: d,
            detail: format!(
                "a probe of {}:{} (url {url}) started at {}; due {} on url {}",
                address,
                port,
                secs(now),
                match next {
                    Some((lo, hi)) if lo == hi => format!("at {}", secs(lo)),
                    Some((lo, hi)) => format!("between {} and {}", secs(lo), secs(hi)),
                    None => "none (one is under way)".into(),
                },
                m.url
            ),
        })
    }

    /// Director `d`'s core takes the result of probe `id` now.
    pub fn probe_done(&mut self, now: Instant, d: usize, id: ProbeId) {
        let c = &mut self.dirs[d].checkers;
        if let Some(p) = c.probes.remove(&id.0) {
            count(c, now, p);
        }
        if !c.due.is_empty() {
            self.deadlines.push(now);
        }
    }

    /// Director `d`'s core says real server (`vs`, `address`, `port`) is
    /// now alive or not.
    pub fn real_server_changed(
        &mut self,
        now: Instant,
        d: usize,
        rs: RsKey,
        alive: bool,
        reason: &str,
    ) -> Option<Finding> {
        self.owe_real_server_scripts(now, d, rs, alive);
        let c = &mut self.dirs[d].checkers;
        if !c.judged || !c.models.values().any(|m| m.rs == rs) {
            return None;
        }
        // Core gives a probe up at its timeout on its own: a result that
        // is due by now may come after this.
        if !c.due.iter().any(|x| x.0 == rs) {
            given_up(c, now, |_, m| m.rs == rs);
        }
        match c.due.iter().position(|x| x.0 == rs && x.1 == alive) {
            Some(k) => {
                c.due.remove(k);
                // Going down, it says why: what its failing probe met.
                let whys: Vec<&str> = c
                    .models
                    .values()
                    .filter(|m| m.rs == rs && !m.up)
                    .map(|m| m.why.as_str())
                    .collect();
                let said = whys.is_empty() || whys.iter().any(|w| reason.contains(w));
                match whys.first() {
                    Some(w) if !alive && !said => Some(Finding {
                        rule: Invariant::RealServerExact,
                        director: d,
                        detail: format!(
                            "{} went down at {} saying {reason:?}, not why its probe failed ({w:?})",
                            named(rs),
                            secs(now)
                        ),
                    }),
                    _ => None,
                }
            }
            None => Some(Finding {
                rule: Invariant::RealServerExact,
                director: d,
                detail: format!(
                    "{} went {} at {}, which its probes do not say (model: {})",
                    named(rs),
                    if alive { "up" } else { "down" },
                    secs(now),
                    describe(c, rs)
                ),
            }),
        }
    }

    /// Real server changes that were due and did not come.
    pub(super) fn checkers_missing(&mut self, now: Instant) -> Vec<Finding> {
        let mut found = Vec::new();
        for (d, dir) in self.dirs.iter_mut().enumerate() {
            if dir.paused {
                continue;
            }
            let c = &mut dir.checkers;
            let (late, keep): (Vec<_>, Vec<_>) = c.due.drain(..).partition(|x| x.2 < now);
            c.due = keep;
            for (n, m) in c.models.iter_mut() {
                if let Some((_, hi)) = m.next.filter(|(_, hi)| *hi < now) {
                    m.next = None;
                    found.push(Finding {
                        rule: Invariant::ProbeSchedule,
                        director: d,
                        detail: format!(
                            "checker #{n} of real server {}:{} started no probe by {}, when its next was due",
                            m.rs.1,
                            m.rs.2.unwrap_or(0),
                            secs(hi)
                        ),
                    });
                }
            }
            for (rs, alive, at, why) in late {
                found.push(Finding {
                    rule: Invariant::RealServerExact,
                    director: d,
                    detail: format!(
                        "{} should have gone {} at {} ({why}) and did not",
                        named(rs),
                        if alive { "up" } else { "down" },
                        secs(at)
                    ),
                });
            }
        }
        found
    }

    /// Director `d` took a reload: its checkers are no longer followed.
    pub(super) fn checkers_reloaded(&mut self, d: usize) {
        self.dirs[d].checkers = Checkers::default();
    }
}

/// Counts now the probes that core has given up by `now` (their budget
/// ran out) and that `which` picks.
fn given_up(c: &mut Checkers, now: Instant, which: impl Fn(&Probe, &Model) -> bool) {
    let ids: Vec<u64> = c
        .probes
        .iter()
        .filter(|(_, p)| p.gives_up <= now)
        .filter(|(_, p)| c.models.get(&p.checker).is_some_and(|m| which(p, m)))
        .map(|(id, _)| *id)
        .collect();
    for id in ids {
        if let Some(p) = c.probes.remove(&id) {
            count(c, now, p);
        }
    }
}

/// Counts probe `p`'s result in its checker's model now; a real server
/// whose life changes becomes due.
fn count(c: &mut Checkers, now: Instant, p: Probe) {
    let Some(m) = c.models.get(&p.checker) else {
        return;
    };
    let rs = m.rs;
    let before = c.alive(rs);
    let m = c.models.get_mut(&p.checker).expect("looked up above");
    m.last = Some(p.pass);
    let why = if p.pass {
        format!("url {} passed", p.url)
    } else {
        m.why = p.why.clone();
        format!("a failure with {} retries left", m.retries)
    };
    let wait = match (m.up, p.pass) {
        (true, true) => {
            m.retries = m.retry;
            m.url = (m.url + 1) % m.urls;
            m.delay_loop
        }
        (true, false) if m.retries > 0 => {
            m.retries -= 1;
            m.delay_before_retry
        }
        (true, false) => {
            m.up = false;
            m.down_wait()
        }
        (false, true) if m.urls > 1 && !m.recovering => {
            m.recovering = true;
            m.url = 0;
            m.rescan_wait()
        }
        (false, true) if m.recovering && m.url + 1 < m.urls => {
            m.url += 1;
            m.rescan_wait()
        }
        (false, true) => {
            m.up = true;
            m.recovering = false;
            m.retries = m.retry;
            m.url = (m.url + 1) % m.urls;
            m.delay_loop
        }
        (false, false) => {
            m.recovering = false;
            m.down_wait()
        }
    };
    m.next = Some((now + wait, now + wait));
    let after = c.alive(rs);
    if before != after {
        c.due.push((rs, after, now, why));
    }
}

/// A real server as findings name it.
fn named(rs: RsKey) -> String {
    format!(
        "real server {}:{} of virtual server #{}",
        rs.1,
        rs.2.unwrap_or(0),
        rs.0
    )
}

fn describe(c: &Checkers, rs: RsKey) -> String {
    c.models
        .values()
        .filter(|m| m.rs == rs)
        .map(|m| {
            format!(
                "{}{} with {} retries left, next url {}",
                if m.up { "up" } else { "down" },
                if m.recovering { " (recovering)" } else { "" },
                m.retries,
                m.url
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}
