//! `holdfast demo`: the case study simulated, swept and plotted. The
//! scenario and both directors' configurations are compiled in, so a copied
//! or installed binary runs the demo from any directory.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use holdfast::cli::DemoArgs;
use holdfast_core::config::MemLoader;

/// The scenario's file name, in the output directory.
const SCENARIO: &str = "case-study.json";
const SCENARIO_TEXT: &str = include_str!("../scenarios/case-study.json");
/// The configurations, under the paths the scenario names them by.
const CONFIGS: [(&str, &str); 2] = [
    (
        "case-study/director1.conf",
        include_str!("../scenarios/case-study/director1.conf"),
    ),
    (
        "case-study/director2.conf",
        include_str!("../scenarios/case-study/director2.conf"),
    ),
];

/// The compiled-in case study, named by the copy the demo writes into
/// `out` (so that the sweep's replay commands name a file that exists).
fn source(out: &Path) -> anyhow::Result<holdfast_sim::Source> {
    let files = CONFIGS
        .iter()
        .fold(MemLoader::new(), |files, (path, text)| {
            files.with(*path, *text)
        });
    let shown = out.join(SCENARIO).display().to_string();
    Ok(holdfast_sim::Source::in_memory(
        &shown,
        SCENARIO_TEXT,
        files,
    )?)
}

/// Writes `text` to `dir/name`, creating the directories on the way.
fn write(dir: &Path, name: &str, text: impl AsRef<[u8]>) -> anyhow::Result<()> {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))
}

pub fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let source = source(&args.out)?;
    let opts = holdfast_sim::Options {
        trace: true,
        ..holdfast_sim::Options::default()
    };
    let report = holdfast_sim::run(&source, &opts)?;
    print!("{}", report.summary());
    let out = &args.out;
    // The scenario and its configurations go beside the report, so that
    // `holdfast sim DIR/case-study.json` replays what the page shows.
    write(out, SCENARIO, SCENARIO_TEXT)?;
    for (path, text) in CONFIGS {
        write(out, path, text)?;
    }
    let Some(trace_bytes) = report.trace.clone() else {
        anyhow::bail!("the simulation wrote no trace");
    };
    write(out, "trace.jsonl", &trace_bytes)?;
    let records = holdfast_core::trace::read(&trace_bytes[..])?;
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
    let sweep = holdfast_sim::swarm::sweep(
        &source,
        1,
        args.seeds,
        jobs,
        &holdfast_sim::Options::default(),
        &|_| {},
    )?;
    write(out, "sweep.json", serde_json::to_string(&sweep)?)?;
    // The report reads the sweep as any sweep file is read.
    let sweep_path = out.join("sweep.json");
    let holdfast_reports::Input::Sweep(figures) = holdfast_reports::read_input(&sweep_path)? else {
        anyhow::bail!("{}: not a sweep", sweep_path.display());
    };
    let failing = sweep.failing().count();
    println!(
        "sweep: {} seeds with randomised fault timing, loss, delay and jitter; invariants violated in {failing}",
        args.seeds
    );
    let title = format!("holdfast demo: the case study ({})", source.shown);
    let written = holdfast_reports::write(out, &title, Some(&records), Some(&figures))?;
    println!("report: {}", written.html.display());
    Ok(if report.violations.is_empty() && failing == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
