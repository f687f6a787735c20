//! The command line's definition: every subcommand, flag and help text.
//! `src/main.rs` acts on it; `tests/dist.rs` generates the man pages and
//! shell completions under `dist/` from it, so they cannot drift.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// keepalived-compatible VRRP failover and LVS health checking.
///
/// holdfast reads the keepalived.conf a director runs today. `holdfast run`
/// moves its virtual addresses with VRRP (v2 and v3, pairing with keepalived
/// on the wire), health-checks its real servers and programs the LVS table
/// into IPVS or nftables. `holdfast sim` and `holdfast sweep` run the same
/// logic on a simulated network, with crashes, partitions and server faults,
/// and check the failover invariants; `holdfast report` plots the result.
///
/// Files: /etc/keepalived/keepalived.conf (the default configuration, never
/// written by holdfast); /etc/default/holdfast (the options the systemd unit
/// passes to `holdfast run`, among them `--dump /run/holdfast/state.json`);
/// /run/holdfast.json (the SIGUSR1 state dump when no --dump is given).
///
/// Exit status: 0 on success; 1 when `check` finds errors, `sim`, `sweep`
/// or `demo` sees an invariant violated, or the daemon fails; 2 on a usage
/// error, an unreadable file, or a scenario or configuration that cannot
/// be simulated.
#[derive(Debug, Parser)]
#[command(name = "holdfast", version)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check a keepalived.conf: every error and warning with its place, then a summary.
    Check(CheckArgs),
    /// Run the director: VRRP on the real interfaces, in the foreground (SIGTERM stops, SIGHUP reloads, SIGUSR1 dumps state).
    ///
    /// Signals: SIGHUP reloads the configuration (a file with errors is
    /// refused and the running state kept); SIGTERM or SIGINT makes each
    /// Master send priority 0, remove its addresses and exit; SIGUSR1 writes
    /// the state as JSON to --dump.
    Run(RunArgs),
    /// Simulate a scenario: print each incident's figures and the invariant verdict.
    Sim(SimArgs),
    /// Simulate a scenario over many seeds with randomised faults and network (swarm testing).
    Sweep(SweepArgs),
    /// Plot a trace or a sweep: timeline, distributions and an HTML page.
    Report(ReportArgs),
    /// Simulate the case study, sweep it, and write the report: the first thing to run.
    ///
    /// The case study (two directors with two sync groups; an HTTP service
    /// checked with HTTP_GET and an HTTPS one checked with TCP_CHECK) is
    /// compiled in: the demo needs no file. It writes the
    /// report, the trace, the sweep, the scenario and its two configurations
    /// into the output directory and prints the page's path.
    Demo(DemoArgs),
    /// Fetch a url as HTTP_GET / SSL_GET do and print the digest for its `digest` line (keepalived's genhash).
    Genhash(GenhashArgs),
}

#[derive(Debug, Args)]
pub struct GenhashArgs {
    /// Server address.
    #[arg(short = 's', long)]
    pub server: std::net::IpAddr,
    /// Server port.
    #[arg(short = 'p', long)]
    pub port: u16,
    /// Path of the url.
    #[arg(short = 'u', long)]
    pub url: String,
    /// Over TLS, as SSL_GET.
    #[arg(short = 'S', long)]
    pub ssl: bool,
    /// SNI name to send (with -S).
    #[arg(short = 'I', long)]
    pub sni: Option<String>,
    /// Host header (virtualhost).
    #[arg(short = 'V', long)]
    pub virtualhost: Option<String>,
    /// HTTP protocol: 1.0, 1.0c (Connection: close) or 1.1.
    #[arg(short = 'P', long, default_value = "1.0")]
    pub protocol: String,
    /// Seconds to wait for the whole answer.
    #[arg(short = 't', long, default_value_t = 5)]
    pub timeout: u64,
    /// fwmark for the connection's packets.
    #[arg(short = 'm', long)]
    pub fwmark: Option<u32>,
    /// Trust only this CA (PEM) and check the certificate (default: any, as keepalived).
    #[arg(long)]
    pub ca: Option<String>,
    /// Show the header and the hashed body.
    #[arg(short = 'v', long)]
    pub verbose: bool,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A trace (`holdfast sim --trace`) or a sweep (`holdfast sweep --out`).
    pub input: PathBuf,
    /// A sweep to add to a trace's report.
    #[arg(long)]
    pub sweep: Option<PathBuf>,
    /// Directory to write the report into.
    #[arg(short, long)]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Directory to write the report into (created if missing).
    #[arg(short, long, default_value = "holdfast-demo")]
    pub out: PathBuf,
    /// Seeds in the demo's sweep.
    #[arg(long, default_value_t = 200)]
    pub seeds: u64,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub config: ConfigFile,
    /// Where SIGUSR1 writes the state, as JSON.
    #[arg(long, default_value = "/run/holdfast.json")]
    pub dump: PathBuf,
    /// Write trace records (JSON lines, as `holdfast sim --trace`) here.
    #[arg(long)]
    pub trace: Option<PathBuf>,
    /// Log level filter (tracing's syntax: info, debug, holdfast_runtime=debug...).
    #[arg(long, default_value = "info")]
    pub log: String,
    /// Data plane for virtual_server tables: auto (IPVS if the kernel has
    /// it, else nftables), ipvs, nftables or none.
    #[arg(long, default_value = "auto")]
    pub data_plane: holdfast_runtime::dataplane::worker::Choice,
    /// Seconds between reads of the kernel's table that repair drift.
    #[arg(long, default_value_t = 5.0)]
    pub repair_interval: f64,
    /// Leave the LVS table in the kernel on stop (as keepalived's -I).
    #[arg(short = 'I', long = "dont-release-ipvs")]
    pub dont_release_ipvs: bool,
    /// SSL_GET checks certificates against the SSL block's `ca` and the
    /// server's name (keepalived never checks them).
    #[arg(long)]
    pub ssl_verify: bool,
}

#[derive(Debug, Args)]
pub struct SimArgs {
    /// The scenario file (JSON; see scenarios/README.md).
    pub scenario: PathBuf,
    /// Seed (default: the scenario's).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Write the trace (JSON lines) here.
    #[arg(long)]
    pub trace: Option<PathBuf>,
    /// Simulated seconds (default: the scenario's).
    #[arg(long)]
    pub duration: Option<f64>,
    /// Vary fault timing and network conditions from the seed, as `sweep` does.
    #[arg(long)]
    pub swarm: bool,
    /// Replace the scenario's faults with a schedule generated from its
    /// topology, and vary the election settings, from the seed (as `sweep
    /// --generate` does).
    #[arg(long)]
    pub generate: bool,
    /// Print the report as JSON instead of the table.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub unimplemented: Unimplemented,
}

#[derive(Debug, Args)]
pub struct SweepArgs {
    /// The scenario file.
    pub scenario: PathBuf,
    /// How many seeds.
    #[arg(long, default_value_t = 100)]
    pub seeds: u64,
    /// The first seed.
    #[arg(long, default_value_t = 1)]
    pub first_seed: u64,
    /// Threads (default: the machine's cores).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Simulated seconds per seed (default: the scenario's).
    #[arg(long)]
    pub duration: Option<f64>,
    /// Generate each seed's fault schedule from the topology and vary the
    /// configurations' election settings, instead of shifting the
    /// scenario's own faults.
    #[arg(long)]
    pub generate: bool,
    /// Write the whole sweep (every seed's incidents) as JSON here.
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub unimplemented: Unimplemented,
}

/// Which keepalived.conf to read, and as which host: `-f` and `-i`, as
/// keepalived takes them.
#[derive(Debug, Args)]
pub struct ConfigFile {
    /// The configuration file.
    #[arg(
        short = 'f',
        long = "use-file",
        default_value = "/etc/keepalived/keepalived.conf"
    )]
    pub file: PathBuf,
    /// Config id that `@ID` lines are compared with (default: the short host name, as keepalived).
    #[arg(short = 'i', long)]
    pub config_id: Option<String>,
    #[command(flatten)]
    pub unimplemented: Unimplemented,
}

/// One switch for `check`, `run`, `sim` and `sweep`, so that all four read
/// a configuration alike.
#[derive(Debug, Args)]
pub struct Unimplemented {
    /// Run without the features holdfast does not implement yet (each is
    /// then a warning saying what will be missing) instead of refusing the
    /// configuration: those features will not work.
    #[arg(long)]
    pub ignore_unimplemented: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub config: ConfigFile,
    /// Treat every warning as an error.
    #[arg(long)]
    pub strict: bool,
    /// Print the typed model as JSON on standard output.
    #[arg(long)]
    pub json: bool,
}

/// The clap command, for the man pages and completions.
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}
