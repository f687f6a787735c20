//! The driver loop: the one place where time and inputs reach core and
//! outputs leave it. Generic over the [`Kernel`], so the production daemon
//! and a test's recording fake run the same loop, line for line.
//!
//! One turn of the loop:
//! 1. every timer that is due fires, each after the inputs the kernel
//!    received before its deadline (an advert that came in time resets a
//!    master-down timer, however late it was read), then a drain;
//! 2. an input taken early and put back (`stash`) goes next;
//! 3. the loop waits for the kernel: the next deadline, an input or a
//!    signal; then it drains again.
//!
//! Core's time is the kernel's clock, or a packet's receive time, and never
//! runs backwards. A drain takes core's outputs in core's order (`Node`,
//! "Driving a node"), writes each one's trace record stamped with the time
//! core acted on, and has the kernel carry it out.

use std::io::Write as _;

use holdfast_core::config::model::Config;
use holdfast_core::node::{Interface, Output};
use holdfast_core::time::Instant;
use holdfast_core::trace::{self, Kind, Record};
use holdfast_core::Node;
use tracing::{error, info, warn};

use super::config::load;
use super::kernel::{Arrival, Kernel, Signal, Wake};
use super::{sys, DaemonError, Options};

/// Inputs taken ahead of a due timer in one turn, at most: a flood cannot
/// hold the timer back.
const AHEAD: usize = 64;

/// Where SIGUSR2 writes the statistics: the dump's path with the
/// extension `stats` (`/run/holdfast.json` → `/run/holdfast.stats`).
pub fn stats_path(dump: &std::path::Path) -> std::path::PathBuf {
    dump.with_extension("stats")
}

/// Logs the trackers core dropped because their interface does not exist.
fn warn_untracked(node: &Node) {
    for (instance, interface) in node.untracked() {
        warn!(
            "({instance}) tracked interface {interface} doesn't exist: not tracked, as keepalived"
        );
    }
}

/// Core's node, driven over a kernel.
pub struct Driver<K: Kernel> {
    opts: Options,
    config: Config,
    node: Node,
    kernel: K,
    /// The latest time handed to core: a packet's receive time may be
    /// older than an event core already saw, and core's time never runs
    /// backwards.
    fed: Instant,
    /// An input taken from the kernel early and put back (see
    /// `take_arrived_before`).
    stash: Option<Arrival>,
    trace: Option<std::io::BufWriter<std::fs::File>>,
}

impl<K: Kernel> Driver<K> {
    /// Builds the node from `config` over the kernel's interfaces (and
    /// every address they had at start), opens what the instances need and writes
    /// the start record. `seed` drives core's random parts (the checkers'
    /// warmup).
    pub fn start(
        mut kernel: K,
        opts: Options,
        config: Config,
        interfaces: &[Interface],
        addresses: &[(String, std::net::IpAddr)],
        seed: u64,
    ) -> Result<Driver<K>, DaemonError> {
        let trace = match &opts.trace {
            Some(p) => Some(std::io::BufWriter::new(
                std::fs::File::create(p).map_err(sys("trace file"))?,
            )),
            None => None,
        };
        let now = kernel.now();
        let mut node = Node::with_seed(now, &config, interfaces, seed)
            .map_err(|e| DaemonError::Config(e.to_string()))?;
        // Every address the interfaces have: core removes the virtual
        // addresses a crashed run left, and picks an instance's next
        // source among the others if its primary goes.
        for (interface, address) in addresses {
            node.handle(
                now,
                holdfast_core::node::Input::Found {
                    interface: interface.clone(),
                    address: *address,
                },
            );
        }
        kernel.configure(&config)?;
        warn_untracked(&node);
        let mut d = Driver {
            opts,
            config,
            node,
            kernel,
            fed: now,
            stash: None,
            trace,
        };
        let config = d.opts.config.display().to_string();
        d.record(now, Kind::Start { config });
        info!(
            "started: {} VRRP instance(s), {} virtual server(s)",
            d.config.instances.len(),
            d.config.virtual_servers.len()
        );
        Ok(d)
    }

    /// Runs until a stop signal, then stops in order.
    pub async fn serve(mut self) -> Result<(), DaemonError> {
        loop {
            // Timers that are due run before anything newer, so a flood of
            // packets cannot starve a Master's adverts.
            while let Some(due) = self.due() {
                self.take_arrived_before(due).await;
                if self.due().is_some() {
                    let now = self.time_of(None);
                    self.node.handle_timeout(now);
                }
                self.drain().await;
            }
            self.drain().await;
            if let Some((input, arrived)) = self.stash.take() {
                let at = self.time_of(arrived);
                self.node.handle(at, input);
                continue;
            }
            self.kernel.reap();
            match self.kernel.next(self.node.poll_timeout()).await? {
                Wake::Timer => {
                    let now = self.time_of(None);
                    self.node.handle_timeout(now);
                }
                Wake::Input((input, arrived)) => {
                    let at = self.time_of(arrived);
                    self.node.handle(at, input);
                }
                Wake::Signal(Signal::Stop(why)) => return self.shutdown(why).await,
                Wake::Signal(Signal::Reload) => self.reload(),
                Wake::Signal(Signal::Dump) => self.dump(),
                Wake::Signal(Signal::Stats { clear }) => self.write_stats(clear),
                Wake::Signal(Signal::Ignored(n)) => info!("signal {n} ignored"),
            }
        }
    }

    /// The node's next deadline, if it has come.
    fn due(&self) -> Option<Instant> {
        self.node.poll_timeout().filter(|t| *t <= self.kernel.now())
    }

    /// Core's time for an input: when the kernel received it if it said
    /// (between the last time core got and now), else now. Only times
    /// handed to core raise the floor, so an advert that waited in the
    /// queue while the loop was busy still counts from its arrival.
    fn time_of(&mut self, arrived: Option<Instant>) -> Instant {
        let now = self.kernel.now().max(self.fed);
        let t = arrived.map_or(now, |a| a.clamp(self.fed, now));
        self.fed = t;
        t
    }

    /// Before a due timer fires: inputs that the kernel received before its
    /// deadline go first. At most [`AHEAD`] a turn; the first later one
    /// waits in `stash`.
    async fn take_arrived_before(&mut self, due: Instant) {
        // The socket readers get to hand over what the kernel holds.
        tokio::task::yield_now().await;
        for _ in 0..AHEAD {
            let Some(ev) = self.stash.take().or_else(|| self.kernel.try_next()) else {
                return;
            };
            match ev.1 {
                Some(a) if a <= due => {
                    let at = self.time_of(ev.1);
                    self.node.handle(at, ev.0);
                }
                _ => {
                    self.stash = Some(ev);
                    return;
                }
            }
        }
    }

    /// Carries out everything the node asked for, in the node's order,
    /// each output's trace record first; then hands the kernel the LVS
    /// table if it changed.
    async fn drain(&mut self) {
        let mut table_changed = false;
        while let Some((at, o, kind)) = self.node.poll_traced() {
            if let Some(k) = kind {
                self.record(at, k);
            }
            table_changed |= matches!(o, Output::Lvs(_));
            if let Some(answer) = self.kernel.carry_out(o).await {
                let now = self.time_of(None);
                self.node.handle(now, answer);
            }
        }
        if table_changed {
            self.kernel.apply_table(self.node.lvs_table());
        }
    }

    /// Writes one trace record (`--trace`) stamped `at`: for an output,
    /// the time core raised it.
    fn record(&mut self, at: Instant, kind: Kind) {
        let Some(w) = &mut self.trace else {
            return;
        };
        let r = Record {
            t_ns: at.as_nanos(),
            host: self
                .config
                .global
                .router_id
                .clone()
                .unwrap_or_else(|| "holdfast".into()),
            kind,
        };
        if let Err(e) = trace::write(w, &r).and_then(|_| w.flush()) {
            warn!("trace: {e}");
        }
    }

    /// SIGHUP: a configuration with errors is refused and the running one
    /// kept; a good one is applied without disturbing unchanged instances.
    fn reload(&mut self) {
        info!("reloading {}", self.opts.config.display());
        let refused = self.take_new_file();
        let now = self.time_of(None);
        let kind = match refused {
            Ok(()) => Kind::Reload {
                ok: true,
                detail: self.opts.config.display().to_string(),
            },
            Err(detail) => {
                error!("reload refused, still running the previous configuration: {detail}");
                Kind::Reload { ok: false, detail }
            }
        };
        self.record(now, kind);
    }

    /// Reads the file again and hands it to the kernel, then to core; an
    /// error refuses it whole.
    fn take_new_file(&mut self) -> Result<(), String> {
        let cfg = load(&self.opts).map_err(|e| e.to_string())?;
        // The kernel first: a file whose interfaces cannot be opened is
        // refused before core changes anything (never half applied).
        self.kernel.configure(&cfg).map_err(|e| e.to_string())?;
        let now = self.time_of(None);
        let ifaces = self.kernel.interfaces();
        if let Err(e) = self.node.reload(now, &cfg, &ifaces) {
            // Back to what the running configuration needs.
            if let Err(e) = self.kernel.configure(&self.config) {
                error!("restoring the running configuration's sockets: {e}");
            }
            return Err(e.to_string());
        }
        warn_untracked(&self.node);
        self.config = cfg;
        Ok(())
    }

    /// SIGUSR1 or SIGJSON: the node's status as JSON, written whole then
    /// renamed, so a reader never sees half a file.
    fn dump(&self) {
        let status = self.node.status();
        let tmp = self.opts.dump.with_extension("tmp");
        let result = serde_json::to_value(&status)
            .and_then(|mut v| {
                v["data_plane"] = self.kernel.data_plane();
                serde_json::to_vec_pretty(&v)
            })
            .map_err(std::io::Error::other)
            .and_then(|j| std::fs::write(&tmp, j))
            .and_then(|()| std::fs::rename(&tmp, &self.opts.dump));
        match result {
            Ok(()) => info!("state written to {}", self.opts.dump.display()),
            Err(e) => error!("writing {}: {e}", self.opts.dump.display()),
        }
    }

    /// SIGUSR2: keepalived's statistics file, beside the dump (`--dump`
    /// with the extension `stats`), written whole then renamed;
    /// SIGSTATS_CLEAR zeroes the counters after writing them, as
    /// keepalived does.
    fn write_stats(&mut self, clear: bool) {
        let text = self.node.stats_file();
        let path = stats_path(&self.opts.dump);
        let tmp = path.with_extension("stats.tmp");
        let result = std::fs::write(&tmp, text).and_then(|()| std::fs::rename(&tmp, &path));
        match result {
            Ok(()) => {
                info!("statistics written to {}", path.display());
                // keepalived zeroes only what it could write out.
                if clear {
                    self.node.clear_stats();
                }
            }
            Err(e) => error!("writing {}: {e}", path.display()),
        }
    }

    /// SIGTERM, SIGINT, SIGQUIT: Masters send priority 0 and drop their
    /// addresses, the kernel lets go of the rest, then the process ends.
    async fn shutdown(mut self, why: &str) -> Result<(), DaemonError> {
        self.kernel.stopping();
        // Priority 0 first: the log line can wait a few microseconds.
        let now = self.time_of(None);
        self.node.handle(now, holdfast_core::node::Input::Shutdown);
        self.drain().await;
        let now = self.time_of(None);
        self.record(now, Kind::Stop { reason: why.into() });
        info!("{why}: stopping");
        self.kernel.stop().await;
        info!("stopped");
        Ok(())
    }
}
