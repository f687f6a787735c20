//! How a simulated real server answers a probe: which outcome, after how
//! long. HTTP answers go through core's own judge, so a wrong body fails on
//! its real MD5 and a 500 on the configured status codes — the simulator
//! never decides what counts as healthy.

use std::time::Duration;

use holdfast_core::check::http;
use holdfast_core::check::schedule::Outcome;
use holdfast_core::config::model::{Checker, CheckerKind};

use crate::scenario::Behaviour;

/// How long a local script takes in the simulation.
const SCRIPT_TIME: Duration = Duration::from_millis(10);
/// How long a `vrrp_script` takes in the simulation (it passes unless a
/// `script` fault says otherwise).
pub const SCRIPT_RUN: Duration = Duration::from_millis(5);

/// A probe's result and when it is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeResult {
    /// Time from the start of the probe.
    pub after: Duration,
    /// Outcome.
    pub outcome: Outcome,
}

fn fail(after: Duration, why: &str) -> ProbeResult {
    ProbeResult {
        after,
        outcome: Outcome::Fail(why.to_string()),
    }
}

fn pass(after: Duration) -> ProbeResult {
    ProbeResult {
        after,
        outcome: Outcome::Pass,
    }
}

/// The probe of `checker` (its url number `url`) against a server that
/// behaves as `behaviour`, over a path with round-trip time `rtt`, given up
/// at `timeout`; `reachable` is false when no frame gets through.
/// A model of the server, not of the checker: TCP_CHECK is judged at
/// connection level (connected = pass), HTTP_GET and SSL_GET on the answer,
/// MISC_CHECK as a script. The configuration reader lets no other kind
/// through (`CheckerKind::is_implemented`), so the simulator never passes a
/// check the daemon cannot make.
pub fn probe(
    behaviour: &Behaviour,
    checker: &Checker,
    url: usize,
    rtt: Duration,
    timeout: Duration,
    reachable: bool,
) -> ProbeResult {
    if let CheckerKind::MiscCheck(_) = checker.kind {
        // A script on the director that checks the server; it fails when
        // the server is unusable, and hangs with it.
        let (after, code) = match behaviour {
            Behaviour::Hang => return fail(timeout, "timed out"),
            _ if !reachable => return fail(timeout, "timed out"),
            Behaviour::Refuse => (SCRIPT_TIME + rtt, 1),
            Behaviour::Exit(code) => (SCRIPT_TIME + rtt, i32::from(*code)),
            _ => (SCRIPT_TIME + rtt, 0),
        };
        return ProbeResult {
            after,
            outcome: Outcome::Exit(code),
        };
    }
    if !reachable || *behaviour == Behaviour::Hang {
        return fail(timeout, "timed out");
    }
    if *behaviour == Behaviour::Refuse {
        return fail(rtt.min(timeout), "connection refused");
    }
    let urls = match &checker.kind {
        CheckerKind::HttpGet(h) | CheckerKind::SslGet(h) => &h.urls,
        CheckerKind::TcpCheck => return pass(rtt.min(timeout)),
        other => {
            return fail(
                Duration::ZERO,
                &format!("{} is not implemented", other.keyword()),
            )
        }
    };
    // Connect, then request and response.
    let exchange = rtt * 2;
    let Some(u) = urls.get(url) else {
        return pass(exchange.min(timeout));
    };
    let (response, extra) = match behaviour {
        // A server that only a check script reads otherwise serves well.
        Behaviour::Ok | Behaviour::Exit(_) => return within(pass(exchange), timeout),
        Behaviour::Status(code) => (
            format!("HTTP/1.1 {code} Simulated\r\nContent-Length: 0\r\n\r\n"),
            Duration::ZERO,
        ),
        Behaviour::Body(text) => (
            format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{text}",
                text.len()
            ),
            Duration::ZERO,
        ),
        Behaviour::SlowMs(ms) => {
            return within(pass(exchange + Duration::from_secs_f64(ms / 1e3)), timeout)
        }
        Behaviour::Raw(r) => (r.clone(), Duration::ZERO),
        Behaviour::Refuse | Behaviour::Hang => unreachable!("handled above"),
    };
    let outcome = match http::judge(response.as_bytes(), u) {
        Ok(()) => Outcome::Pass,
        Err(e) => Outcome::Fail(e.to_string()),
    };
    within(
        ProbeResult {
            after: exchange + extra,
            outcome,
        },
        timeout,
    )
}

/// A result that would come after the timeout is a timeout.
fn within(r: ProbeResult, timeout: Duration) -> ProbeResult {
    if r.after >= timeout {
        fail(timeout, "timed out")
    } else {
        r
    }
}

/// Whether a probe of `checker` passes against `behaviour`, ignoring time
/// except for the timeout: what the invariants expect of the checker.
pub fn passes(behaviour: &Behaviour, checker: &Checker, rtt: Duration, timeout: Duration) -> bool {
    let urls = match &checker.kind {
        CheckerKind::HttpGet(h) | CheckerKind::SslGet(h) => h.urls.len().max(1),
        _ => 1,
    };
    // keepalived's check_misc.c: with misc_dynamic, 2 to 255 pass too.
    let dynamic = checker.kind.is_dynamic();
    (0..urls).all(
        |u| match probe(behaviour, checker, u, rtt, timeout, true).outcome {
            Outcome::Pass | Outcome::Exit(0) => true,
            Outcome::Exit(2..=255) => dynamic,
            _ => false,
        },
    )
}
