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
