//! The swarm as a judge: 100 seeds of the case study's own story (shifted,
//! thinned, its network drawn from the seed) and 100 schedules generated
//! from its topology with the election settings varied, every transition
//! judged by the oracle. It is the "swarm" judge of mutation testing
//! (`bench/mutants.sh`), and runs with every test run; CI's sweeps run
//! 10,000 of each.

use std::path::Path;

use holdfast_sim::swarm::sweep;
use holdfast_sim::{Options, Source};

const SEEDS: u64 = 100;

fn judge(generate: bool) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/case-study.json");
    let source = Source::read(&path).expect("the case study reads");
    let base = Options {
        generate,
        ..Options::default()
    };
    let report = sweep(&source, 1, SEEDS, 2, &base, &|_| {}).expect("it runs");
    let bad: Vec<String> = report
        .runs
        .iter()
        .filter(|r| !r.violations.is_empty())
        .map(|r| format!("seed {}: {}", r.seed, r.violations.join("")))
        .collect();
    assert!(bad.is_empty(), "generate={generate}:\n{}", bad.join("\n"));
}

#[test]
fn the_case_study_story_holds_every_rule() {
    judge(false);
}

#[test]
fn generated_schedules_hold_every_rule() {
    judge(true);
}
