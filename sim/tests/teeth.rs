//! The swarm has teeth: each of these bugs, put into core on purpose
//! (`core/src/defect.rs`), makes a short sweep of the case study report a
//! violation that names the rule broken, the director, the time and the
//! seed. (CI's own sweep runs the real core over 1,000 seeds and must hold
//! every rule.)

use std::path::Path;

use holdfast_core::defect::Defect;
use holdfast_sim::swarm::sweep;
use holdfast_sim::{Options, Source};

/// Seeds per defect: enough that every one is caught in several of them.
const SEEDS: u64 = 40;

fn sweep_with(defect: Defect) -> Vec<(u64, String)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/case-study.json");
    let source = Source::read(&path).expect("the case study reads");
    let base = Options {
        defect: Some(defect),
        ..Options::default()
    };
    let report = sweep(&source, 1, SEEDS, 1, &base, &|_| {}).expect("it runs");
    report
        .runs
        .iter()
        .flat_map(|r| r.violations.iter().map(move |v| (r.seed, v.clone())))
        .collect()
}

/// The first violation of `rule` in a sweep with `defect`, as (seed, the
/// violation's first line); it must name the rule, the director and the
/// time, and the seed says how to replay it.
#[track_caller]
fn caught(defect: Defect, rule: &str) -> (u64, String) {
    let found = sweep_with(defect);
    let (seed, line) = found
        .iter()
        .find(|(_, v)| v.contains(&format!(" {rule} [director")))
        .map(|(s, v)| (*s, v.lines().next().unwrap_or_default().to_string()))
        .unwrap_or_else(|| panic!("{defect:?}: no {rule} in {SEEDS} seeds: {found:?}"));
    assert!(line.starts_with("t="), "the time first: {line}");
    (seed, line)
}

/// A Backup that no longer restarts its master-down timer when an advert
/// arrives takes over from a healthy Master.
#[test]
fn a_backup_that_ignores_adverts_is_caught_taking_over_early() {
    let (seed, line) = caught(Defect::NoTimerRestart, "takeover_early");
    assert!(line.contains("became Master at"), "seed {seed}: {line}");
}

/// The skew time computed without the priority: every Backup waits as if
/// it had priority 255, so it takes over too soon.
#[test]
fn a_skew_without_the_priority_is_caught_taking_over_early() {
    let (seed, line) = caught(Defect::SkewWithoutPriority, "takeover_early");
    assert!(line.contains("master-down interval"), "seed {seed}: {line}");
}

/// `preempt` ignored: director 1, back after its restart with the higher
/// priority, never takes its instances back.
#[test]
fn ignoring_preempt_is_caught_as_a_missing_takeover() {
    let (seed, line) = caught(Defect::IgnorePreempt, "takeover_missing");
    assert!(line.contains("[director1]"), "seed {seed}: {line}");
}

/// And without a defect, the same seeds hold every rule: what the tests
/// above catch is the defect, not noise.
#[test]
fn the_real_core_holds_every_rule_on_the_same_seeds() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/case-study.json");
    let source = Source::read(&path).expect("the case study reads");
    let report = sweep(&source, 1, SEEDS, 1, &Options::default(), &|_| {}).expect("it runs");
    let bad: Vec<_> = report
        .runs
        .iter()
        .filter(|r| !r.violations.is_empty())
        .collect();
    assert!(bad.is_empty(), "{bad:#?}");
}
