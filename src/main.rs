//! The `holdfast` command line: it parses arguments and hands the work to the
//! library crates. No protocol logic lives here.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use holdfast_core::config::{self, FsLoader, LoadOptions, Severity};

// mimalloc: large configurations allocate many small values.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// keepalived-compatible VRRP failover and LVS health checking.
#[derive(Debug, Parser)]
#[command(name = "holdfast", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check a keepalived.conf: every error and warning with its place, then a summary.
    Check(CheckArgs),
    /// Run the director: VRRP on the real interfaces, in the foreground (SIGTERM stops, SIGHUP reloads, SIGUSR1 dumps state).
    Run(RunArgs),
    /// Simulate a scenario: print each incident's figures and the invariant verdict.
    Sim(SimArgs),
    /// Simulate a scenario over many seeds with randomised faults and network (swarm testing).
    Sweep(SweepArgs),
    /// Plot a trace or a sweep: timeline, distributions and an HTML page.
    Report(ReportArgs),
    /// Simulate the case study, sweep it, and write the report: the first thing to run.
    Demo(DemoArgs),
    /// Fetch a url as HTTP_GET / SSL_GET do and print the digest for its `digest` line (keepalived's genhash).
    Genhash(GenhashArgs),
}

#[derive(Debug, Args)]
struct GenhashArgs {
    /// Server address.
    #[arg(short = 's', long)]
    server: std::net::IpAddr,
    /// Server port.
    #[arg(short = 'p', long)]
    port: u16,
    /// Path of the url.
    #[arg(short = 'u', long)]
    url: String,
    /// Over TLS, as SSL_GET.
    #[arg(short = 'S', long)]
    ssl: bool,
    /// SNI name to send (with -S).
    #[arg(short = 'I', long)]
    sni: Option<String>,
    /// Host header (virtualhost).
    #[arg(short = 'V', long)]
    virtualhost: Option<String>,
    /// HTTP protocol: 1.0, 1.0c (Connection: close) or 1.1.
    #[arg(short = 'P', long, default_value = "1.0")]
    protocol: String,
    /// Seconds to wait for the whole answer.
    #[arg(short = 't', long, default_value_t = 5)]
    timeout: u64,
    /// fwmark for the connection's packets.
    #[arg(short = 'm', long)]
    fwmark: Option<u32>,
    /// Trust only this CA (PEM) and check the certificate (default: any, as keepalived).
    #[arg(long)]
    ca: Option<String>,
    /// Show the header and the hashed body.
    #[arg(short = 'v', long)]
    verbose: bool,
}

#[derive(Debug, Args)]
struct ReportArgs {
    /// A trace (`holdfast sim --trace`) or a sweep (`holdfast sweep --out`).
    input: PathBuf,
    /// A sweep to add to a trace's report.
    #[arg(long)]
    sweep: Option<PathBuf>,
    /// Directory to write the report into.
    #[arg(short, long)]
    out: PathBuf,
}

#[derive(Debug, Args)]
struct DemoArgs {
    /// Directory to write the report into.
    #[arg(short, long, default_value = "target/holdfast-demo")]
    out: PathBuf,
    /// Seeds in the demo's sweep.
    #[arg(long, default_value_t = 200)]
    seeds: u64,
}

#[derive(Debug, Args)]
struct RunArgs {
    /// The configuration file.
    #[arg(
        short = 'f',
        long = "use-file",
        default_value = "/etc/keepalived/keepalived.conf"
    )]
    file: PathBuf,
    /// Config id for `@ID` lines (default: the short host name).
    #[arg(short = 'i', long)]
    config_id: Option<String>,
    /// Where SIGUSR1 writes the state, as JSON.
    #[arg(long, default_value = "/run/holdfast.json")]
    dump: PathBuf,
    /// Write trace records (JSON lines, as `holdfast sim --trace`) here.
    #[arg(long)]
    trace: Option<PathBuf>,
    /// Log level filter (tracing's syntax: info, debug, holdfast_runtime=debug...).
    #[arg(long, default_value = "info")]
    log: String,
    /// Data plane for virtual_server tables: auto (IPVS if the kernel has
    /// it, else nftables), ipvs, nftables or none.
    #[arg(long, default_value = "auto")]
    data_plane: holdfast_runtime::dataplane::worker::Choice,
    /// Seconds between reads of the kernel's table that repair drift.
    #[arg(long, default_value_t = 5.0)]
    repair_interval: f64,
    /// Leave the LVS table in the kernel on stop (as keepalived's -I).
    #[arg(short = 'I', long = "dont-release-ipvs")]
    dont_release_ipvs: bool,
    /// SSL_GET checks certificates against the SSL block's `ca` and the
    /// server's name (keepalived never checks them).
    #[arg(long)]
    ssl_verify: bool,
}

#[derive(Debug, Args)]
struct SimArgs {
    /// The scenario file (JSON; see scenarios/README.md).
    scenario: PathBuf,
    /// Seed (default: the scenario's).
    #[arg(long)]
    seed: Option<u64>,
    /// Write the trace (JSON lines) here.
    #[arg(long)]
    trace: Option<PathBuf>,
    /// Simulated seconds (default: the scenario's).
    #[arg(long)]
    duration: Option<f64>,
    /// Vary fault timing and network conditions from the seed, as `sweep` does.
    #[arg(long)]
    swarm: bool,
    /// Print the report as JSON instead of the table.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct SweepArgs {
    /// The scenario file.
    scenario: PathBuf,
    /// How many seeds.
    #[arg(long, default_value_t = 100)]
    seeds: u64,
    /// The first seed.
    #[arg(long, default_value_t = 1)]
    first_seed: u64,
    /// Threads (default: the machine's cores).
    #[arg(long)]
    jobs: Option<usize>,
    /// Simulated seconds per seed (default: the scenario's).
    #[arg(long)]
    duration: Option<f64>,
    /// Write the whole sweep (every seed's incidents) as JSON here.
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct CheckArgs {
    /// The configuration file.
    #[arg(
        short = 'f',
        long = "use-file",
        default_value = "/etc/keepalived/keepalived.conf"
    )]
    file: PathBuf,
    /// Config id that `@ID` lines are compared with (default: the short host name, as keepalived).
    #[arg(short = 'i', long)]
    config_id: Option<String>,
    /// Treat every warning as an error.
    #[arg(long)]
    strict: bool,
    /// Print the typed model as JSON on standard output.
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check(args) => check(args),
        Command::Run(args) => run(args),
        Command::Sim(args) => sim(args),
        Command::Sweep(args) => sweep(args),
        Command::Report(args) => report(args),
        Command::Demo(args) => demo(args),
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
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").ok()?;
    let short = name.trim().split('.').next()?.to_string();
    (!short.is_empty()).then_some(short)
}

fn check(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let opts = LoadOptions {
        config_id: args.config_id.or_else(default_config_id),
        strict: args.strict,
    };
    let loaded = config::load(&args.file, &FsLoader, &opts);
    eprint!("{}", loaded.render());
    let errors = loaded.diagnostics.count(Severity::Error);
    let warnings = loaded.diagnostics.count(Severity::Warning);
    let Some(cfg) = loaded.config else {
        eprintln!(
            "{}: {errors} error(s), {warnings} warning(s); the configuration cannot be used",
            args.file.display()
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
        args.file.display(),
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

fn sim(args: SimArgs) -> anyhow::Result<ExitCode> {
    let opts = holdfast_sim::Options {
        seed: args.seed,
        duration: duration(args.duration)?,
        trace: args.trace.is_some(),
        swarm: args.swarm,
    };
    let report = holdfast_sim::run_file(&args.scenario, &opts)?;
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
    let report = holdfast_sim::swarm::sweep(
        &args.scenario,
        args.first_seed,
        args.seeds,
        jobs,
        duration(args.duration)?,
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
    let dur = args
        .duration
        .map(|d| format!(" --duration {d}"))
        .unwrap_or_default();
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

/// The case study's scenario: beside the working directory (a clone's
/// root, where `cargo run` starts) or where this binary was built from.
fn case_study_scenario() -> anyhow::Result<PathBuf> {
    let candidates = [
        PathBuf::from("scenarios/case-study.json"),
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios/case-study.json"),
    ];
    candidates.into_iter().find(|p| p.exists()).ok_or_else(|| {
        anyhow::anyhow!(
            "scenarios/case-study.json not found: run the demo from a holdfast checkout"
        )
    })
}

fn demo(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let scenario = case_study_scenario()?;
    let opts = holdfast_sim::Options {
        trace: true,
        ..holdfast_sim::Options::default()
    };
    let report = holdfast_sim::run_file(&scenario, &opts)?;
    print!("{}", report.summary());
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let Some(trace_bytes) = report.trace.clone() else {
        anyhow::bail!("the simulation wrote no trace");
    };
    let trace_path = args.out.join("trace.jsonl");
    std::fs::write(&trace_path, &trace_bytes)
        .with_context(|| format!("writing {}", trace_path.display()))?;
    let records = holdfast_core::trace::read(&trace_bytes[..])?;
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
    let sweep = holdfast_sim::swarm::sweep(&scenario, 1, args.seeds, jobs, None, &|_| {})?;
    let sweep_path = args.out.join("sweep.json");
    std::fs::write(&sweep_path, serde_json::to_string(&sweep)?)
        .with_context(|| format!("writing {}", sweep_path.display()))?;
    // The report reads the sweep as any sweep file is read.
    let holdfast_reports::Input::Sweep(figures) = holdfast_reports::read_input(&sweep_path)? else {
        anyhow::bail!("{}: not a sweep", sweep_path.display());
    };
    let failing = sweep.failing().count();
    println!(
        "sweep: {} seeds with randomised fault timing, loss, delay and jitter; invariants violated in {failing}",
        args.seeds
    );
    let title = format!("holdfast demo: {}", scenario.display());
    let written = holdfast_reports::write(&args.out, &title, Some(&records), Some(&figures))?;
    println!("report: {}", written.html.display());
    Ok(if report.violations.is_empty() && failing == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
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
        config: args.file,
        config_id: args.config_id.or_else(default_config_id),
        dump: args.dump,
        trace: args.trace,
        data_plane: args.data_plane,
        repair_interval: std::time::Duration::try_from_secs_f64(args.repair_interval)
            .ok()
            .filter(|d| !d.is_zero())
            .context("--repair-interval: a positive number of seconds")?,
        keep_lvs: args.dont_release_ipvs,
        ssl_verify: args.ssl_verify,
    };
    match holdfast_runtime::run(opts) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) => {
            eprintln!("holdfast: {e}");
            Ok(ExitCode::from(1))
        }
    }
}
