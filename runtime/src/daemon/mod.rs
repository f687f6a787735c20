//! The daemon: one tokio task that feeds `core::Node` its inputs with the
//! monotonic clock and carries out its outputs. It decides nothing itself
//! (docs/architecture.md, "The sans-IO contract" and "The daemon"):
//! sockets, netlink, probes and scripts only report, and every reaction
//! comes from the node.

mod arrival;
mod effects;
mod event_loop;
mod lifecycle;
mod netlink;
mod setup;
mod signals;

pub use setup::host_name;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use holdfast_core::config::model::{Config, VirtualIp};
use holdfast_core::node::Input;
use holdfast_core::time::Instant;
use holdfast_core::Node;
use tokio::sync::{mpsc, Semaphore};

use crate::announce::Announcer;
use crate::clock::Timer;
use crate::dataplane::worker::{Choice, Worker};
use crate::links::Link;
use crate::probes;
use crate::vrrp_socket::VrrpSocket;

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

/// Why the daemon could not start.
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

/// Notify scripts and alerts running at once, at most: a storm of state
/// changes must not pile up processes.
const MAX_SCRIPTS: usize = 32;
/// How long a notify script may run.
const NOTIFY_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs the daemon until SIGTERM or SIGINT.
pub fn run(opts: Options) -> Result<(), DaemonError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(sys("tokio"))?;
    rt.block_on(async move {
        let daemon = Daemon::start(opts).await?;
        daemon.serve().await
    })
}

/// An input for core, and when the kernel received it if it was a packet.
type Event = (Input, Option<u64>);

struct Daemon {
    opts: Options,
    config: Config,
    node: Node,
    origin: u64,
    handle: rtnetlink::Handle,
    links: Vec<Link>,
    sockets: BTreeMap<(String, bool), Arc<VrrpSocket>>,
    announcers: BTreeMap<String, Announcer>,
    /// Virtual addresses holdfast put on interfaces: (ifindex, address).
    held: BTreeMap<(u32, IpAddr), (String, VirtualIp)>,
    tx: mpsc::UnboundedSender<Event>,
    rx: mpsc::UnboundedReceiver<Event>,
    /// The latest time handed to core: a packet's kernel timestamp may be
    /// older than an event core already saw, and core's time never runs
    /// backwards.
    fed: std::cell::Cell<Instant>,
    timer: Timer,
    slots: Arc<Semaphore>,
    /// Notify scripts in flight: a stop waits for them (a bounded while),
    /// so notify_stop runs.
    tasks: tokio::task::JoinSet<()>,
    /// Alert mail in flight. A stop abandons what was sent before it (a
    /// mail stuck on an unreachable relay must not hold the exit up) and
    /// waits, with the scripts, for the alerts the stop itself raises.
    mails: tokio::task::JoinSet<()>,
    trace: Option<std::io::BufWriter<std::fs::File>>,
    /// What probes share: TLS settings, script user and security.
    probe_env: probes::ProbeEnv,
    /// The data plane's thread, from the first LVS table on.
    dataplane: Option<Worker>,
    /// The LVS table changed in the last drain: hand it over.
    lvs_changed: bool,
    /// An input taken from the queue early and put back (see
    /// `take_arrived_before`).
    stash: Option<Event>,
}
