//! Swarm testing: each seed of a sweep shifts the faults' timing, leaves
//! some out, and draws the network's loss, delay, jitter and duplication,
//! all from the seed — so `holdfast sim --seed N --swarm` replays seed N of
//! a sweep exactly.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::incidents::Incident;
use crate::scenario::{NetSpec, ScenarioError};
use crate::setup::Setup;
use crate::{Options, Source};
pub use holdfast_core::trace::percentile;

/// Keeps the variation's random stream apart from the run's.
const STREAM: u64 = 0x5357_4152_4d5f_5631;
/// How far a fault may move, each way.
const SHIFT: Duration = Duration::from_secs(2);
/// Chance that a fault is left out.
const OMIT: f64 = 0.1;

/// A segment's loss, delay, jitter and duplication, drawn from `rng`.
pub fn draw_net(rng: &mut ChaCha8Rng) -> NetSpec {
    NetSpec {
        loss: rng.random_range(0.0..0.02),
        delay_ms: rng.random_range(0.05..1.0),
        jitter_ms: rng.random_range(0.0..2.0),
        duplicate: rng.random_range(0.0..0.01),
        corrupt: 0.0,
        ttl: None,
    }
}

/// Varies a setup for `seed`.
pub fn vary(setup: &mut Setup, seed: u64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ STREAM);
    for s in &mut setup.topo.segments {
        s.net = draw_net(&mut rng);
    }
    let shift = SHIFT.as_secs_f64();
    let mut timeline = Vec::new();
    for (t, f) in std::mem::take(&mut setup.timeline) {
        let moved = (t.as_secs_f64() + rng.random_range(-shift..shift)).max(0.0);
        if rng.random::<f64>() >= OMIT {
            timeline.push((Duration::from_secs_f64(moved), f));
        }
    }
    timeline.sort_by_key(|(t, _)| *t);
    setup.timeline = timeline;
}

/// p50, p99 and max of one figure over a sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stat {
    /// The incident (fault label).
    pub incident: String,
    /// The figure.
    pub metric: String,
    /// How many runs had it.
    pub n: usize,
    /// Median, seconds.
    pub p50: f64,
    /// 99th percentile, seconds.
    pub p99: f64,
    /// Maximum, seconds.
    pub max: f64,
}

/// One seed's run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeedRun {
    /// The seed.
    pub seed: u64,
    /// Events processed.
    pub events: u64,
    /// Its incidents.
    pub incidents: Vec<Incident>,
    /// Its violations, one line each.
    pub violations: Vec<String>,
}

/// A whole sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepReport {
    /// Scenario file.
    pub scenario: String,
    /// Every seed's run, by seed.
    pub runs: Vec<SeedRun>,
    /// Figures over all seeds.
    pub stats: Vec<Stat>,
}

impl SweepReport {
    /// The seeds that violated an invariant.
    pub fn failing(&self) -> impl Iterator<Item = &SeedRun> {
        self.runs.iter().filter(|r| !r.violations.is_empty())
    }
}

fn stats(runs: &[SeedRun]) -> Vec<Stat> {
    let mut values: BTreeMap<(String, &'static str), Vec<f64>> = BTreeMap::new();
    for r in runs {
        for i in &r.incidents {
            for (metric, v) in i.metrics() {
                if let Some(v) = v {
                    values.entry((i.label.clone(), metric)).or_default().push(v);
                }
            }
        }
    }
    values
        .into_iter()
        .map(|((incident, metric), mut v)| {
            v.sort_by(f64::total_cmp);
            Stat {
                incident,
                metric: metric.to_string(),
                n: v.len(),
                p50: percentile(&v, 50.0),
                p99: percentile(&v, 99.0),
                max: v[v.len() - 1],
            }
        })
        .collect()
}

/// Runs seeds `first..first + count` of `scenario` with `jobs` threads,
/// each as `base` says (its duration) with the seed's variation;
/// `progress` is called with the number done after each run.
pub fn sweep(
    source: &Source,
    first: u64,
    count: u64,
    jobs: usize,
    base: &Options,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<SweepReport, ScenarioError> {
    // Fail early, once, on a scenario that cannot run.
    source.setup()?;
    let next = AtomicU64::new(0);
    let done = AtomicU64::new(0);
    let results: Mutex<Vec<Result<SeedRun, ScenarioError>>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..jobs.max(1) {
            s.spawn(|| loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                if k >= count {
                    break;
                }
                let seed = first + k;
                let opts = Options {
                    seed: Some(seed),
                    trace: false,
                    swarm: true,
                    ..base.clone()
                };
                let run = crate::run(source, &opts).map(|r| SeedRun {
                    seed,
                    events: r.events,
                    incidents: r.incidents,
                    violations: r.violations.iter().map(|v| v.to_string()).collect(),
                });
                if let Ok(mut all) = results.lock() {
                    all.push(run);
                }
                progress(done.fetch_add(1, Ordering::Relaxed) + 1);
            });
        }
    });
    let mut runs = results
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;
    runs.sort_by_key(|r| r.seed);
    Ok(SweepReport {
        scenario: source.shown.clone(),
        stats: stats(&runs),
        runs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), 50.0);
        assert_eq!(percentile(&v, 99.0), 99.0);
        assert_eq!(percentile(&v, 100.0), 100.0);
        assert_eq!(percentile(&[7.0], 99.0), 7.0);
        assert!(percentile(&[], 50.0).is_nan());
    }
}
