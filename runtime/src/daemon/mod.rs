//! The daemon: core's node driven by the [`Driver`] loop over the real
//! machine ([`system::System`]: raw VRRP sockets, rtnetlink, probes,
//! scripts, mail, signals, the data plane). It decides nothing itself
//! (docs/architecture.md, "The sans-IO contract" and "The daemon"): the
//! kernel side only reports and carries out, and every reaction comes from
//! the node.
//!
//! - `driver.rs`: the loop, time and arrival order, the drain, reload,
//!   dumps and the stop (generic over the kernel);
//! - `kernel.rs`: what the loop needs from the machine (the [`Kernel`]
//!   trait), so a test can run the same loop over a recording fake;
//! - `config.rs`: reading the configuration as `run` does;
//! - `system/`: the production kernel (start-up, netlink, effects,
//!   signals).

mod config;
mod driver;
mod kernel;
mod system;

pub use config::{host_name, load};
pub use driver::{stats_path, Driver};
pub use kernel::{Arrival, Kernel, Signal, Wake};

use std::path::PathBuf;
use std::time::Duration;

use crate::dataplane::worker::Choice;

/// How to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// The configuration file.
    pub config: PathBuf,
    /// Config id for `@ID` lines.
    pub config_id: Option<String>,
    /// Where SIGUSR1 writes the state (JSON).
    pub dump: PathBuf,
    /// Write trace records (JSON lines) here.
    pub trace: Option<PathBuf>,
    /// Which data plane programs the LVS table.
    pub data_plane: Choice,
    /// How often the kernel's table is read back and drift repaired.
    pub repair_interval: Duration,
    /// Leave the LVS table in the kernel on stop (keepalived's
    /// `--dont-release-ipvs`).
    pub keep_lvs: bool,
    /// SSL_GET checks certificates against the `SSL` block's `ca`
    /// (keepalived never does).
    pub ssl_verify: bool,
    /// Run without the features holdfast does not implement, instead of
    /// refusing the configuration (`--ignore-unimplemented`).
    pub ignore_unimplemented: bool,
}

/// Why the daemon could not start or go on.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// The configuration has errors.
    #[error("{0}")]
    Config(String),
    /// The system refused something the daemon needs.
    #[error("{0}")]
    System(String),
}

fn sys(what: &str) -> impl Fn(std::io::Error) -> DaemonError + '_ {
    move |e| DaemonError::System(format!("{what}: {e}"))
}

/// Runs the daemon until SIGTERM, SIGINT or SIGQUIT.
pub fn run(opts: Options) -> Result<(), DaemonError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(sys("tokio"))?;
    rt.block_on(async move {
        let config = load(&opts)?;
        let (system, interfaces, addresses) = system::System::start(&opts).await?;
        let seed = crate::clock::monotonic_ns() ^ u64::from(std::process::id());
        let driver = Driver::start(system, opts, config, &interfaces, &addresses, seed)?;
        crate::notify::ready();
        driver.serve().await
    })
}
