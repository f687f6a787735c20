//! Schedules that once exposed a bug, replayed on every run: each must now
//! hold every rule. An entry names its scenario (from the repository's
//! root), its seed, how the seed was used (`plain`: the scenario as
//! written; `swarm`: `holdfast sweep`'s variation; `generate`: `holdfast
//! sweep --generate`), and what it found. A generated schedule is the
//! generator's output for its seed, under the generator's version named
//! by the entry (`generator`, 1 when absent): `a_generated_schedule_is_pinned`
//! fails if a version's output changes, so that the corpus is re-derived
//! rather than silently replaying other schedules.

use std::path::Path;

use holdfast_sim::scenario::Fault;
use holdfast_sim::{run, Options, Source};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Entry {
    scenario: String,
    seed: u64,
    mode: String,
    found: String,
    /// The generator's version it was found with (1 before versions were
    /// named).
    #[serde(default = "first")]
    generator: u32,
}

fn first() -> u32 {
    1
}

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

#[test]
fn every_schedule_that_found_a_bug_now_holds() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/schedules.json"),
    )
    .expect("the corpus reads");
    let entries: Vec<Entry> = serde_json::from_str(&text).expect("the corpus parses");
    assert!(!entries.is_empty());
    for e in entries {
        let source = Source::read(&root().join(&e.scenario)).expect("its scenario reads");
        let opts = Options {
            seed: Some(e.seed),
            swarm: e.mode == "swarm",
            generate: e.mode == "generate",
            generator: Some(e.generator),
            ..Options::default()
        };
        assert!(
            ["plain", "swarm", "generate"].contains(&e.mode.as_str()),
            "{e:?}"
        );
        let r = run(&source, &opts).expect("it runs");
        assert!(
            r.violations.is_empty(),
            "{} seed {} ({}) found {:?} once; again:\n{}",
            e.scenario,
            e.seed,
            e.mode,
            e.found,
            r.summary()
        );
    }
}

/// The generator's output for one seed, pinned for each version: the
/// corpus's generated entries are seeds, and mean what they found only
/// while this holds.
#[test]
fn a_generated_schedule_is_pinned() {
    pinned(1, include_str!("corpus/generated-seed-7.txt"));
    pinned(2, include_str!("corpus/generated-seed-7-v2.txt"));
    pinned(3, include_str!("corpus/generated-seed-7-v3.txt"));
    assert_eq!(holdfast_sim::schedule::LATEST, 3, "pin the new version too");
}

fn pinned(version: u32, expected: &str) {
    let source = Source::read(&root().join("scenarios/case-study.json")).expect("it reads");
    let mut setup = source.setup().expect("it sets up");
    let span = std::time::Duration::from_secs(600);
    holdfast_sim::schedule::generate_version(&mut setup, 7, span, version);
    let labels: Vec<String> = setup
        .timeline
        .iter()
        .map(|(t, f)| {
            // A reload's label names the file by its path on this machine.
            let what = match f {
                Fault::Reload { host, .. } => format!("{host} reloads"),
                other => other.label(),
            };
            format!("{:.3} {what}", t.as_secs_f64())
        })
        .collect();
    let priorities: Vec<u8> = setup
        .directors
        .iter()
        .flat_map(|d| d.config.instances.iter().map(|i| i.priority))
        .collect();
    let pinned = format!("{labels:?} {priorities:?}");
    assert_eq!(
        pinned,
        expected.trim(),
        "version {version} of the generator changed: re-derive the corpus's generated entries"
    );
}
