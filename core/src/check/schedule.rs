//! When each checker probes its real server, and when the server counts as
//! up or down: keepalived's rules (docs/keepalived.md, "Checkers") as a pure
//! state machine over a deadline heap, so the cost per check does not grow
//! with the pool.
//!
//! - First check at 1 s (keepalived's BOOTSTRAP_DELAY) plus a random part of
//!   `warmup`; the random part is an input.
//! - Up: a check every `delay_loop`; a failure is retried after
//!   `delay_before_retry`, and the `retry + 1`-th failure in a row takes the
//!   checker down. At start-up one failure is enough (keepalived starts the
//!   retry count used up), unless `alpha`, which starts down.
//! - Down: a check every `delay_loop` (HTTP: every max(`delay_before_retry`,
//!   `delay_loop`)), no retries; one success brings it up. HTTP_GET checks one
//!   URL per cycle; after a failure only the failing URL is polled, and once
//!   it passes every URL is checked again from the first, one per
//!   `delay_loop` (at once with `fast_recovery`), before the checker is up.
//! - A probe that has not reported within `connect_timeout` (plus the
//!   slack below) fails: a checker cannot wedge.
//!
//! `Node` (`node/pools.rs`) owns the scheduler, turns its probes into outputs
//! and its verdicts into the LVS table (`lvs::pool`).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::time::Duration;

use serde::Serialize;

use crate::config::model::{Checker, CheckerKind};
use crate::time::Instant;

/// keepalived's BOOTSTRAP_DELAY before the first check.
pub const BOOTSTRAP_DELAY: Duration = Duration::from_secs(1);
/// A probe gets `connect_timeout` to connect and as long again to answer
/// (keepalived applies the timeout to the connect and to each read).
pub const PROBE_BUDGET_FACTOR: u32 = 2;

/// Index of a checker in the scheduler.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct CheckerId(pub u32);

/// One probe run: the checker's index in the high 32 bits, a sequence
/// number in the low ones, so a report finds its checker in O(1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ProbeId(pub u64);

impl ProbeId {
    fn new(checker: u32, seq: u32) -> Self {
        ProbeId(u64::from(checker) << 32 | u64::from(seq))
    }

    fn checker(self) -> usize {
        (self.0 >> 32) as usize
    }
}

/// How a probe ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Outcome {
    /// It passed.
    Pass,
    /// It failed, and why.
    Fail(String),
    /// A MISC_CHECK script exited with this status: 0 passes, 1 fails;
    /// with `misc_dynamic`, 2..=255 passes and sets the weight to status - 2
    /// (keepalived's check_misc.c); without it, any other status fails.
    Exit(i32),
}

/// What the scheduler wants done or reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Output {
    /// Run a probe for `checker`; for HTTP_GET / SSL_GET, of URL `url`.
    Probe {
        /// This run.
        id: ProbeId,
        /// Whose.
        checker: CheckerId,
        /// Which URL (0 for other checkers).
        url: usize,
        /// Give up after this long (the scheduler fails it then anyway).
        timeout: Duration,
    },
    /// The checker now passes.
    Up(CheckerId),
    /// The checker now fails, and why.
    Down(CheckerId, String),
    /// A MISC_CHECK with `misc_dynamic` set its real server's weight
    /// (`None`: back to the configured weight).
    Weight(CheckerId, Option<u32>),
}

#[derive(Debug, Clone)]
struct State {
    cfg: Checker,
    up: bool,
    /// Failures in a row while up.
    failures: u32,
    /// URL of the next probe.
    url: usize,
    /// Recovering: URLs still to pass in sequence before coming up.
    recovering: bool,
    in_flight: Option<(ProbeId, Instant)>,
    /// The deadline that counts; heap entries for other times are stale.
    due: Instant,
    last: Option<Outcome>,
}

impl State {
    fn urls(&self) -> usize {
        match &self.cfg.kind {
            CheckerKind::HttpGet(h) | CheckerKind::SslGet(h) => h.urls.len().max(1),
            _ => 1,
        }
    }

    fn fast_recovery(&self) -> bool {
        matches!(&self.cfg.kind, CheckerKind::HttpGet(h) | CheckerKind::SslGet(h) if h.fast_recovery)
    }

    fn is_http(&self) -> bool {
        matches!(
            self.cfg.kind,
            CheckerKind::HttpGet(_) | CheckerKind::SslGet(_)
        )
    }
}

/// All checkers of a director.
#[derive(Debug, Default)]
pub struct Scheduler {
    checkers: Vec<State>,
    heap: BinaryHeap<Reverse<(Instant, u32)>>,
    next_probe: u32,
    out: VecDeque<Output>,
}

impl Scheduler {
    /// An empty scheduler.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a checker; its first probe is due at `now` + 1 s + `jitter`
    /// (the caller draws `jitter` from 0..=warmup with its seeded RNG).
    pub fn add(&mut self, now: Instant, cfg: Checker, jitter: Duration) -> CheckerId {
        let up = !cfg.alpha;
        self.add_with_state(now, cfg, jitter, up)
    }

    /// [`Scheduler::add`] for a checker that was already running (a reload):
    /// it keeps whether it passed, so a failed server is not re-added at once.
    pub fn add_with_state(
        &mut self,
        now: Instant,
        cfg: Checker,
        jitter: Duration,
        up: bool,
    ) -> CheckerId {
        let id = CheckerId(self.checkers.len() as u32);
        // keepalived starts with the retries used up: one failure is enough.
        let failures = cfg.retry;
        let due = now + BOOTSTRAP_DELAY + jitter.min(cfg.warmup);
        let recovering = !up;
        self.checkers.push(State {
            cfg,
            up,
            failures,
            url: 0,
            recovering,
            in_flight: None,
            due,
            last: None,
        });
        self.heap.push(Reverse((due, id.0)));
        id
    }

    /// Continues `previous`'s probe numbering, so that a result still on
    /// its way for a probe of the scheduler this one replaces (a reload)
    /// can never be taken for a new probe's.
    pub fn continue_numbering(&mut self, previous: &Scheduler) {
        self.next_probe = previous.next_probe;
    }

    /// Whether the checker passes.
    pub fn is_up(&self, id: CheckerId) -> bool {
        self.checkers[id.0 as usize].up
    }

    /// Its last probe's outcome.
    pub fn last(&self, id: CheckerId) -> Option<&Outcome> {
        self.checkers[id.0 as usize].last.as_ref()
    }

    /// The next deadline. It may be one that turned out stale, which only
    /// means a wake-up with nothing to do; none is ever before the last
    /// `handle_timeout`.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse((t, _))| *t)
    }

    /// The next output.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    fn schedule(&mut self, i: u32, at: Instant) {
        self.checkers[i as usize].due = at;
        self.heap.push(Reverse((at, i)));
    }

    /// Starts due probes and fails probes past their budget.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(Reverse((t, i))) = self.heap.peek().copied() {
            if t > now {
                break;
            }
            self.heap.pop();
            let st = &self.checkers[i as usize];
            if st.due != t {
                continue; // stale
            }
            match st.in_flight {
                Some(_) => self.finish(now, i, Outcome::Fail("timed out".into())),
                None => {
                    let id = ProbeId::new(i, self.next_probe);
                    self.next_probe = self.next_probe.wrapping_add(1);
                    let budget = match &st.cfg.kind {
                        // A script runs for misc_timeout (default: delay_loop), then is killed.
                        CheckerKind::MiscCheck(m) => m.timeout.unwrap_or(st.cfg.delay_loop),
                        _ => st.cfg.connect_timeout * PROBE_BUDGET_FACTOR,
                    };
                    let url = st.url;
                    self.checkers[i as usize].in_flight = Some((id, now + budget));
                    self.schedule(i, now + budget);
                    self.out.push_back(Output::Probe {
                        id,
                        checker: CheckerId(i),
                        url,
                        timeout: budget,
                    });
                }
            }
        }
    }

    /// A probe reported. Reports for probes already timed out are ignored.
    pub fn probe_done(&mut self, now: Instant, probe: ProbeId, outcome: Outcome) {
        let i = probe.checker();
        if self
            .checkers
            .get(i)
            .is_some_and(|c| c.in_flight.is_some_and(|(p, _)| p == probe))
        {
            self.finish(now, i as u32, outcome);
        }
    }

    fn finish(&mut self, now: Instant, i: u32, outcome: Outcome) {
        let st = &mut self.checkers[i as usize];
        st.in_flight = None;
        let dynamic = st.cfg.kind.is_dynamic();
        let (pass, reason, weight) = match &outcome {
            // keepalived's check_misc.c: with misc_dynamic, status 0 puts the
            // configured weight back.
            Outcome::Exit(0) if dynamic => (true, String::new(), Some(None)),
            Outcome::Pass | Outcome::Exit(0) => (true, String::new(), None),
            Outcome::Fail(r) => (false, r.clone(), None),
            Outcome::Exit(code @ 2..=255) if dynamic => {
                (true, String::new(), Some(Some(*code as u32 - 2)))
            }
            Outcome::Exit(code) => (false, format!("exit status {code}"), None),
        };
        if let Some(w) = weight {
            self.out.push_back(Output::Weight(CheckerId(i), w));
        }
        let st = &mut self.checkers[i as usize];
        st.last = Some(outcome);
        let (delay_loop, dbr, urls) = (st.cfg.delay_loop, st.cfg.delay_before_retry, st.urls());
        let next = if st.up {
            if pass {
                st.failures = 0;
                st.url = (st.url + 1) % urls;
                now + delay_loop
            } else {
                st.failures += 1;
                if st.failures > st.cfg.retry {
                    st.up = false;
                    st.failures = 0;
                    self.out.push_back(Output::Down(CheckerId(i), reason));
                    // The failing URL is polled until it passes.
                    now + if st.is_http() {
                        delay_loop.max(dbr)
                    } else {
                        delay_loop
                    }
                } else {
                    now + dbr
                }
            }
        } else if pass {
            if st.is_http() && urls > 1 && !st.recovering {
                // The failed URL passes: every URL again, from the first.
                st.recovering = true;
                st.url = 0;
                now + if st.fast_recovery() {
                    Duration::ZERO
                } else {
                    delay_loop
                }
            } else if st.recovering && st.url + 1 < urls {
                st.url += 1;
                now + if st.fast_recovery() {
                    Duration::ZERO
                } else {
                    delay_loop
                }
            } else {
                st.up = true;
                st.recovering = false;
                st.failures = 0;
                st.url = (st.url + 1) % urls;
                self.out.push_back(Output::Up(CheckerId(i)));
                now + delay_loop
            }
        } else {
            // A URL failed (again): poll it alone, then start over.
            st.recovering = false;
            now + if st.is_http() {
                delay_loop.max(dbr)
            } else {
                delay_loop
            }
        };
        self.schedule(i, next);
    }
}
