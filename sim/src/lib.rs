//! holdfast-sim: a deterministic discrete-event simulator of whole
//! keepalived topologies (docs/architecture.md, "The simulator"). It drives unmodified
//! `core::Node`s over a simulated network, injects faults from a scenario,
//! checks the failover invariants as it goes, and writes the same trace
//! records as the daemon.

#![warn(missing_docs)]

pub mod behaviour;
pub mod bounds;
pub mod engine;
pub mod files;
pub mod fuzzing;
pub mod incidents;
pub mod invariants;
pub mod oracle;
pub mod scenario;
pub mod schedule;
pub mod setup;
pub mod swarm;
pub mod topology;
pub mod world;

use std::path::{Path, PathBuf};
use std::time::Duration;

use holdfast_core::config::MemLoader;

pub use engine::{Report, Sim};
pub use files::Files;
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
    /// Replace the scenario's faults with a schedule generated from the
    /// topology, and vary the configurations' election settings, from the
    /// seed (`schedule.rs`; `holdfast sweep --generate`).
    pub generate: bool,
    /// The generator's version for `generate` (`schedule::LATEST` when
    /// `None`): a schedule found with an earlier one replays as found.
    pub generator: Option<u32>,
    /// Test-only: a bug put into every director's core, to prove that the
    /// oracle catches it (`sim/tests/teeth.rs`).
    #[cfg(feature = "defects")]
    pub defect: Option<holdfast_core::defect::Defect>,
}

/// A scenario, where its relative paths start, and where its files are
/// read from.
#[derive(Debug, Clone)]
pub struct Source {
    /// The scenario, validated.
    pub scenario: Scenario,
    /// Where the scenario's relative paths start.
    pub base: PathBuf,
    /// The scenario's name in errors and reports.
    pub shown: String,
    /// Where its configuration files are read from.
    pub files: Files,
}

impl Source {
    /// A scenario whose configurations are read from disk, relative to
    /// `base`; `shown` names it in errors.
    pub fn new(scenario: Scenario, base: &Path, shown: &str) -> Source {
        Source {
            scenario,
            base: base.to_path_buf(),
            shown: shown.to_string(),
            files: Files::disk(),
        }
    }

    /// Reads a scenario file; its configurations are read from disk,
    /// relative to the file's directory.
    pub fn read(path: &Path) -> Result<Source, ScenarioError> {
        Ok(Source::new(
            Scenario::read(path)?,
            path.parent().unwrap_or(Path::new(".")),
            &path.display().to_string(),
        ))
    }

    /// A scenario held in memory with its configurations (`files`, keyed by
    /// the paths the scenario names): nothing is read from disk.
    pub fn in_memory(shown: &str, text: &str, files: MemLoader) -> Result<Source, ScenarioError> {
        Ok(Source {
            scenario: Scenario::parse(shown, text)?,
            base: PathBuf::new(),
            shown: shown.to_string(),
            files: Files::memory(files),
        })
    }

    /// The checked world this source describes.
    pub fn setup(&self) -> Result<setup::Setup, ScenarioError> {
        setup::Setup::with_files(&self.scenario, &self.base, &self.shown, self.files.clone())
    }
}

/// Runs a scenario.
pub fn run(source: &Source, opts: &Options) -> Result<Report, ScenarioError> {
    let mut scenario = source.scenario.clone();
    if let Some(d) = opts.duration {
        scenario.duration = d.as_secs_f64();
        scenario.validate(&source.shown)?;
    }
    let seed = opts.seed.unwrap_or(scenario.seed);
    // The timeline repeats up to the duration: built from the scenario as
    // overridden, not the source's.
    let mut setup =
        setup::Setup::with_files(&scenario, &source.base, &source.shown, source.files.clone())?;
    if opts.generate {
        let span = scenario::seconds(scenario.duration).unwrap_or_default();
        let version = opts.generator.unwrap_or(schedule::LATEST);
        schedule::generate_version(&mut setup, seed, span, version);
    } else if opts.swarm {
        swarm::vary(&mut setup, seed);
    }
    #[allow(unused_mut)]
    let mut sim = Sim::new(&scenario, setup, seed, opts.trace)?;
    #[cfg(feature = "defects")]
    if let Some(d) = opts.defect {
        sim.inject_defect(d);
    }
    Ok(sim.run())
}

/// Reads and runs a scenario file.
pub fn run_file(path: &Path, opts: &Options) -> Result<Report, ScenarioError> {
    run(&Source::read(path)?, opts)
}
