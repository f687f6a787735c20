//! holdfast-sim: a deterministic discrete-event simulator of whole
//! keepalived topologies (DESIGN.md, "Simulator"). It drives unmodified
//! `core::Node`s over a simulated network, injects faults from a scenario,
//! checks the failover invariants as it goes, and writes the same trace
//! records as the daemon.

#![warn(missing_docs)]

pub mod behaviour;
pub mod bounds;
pub mod engine;
pub mod fuzzing;
pub mod incidents;
pub mod invariants;
pub mod scenario;
pub mod setup;
pub mod swarm;
pub mod topology;
pub mod world;

use std::path::Path;
use std::time::Duration;

pub use engine::{Report, Sim};
pub use scenario::{Scenario, ScenarioError};

/// How to run a scenario.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Overrides the scenario's seed.
    pub seed: Option<u64>,
    /// Overrides the scenario's duration.
    pub duration: Option<Duration>,
    /// Keep the trace in the report.
    pub trace: bool,
    /// Randomise fault timing and network conditions from the seed (what
    /// `holdfast sweep` does to each seed).
    pub swarm: bool,
}

/// Runs `scenario`, whose relative paths start at `base` (`shown` names it
/// in errors).
pub fn run(
    scenario: &Scenario,
    base: &Path,
    shown: &str,
    opts: &Options,
) -> Result<Report, ScenarioError> {
    let mut scenario = scenario.clone();
    if let Some(d) = opts.duration {
        scenario.duration = d.as_secs_f64();
        scenario.validate(shown)?;
    }
    let seed = opts.seed.unwrap_or(scenario.seed);
    let mut setup = setup::Setup::new(&scenario, base, shown)?;
    if opts.swarm {
        swarm::vary(&mut setup, seed);
    }
    Ok(Sim::new(&scenario, setup, seed, opts.trace)?.run())
}

/// Reads and runs a scenario file.
pub fn run_file(path: &Path, opts: &Options) -> Result<Report, ScenarioError> {
    let scenario = Scenario::read(path)?;
    let base = path.parent().unwrap_or(Path::new("."));
    run(&scenario, base, &path.display().to_string(), opts)
}
