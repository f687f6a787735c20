//! The checker scheduler on a virtual clock, with the case study's real
//! servers: exact times from keepalived's rules.

use std::path::Path;
use std::time::Duration;

use holdfast_core::check::schedule::{Outcome, Output, Scheduler};
use holdfast_core::config::model::Checker;
use holdfast_core::config::{self, LoadOptions};
use holdfast_core::time::Instant;
use holdfast_fs::FsLoader;

fn at(secs: f64) -> Instant {
    Instant::from_nanos((secs * 1e9).round() as u64)
}

/// The case study's checkers: [0] HTTP_GET of 192.168.100.2:80 (two URLs),
/// [1] HTTP_GET of 192.168.100.3:80, [2] TCP_CHECK of 192.168.100.2:443.
fn case_study_checkers() -> Vec<Checker> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/case-study/director1.conf");
    let cfg = config::load(&path, &FsLoader, &LoadOptions::default())
        .config
        .unwrap();
    let vs = &cfg.virtual_servers;
    vec![
        vs[0].real_servers[0].checkers[0].clone(),
        vs[0].real_servers[1].checkers[0].clone(),
        vs[1].real_servers[0].checkers[0].clone(),
    ]
}

/// (time, now up?).
type Change = (Instant, bool);
/// (time, URL index).
type ProbeAt = (Instant, usize);

/// Drives one checker: `answer(time, url)` gives the outcome of each probe
/// at once, `None` never answers. Returns (time, up?) transitions and the
/// probe times.
fn drive(
    cfg: Checker,
    until: f64,
    answer: impl Fn(Instant, usize) -> Option<bool>,
) -> (Vec<Change>, Vec<ProbeAt>) {
    let mut s = Scheduler::new();
    let id = s.add(Instant::ZERO, cfg, Duration::ZERO);
    let mut changes = Vec::new();
    let mut probes = Vec::new();
    for _ in 0..10_000 {
        let Some(t) = s.poll_timeout().filter(|&t| t <= at(until)) else {
            break;
        };
        s.handle_timeout(t);
        while let Some(o) = s.poll_output() {
            match o {
                Output::Probe {
                    id: probe,
                    checker,
                    url,
                    ..
                } => {
                    assert_eq!(checker, id);
                    probes.push((t, url));
                    if let Some(pass) = answer(t, url) {
                        s.probe_done(
                            t,
                            probe,
                            if pass {
                                Outcome::Pass
                            } else {
                                Outcome::Fail("wrong digest".into())
                            },
                        );
                    }
                }
                Output::Up(_) => changes.push((t, true)),
                Output::Down(_, _) => changes.push((t, false)),
                Output::Weight(..) => {}
            }
        }
        // Outcomes reported inside the loop produce outputs too.
        while let Some(o) = s.poll_output() {
            match o {
                Output::Up(_) => changes.push((t, true)),
                Output::Down(_, _) => changes.push((t, false)),
                Output::Weight(..) => {}
                Output::Probe { .. } => unreachable!("probes start only in handle_timeout"),
            }
        }
    }
    (changes, probes)
}

#[test]
fn wrong_body_on_the_first_url_takes_192_168_100_2_down_after_its_retries() {
    let http = case_study_checkers().remove(0);
    assert_eq!(
        (http.delay_loop, http.retry, http.delay_before_retry),
        (Duration::from_secs(30), 3, Duration::from_secs(2))
    );
    // Good until 50 s, then /testurl/test.jsp (URL 0) answers a wrong body.
    let (changes, probes) = drive(http, 400.0, |t, url| Some(!(url == 0 && t >= at(50.0))));
    // Probes: URL 0 at 1 s, URL 1 at 31 s, URL 0 at 61 s fails; retries every
    // delay_before_retry (2 s): the retry + 1 = 4th failure in a row, at
    // 61 + 3 × 2 = 67 s, takes it down.
    assert_eq!(
        probes[..6],
        [
            (at(1.0), 0),
            (at(31.0), 1),
            (at(61.0), 0),
            (at(63.0), 0),
            (at(65.0), 0),
            (at(67.0), 0)
        ]
    );
    assert_eq!(changes[0], (at(67.0), false));
    // Down: only URL 0, every max(delay_before_retry, delay_loop) = 30 s.
    assert_eq!(probes[6..8], [(at(97.0), 0), (at(127.0), 0)]);
}

#[test]
fn a_fixed_body_brings_it_back_after_every_url_passes_again() {
    let http = case_study_checkers().remove(0);
    // Wrong from the start until 100 s.
    let (changes, probes) = drive(http, 400.0, |t, url| Some(!(url == 0 && t < at(100.0))));
    // At start-up one failure is enough (keepalived starts with the retries used).
    assert_eq!(changes[0], (at(1.0), false));
    // URL 0 polled at 31, 61, 91 (fail), 121 (pass); then every URL from the
    // first, one per delay_loop: URL 0 at 151, URL 1 at 181: up at 181 s.
    assert_eq!(
        probes[..7],
        [
            (at(1.0), 0),
            (at(31.0), 0),
            (at(61.0), 0),
            (at(91.0), 0),
            (at(121.0), 0),
            (at(151.0), 0),
            (at(181.0), 1)
        ]
    );
    assert_eq!(changes[1], (at(181.0), true));
}

#[test]
fn a_single_url_server_is_back_after_one_good_check() {
    let http = case_study_checkers().remove(1);
    let (changes, _) = drive(http, 400.0, |t, _| Some(t >= at(100.0)));
    assert_eq!(changes, [(at(1.0), false), (at(121.0), true)]);
}

#[test]
fn tcp_check_that_never_answers_times_out() {
    let tcp = case_study_checkers().remove(2);
    assert_eq!(
        (tcp.connect_timeout, tcp.retry, tcp.delay_loop),
        (Duration::from_secs(3), 1, Duration::from_secs(20))
    );
    // Up at first, then the port stops answering at 30 s.
    let (changes, probes) = drive(
        tcp,
        200.0,
        |t, _| if t < at(30.0) { Some(true) } else { None },
    );
    // Probes at 1 and 21 pass; the one at 41 gets no answer: it fails at its
    // budget (2 × connect_timeout = 6 s), 47 s; the retry after
    // delay_before_retry (1 s) at 48 s fails at 54 s: retry + 1 = 2 failures.
    assert_eq!(
        probes[..4],
        [(at(1.0), 0), (at(21.0), 0), (at(41.0), 0), (at(48.0), 0)]
    );
    assert_eq!(changes, [(at(54.0), false)]);
}

#[test]
fn alpha_starts_down_and_needs_every_url() {
    let mut http = case_study_checkers().remove(0);
    http.alpha = true;
    let (changes, probes) = drive(http, 200.0, |_, _| Some(true));
    assert_eq!(probes[..2], [(at(1.0), 0), (at(31.0), 1)]);
    assert_eq!(changes, [(at(31.0), true)]);
}

#[test]
fn late_answers_are_ignored_and_deadlines_stay_exact_with_10000_checkers() {
    let tcp = case_study_checkers().remove(2);
    let mut s = Scheduler::new();
    for i in 0..10_000u64 {
        s.add(
            Instant::ZERO,
            tcp.clone(),
            Duration::from_millis(i % 19_000),
        );
    }
    let mut probes = 0;
    while let Some(t) = s.poll_timeout().filter(|&t| t <= at(20.0)) {
        s.handle_timeout(t);
        while let Some(o) = s.poll_output() {
            if let Output::Probe { id, .. } = o {
                probes += 1;
                s.probe_done(t, id, Outcome::Pass);
                // A second report for the same probe changes nothing.
                s.probe_done(t, id, Outcome::Fail("late".into()));
            }
        }
    }
    // Each checker probed once by 20 s (first checks at 1 s + up to 19 s of
    // jitter; the next ones 20 s later).
    assert_eq!(probes, 10_000);
}

#[test]
fn misc_dynamic_exit_status_sets_the_weight() {
    use holdfast_core::config::model::{CheckerKind, MiscCheck};
    let mut misc = case_study_checkers().remove(2);
    misc.kind = CheckerKind::MiscCheck(MiscCheck {
        path: "/bin/w".into(),
        timeout: None,
        dynamic: true,
        user: None,
    });
    let mut s = Scheduler::new();
    let id = s.add(Instant::ZERO, misc.clone(), Duration::ZERO);
    let mut seen = Vec::new();
    for code in [12, 1, 1, 0] {
        // Run to the next probe (some wake-ups find a deadline moved on).
        let (t, probe) = (0..100)
            .find_map(|_| {
                let t = s.poll_timeout()?;
                s.handle_timeout(t);
                let mut probe = None;
                while let Some(o) = s.poll_output() {
                    match o {
                        Output::Probe { id: p, .. } => probe = Some(p),
                        other => seen.push(other),
                    }
                }
                probe.map(|p| (t, p))
            })
            .expect("a probe");
        s.probe_done(t, probe, Outcome::Exit(code));
        while let Some(o) = s.poll_output() {
            seen.push(o);
        }
    }
    // 12 passes with weight 10; 1 fails (retry 1: the second failure in a row
    // takes it down); 0 passes again.
    assert_eq!(seen[0], Output::Weight(id, Some(10)));
    assert!(matches!(seen[1], Output::Down(c, _) if c == id));
    // Status 0 with misc_dynamic puts the configured weight back.
    assert_eq!(seen[2], Output::Weight(id, None));
    assert_eq!(seen[3], Output::Up(id));
    // Without misc_dynamic, any status but 0 fails.
    misc.kind = CheckerKind::MiscCheck(MiscCheck {
        path: "/bin/w".into(),
        timeout: None,
        dynamic: false,
        user: None,
    });
    let mut s = Scheduler::new();
    let id = s.add(Instant::ZERO, misc, Duration::ZERO);
    s.handle_timeout(s.poll_timeout().unwrap());
    let Some(Output::Probe { id: p, .. }) = s.poll_output() else {
        panic!()
    };
    s.probe_done(at(1.0), p, Outcome::Exit(12));
    assert!(matches!(s.poll_output(), Some(Output::Down(c, _)) if c == id));
}

#[test]
fn warmup_spreads_first_checks_within_its_bound() {
    let tcp = case_study_checkers().remove(2);
    assert_eq!(
        tcp.warmup,
        Duration::from_secs(20),
        "warmup defaults to delay_loop"
    );
    let mut s = Scheduler::new();
    // Jitter past the warmup is clamped to it.
    s.add(Instant::ZERO, tcp.clone(), Duration::from_secs(50));
    assert_eq!(s.poll_timeout(), Some(at(21.0)));
    let mut s = Scheduler::new();
    s.add(Instant::ZERO, tcp, Duration::from_millis(7_500));
    assert_eq!(s.poll_timeout(), Some(at(8.5)));
}
