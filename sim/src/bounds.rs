//! The time bounds the invariants allow, each from the protocol or the
//! checker configuration — the formulas an operator can check by hand.

use std::time::Duration;

use holdfast_core::check::schedule::{BOOTSTRAP_DELAY, PROBE_BUDGET_FACTOR};
use holdfast_core::config::model::{Checker, CheckerKind, VrrpInstance};
use holdfast_core::vrrp::timers;
use holdfast_core::vrrp::wire::Version;

/// Master_Down_Interval of an instance: `3 × Advertisement_Interval +
/// Skew_Time`, with `Skew_Time = (256 − priority) × interval / 256` (v3;
/// v2 uses whole seconds). RFC 3768 §6.1, RFC 5798 §6.1.
pub fn master_down(inst: &VrrpInstance) -> Duration {
    let version = if inst.version == 3 {
        Version::V3
    } else {
        Version::V2
    };
    timers::master_down(
        version,
        inst.priority,
        inst.advert_int,
        inst.down_timer_adverts,
    )
}

/// The longest Master_Down_Interval an instance can have: the skew of the
/// lowest priority, 1 (tracked interfaces and scripts move the effective
/// priority, and with it the skew, at any time).
pub fn master_down_worst(inst: &VrrpInstance) -> Duration {
    let version = if inst.version == 3 {
        Version::V3
    } else {
        Version::V2
    };
    timers::master_down(version, 1, inst.advert_int, inst.down_timer_adverts)
}

/// How long a probe may take before it counts as failed:
/// `connect_timeout` for the connection and again for the answer, or
/// `misc_timeout` (default `delay_loop`) for a script.
pub fn probe_budget(ch: &Checker) -> Duration {
    match &ch.kind {
        CheckerKind::MiscCheck(m) => m.timeout.unwrap_or(ch.delay_loop),
        _ => ch.connect_timeout * PROBE_BUDGET_FACTOR,
    }
}

/// Time from a server failing until the checker has taken it out, at most:
/// a probe already under way, the wait for the next one (`delay_loop`),
/// the failing probe and `retry` more with `delay_before_retry` between
/// them — every probe taking up to its budget, whatever the server does.
/// The first check after a start comes at 1 s + up to `warmup`, which is
/// added to cover a restart.
pub fn detect_down(ch: &Checker) -> Duration {
    let budget = probe_budget(ch);
    BOOTSTRAP_DELAY
        + ch.warmup
        + budget
        + ch.delay_loop
        + budget * (ch.retry + 1)
        + ch.delay_before_retry * ch.retry
}

/// Time from a server recovering until the checker has put it back, at
/// most: a failing probe under way, the wait before the next (`delay_loop`,
/// at least `delay_before_retry` for HTTP), that probe, and for HTTP with
/// several urls one more pass over every url, `delay_loop` apart
/// (keepalived re-checks them all before declaring the server up).
pub fn detect_up(ch: &Checker) -> Duration {
    let budget = probe_budget(ch);
    let (wait, rescan) = match &ch.kind {
        CheckerKind::HttpGet(h) | CheckerKind::SslGet(h) => {
            let urls = h.urls.len() as u32;
            let rescan = if urls > 1 {
                (ch.delay_loop + budget) * urls
            } else {
                Duration::ZERO
            };
            (ch.delay_loop.max(ch.delay_before_retry), rescan)
        }
        _ => (ch.delay_loop, Duration::ZERO),
    };
    BOOTSTRAP_DELAY + ch.warmup + budget + wait + budget + rescan
}
