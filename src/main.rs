//! The `holdfast` command line: it parses arguments and hands the work to the
//! library crates. No protocol logic lives here.

mod demo;

use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser;
use holdfast::cli::{
    CheckArgs, Cli, Command, GenhashArgs, ReportArgs, RunArgs, SimArgs, SweepArgs, Unimplemented,
};
use holdfast_core::config::{self, LoadOptions, Severity};
use holdfast_fs::FsLoader;

// mimalloc: large configurations allocate many small values.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check(args) => check(args),
        Command::Run(args) => run(args),
        Command::Sim(args) => sim(args),
        Command::Sweep(args) => sweep(args),
        Command::Report(args) => report(args),
        Command::Demo(args) => demo::run(args),
        Command::Genhash(args) => genhash(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("holdfast: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// keepalived's default config id: the host name up to its first dot.
fn default_config_id() -> Option<String> {
    let name = holdfast_runtime::host_name();
    let short = name.split('.').next()?.to_string();
    (!short.is_empty()).then_some(short)
}

fn check(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let opts = LoadOptions {
        config_id: args.config.config_id.or_else(default_config_id),
        strict: args.strict,
        ignore_unimplemented: args.config.unimplemented.ignore_unimplemented,
    };
    let loaded = config::load(&args.config.file, &FsLoader, &opts);
    eprint!("{}", loaded.render());
    let errors = loaded.diagnostics.count(Severity::Error);
    let warnings = loaded.diagnostics.count(Severity::Warning);
    let Some(cfg) = loaded.config else {
        eprintln!(
            "{}: {errors} error(s), {warnings} warning(s); the configuration cannot be used",
            args.config.file.display()
        );
        return Ok(ExitCode::from(1));
    };
    if args.json {
        let json = serde_json::to_string_pretty(&cfg).context("serialising the model")?;
        println!("{json}");
    }
    let s = cfg.summary();
    let line = format!(
        "{}: OK: {} VRRP instance(s), {} sync group(s), {} virtual server(s), {} real server(s), {} checker(s); {warnings} warning(s)",
        args.config.file.display(),
        s.instances,
        s.sync_groups,
        s.virtual_servers,
        s.real_servers,
        s.checkers
    );
    if args.json {
        eprintln!("{line}");
    } else {
        println!("{line}");
    }
    Ok(ExitCode::SUCCESS)
}

fn duration(secs: Option<f64>) -> anyhow::Result<Option<std::time::Duration>> {
    secs.map(|s| {
        holdfast_sim::scenario::seconds(s)
            .filter(|d| !d.is_zero())
            .ok_or_else(|| anyhow::anyhow!("--duration must be a positive number of seconds"))
    })
    .transpose()
}

/// A scenario file whose configurations are read as `check` and `run`
/// read them.
fn scenario_source(
    path: &std::path::Path,
    unimplemented: &Unimplemented,
) -> anyhow::Result<holdfast_sim::Source> {
    let mut source = holdfast_sim::Source::read(path)?;
    source.files.ignore_unimplemented = unimplemented.ignore_unimplemented;
    Ok(source)
}

fn sim(args: SimArgs) -> anyhow::Result<ExitCode> {
    let opts = holdfast_sim::Options {
        seed: args.seed,
        duration: duration(args.duration)?,
        trace: args.trace.is_some(),
        swarm: args.swarm,
        generate: args.generate,
        ..holdfast_sim::Options::default()
    };
    let source = scenario_source(&args.scenario, &args.unimplemented)?;
    let report = holdfast_sim::run(&source, &opts)?;
    if let (Some(path), Some(trace)) = (&args.trace, &report.trace) {
        std::fs::write(path, trace).with_context(|| format!("writing {}", path.display()))?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.summary());
    }
    Ok(if report.violations.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn sweep(args: SweepArgs) -> anyhow::Result<ExitCode> {
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let bar = indicatif::ProgressBar::new(args.seeds);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} seeds {elapsed} (eta {eta})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let source = scenario_source(&args.scenario, &args.unimplemented)?;
    let report = holdfast_sim::swarm::sweep(
        &source,
        args.first_seed,
        args.seeds,
        jobs,
        &holdfast_sim::Options {
            duration: duration(args.duration)?,
            generate: args.generate,
            ..holdfast_sim::Options::default()
        },
        &|done| bar.set_position(done),
    )?;
    // The bar keeps the wall clock (the simulator never reads it).
    let elapsed = bar.elapsed();
    bar.finish_and_clear();
    let events: u64 = report.runs.iter().map(|r| r.events).sum();
    println!(
        "{}: {} seeds from {} in {:.2} s on {jobs} thread(s), {events} events",
        args.scenario.display(),
        args.seeds,
        args.first_seed,
        elapsed.as_secs_f64()
    );
    let width = report
        .stats
        .iter()
        .map(|s| s.incident.len())
        .max()
        .unwrap_or(8)
        .max(8);
    println!(
        "{:width$}  {:21}  {:>5}  {:>10}  {:>10}  {:>10}",
        "incident", "figure (s)", "n", "p50", "p99", "max"
    );
    for s in &report.stats {
        println!(
            "{:width$}  {:21}  {:>5}  {:>10.6}  {:>10.6}  {:>10.6}",
            s.incident, s.metric, s.n, s.p50, s.p99, s.max
        );
    }
    if let Some(path) = &args.out {
        let json = serde_json::to_string(&report)?;
        std::fs::write(path, json).with_context(|| format!("writing {}", path.display()))?;
    }
    let failing: Vec<_> = report.failing().collect();
    if failing.is_empty() {
        println!("invariants: all held in every seed");
        return Ok(ExitCode::SUCCESS);
    }
    println!("invariants: violated in {} seed(s)", failing.len());
    let mut dur = args
        .duration
        .map(|d| format!(" --duration {d}"))
        .unwrap_or_default();
    if args.unimplemented.ignore_unimplemented {
        dur.push_str(" --ignore-unimplemented");
    }
    if args.generate {
        dur.push_str(" --generate");
    }
    for r in failing {
        println!(
            "seed {}: replay with: holdfast sim {} --seed {} --swarm{dur}",
            r.seed,
            args.scenario.display(),
            r.seed
        );
        for v in &r.violations {
            print!("  {v}");
        }
    }
    Ok(ExitCode::from(1))
}

fn report(args: ReportArgs) -> anyhow::Result<ExitCode> {
    use holdfast_reports::Input;
    let (records, mut sweep) = match holdfast_reports::read_input(&args.input)? {
        Input::Trace(r) => (Some(r), None),
        Input::Sweep(s) => (None, Some(s)),
    };
    if let Some(path) = &args.sweep {
        if sweep.is_some() {
            anyhow::bail!(
                "{} is already a sweep: --sweep adds one to a trace",
                args.input.display()
            );
        }
        match holdfast_reports::read_input(path)? {
            Input::Sweep(s) => sweep = Some(s),
            Input::Trace(_) => anyhow::bail!("{}: not a sweep", path.display()),
        }
    }
    let title = format!("holdfast report: {}", args.input.display());
    let written = holdfast_reports::write(&args.out, &title, records.as_deref(), sweep.as_ref())?;
    println!("{}", written.html.display());
    Ok(ExitCode::SUCCESS)
}

fn genhash(args: GenhashArgs) -> anyhow::Result<ExitCode> {
    use holdfast_core::config::model::{HttpProtocol, SslSettings};
    use holdfast_runtime::genhash;
    let protocol = match args.protocol.to_ascii_lowercase().as_str() {
        "1.0" => HttpProtocol::Http10,
        "1.0c" => HttpProtocol::Http10Close,
        "1.1" => HttpProtocol::Http11,
        other => anyhow::bail!("-P {other}: expected 1.0, 1.0c or 1.1"),
    };
    let req = genhash::Request {
        server: args.server,
        port: args.port,
        path: args.url,
        ssl: args.ssl,
        sni: args.sni,
        virtualhost: args.virtualhost,
        protocol,
        fwmark: args.fwmark,
        timeout: std::time::Duration::from_secs(args.timeout.max(1)),
        tls: args.ca.map(|ca| SslSettings {
            ca: Some(ca),
            ..SslSettings::default()
        }),
    };
    let got = genhash::fetch_blocking(&req).map_err(|e| anyhow::anyhow!("{e}"))?;
    if args.verbose {
        println!("----------------------- HTTP header -----------------------");
        println!("{}\n", got.headers());
        println!(
            "----------------------- hashed body ({} bytes) -----------------------",
            got.body().len()
        );
        print!("{}", genhash::hex_dump(got.body()));
        println!("----------------------- MD5 digest -----------------------");
    }
    println!("{}", got.digest);
    Ok(ExitCode::SUCCESS)
}

fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_new(&args.log).context("--log")?)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .init();
    let opts = holdfast_runtime::Options {
        config: args.config.file,
        config_id: args.config.config_id.or_else(default_config_id),
        dump: args.dump,
        trace: args.trace,
        data_plane: args.data_plane,
        repair_interval: std::time::Duration::try_from_secs_f64(args.repair_interval)
            .ok()
            .filter(|d| !d.is_zero())
            .context("--repair-interval: a positive number of seconds")?,
        keep_lvs: args.dont_release_ipvs,
        ssl_verify: args.ssl_verify,
        ignore_unimplemented: args.config.unimplemented.ignore_unimplemented,
    };
    match holdfast_runtime::run(opts) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) => {
            eprintln!("holdfast: {e}");
            Ok(ExitCode::from(1))
        }
    }
}
