//! Reload (SIGHUP), the state dump (SIGUSR1, SIGJSON), keepalived's
//! statistics file (SIGUSR2, SIGSTATS_CLEAR), and the orderly stop.

use std::time::Duration;

use holdfast_core::node::Input;
use holdfast_core::trace::Kind;
use tracing::{error, info, warn};

use crate::dataplane::worker::Worker;
use crate::links;

use super::setup::load;
use super::signals::stats_path;
use super::{Daemon, DaemonError};

impl Daemon {
    /// SIGHUP: a configuration with errors is refused and the running one
    /// kept; a good one is applied without disturbing unchanged instances.
    pub(super) async fn reload(&mut self) {
        info!("reloading {}", self.opts.config.display());
        let cfg = match load(&self.opts) {
            Ok(c) => c,
            Err(e) => {
                return error!("reload refused, still running the previous configuration: {e}")
            }
        };
        let now = self.core_now();
        let ifaces = self.core_interfaces();
        if let Err(e) = self.node.reload(now, &cfg, &ifaces) {
            return error!("reload refused, still running the previous configuration: {e}");
        }
        let previous = std::mem::replace(&mut self.config, cfg);
        self.probe_env = self.make_probe_env();
        if let Err(e) = self.open_sockets() {
            error!("after reload: {e}");
        }
        let detail = self.opts.config.display().to_string();
        self.record(Kind::Reload { ok: true, detail });
        drop(previous);
    }

    /// SIGUSR1: the node's status as JSON.
    pub(super) fn dump(&self) {
        let status = self.node.status();
        let plane = self.dataplane.as_ref().map(Worker::status);
        // Written whole, then renamed: a reader never sees half a file.
        let tmp = self.opts.dump.with_extension("tmp");
        let result = serde_json::to_value(&status)
            .and_then(|mut v| {
                v["data_plane"] = serde_json::to_value(plane)?;
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
    /// with the extension `stats`), written whole then renamed; SIGSTATS_CLEAR
    /// zeroes the counters after writing them, as keepalived does.
    pub(super) fn write_stats(&mut self, clear: bool) {
        let status = self.node.status();
        let text: String = status
            .instances
            .iter()
            .map(|i| i.stats.keepalived_text(&i.name))
            .collect();
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

    /// SIGTERM / SIGINT: Masters send priority 0 and drop their addresses,
    /// then the process ends (no second's wait, unlike keepalived).
    pub(super) async fn shutdown(mut self, why: &str) -> Result<(), DaemonError> {
        // Alerts still trying to leave are abandoned (dropping the set
        // aborts them); those the stop raises get the wait below.
        let abandoned = std::mem::take(&mut self.mails).len();
        // Priority 0 first: the log line can wait a few microseconds.
        let now = self.core_now();
        self.node.handle(now, Input::Shutdown);
        self.drain().await;
        info!("{why}: stopping");
        if abandoned > 0 {
            warn!("{abandoned} alert mail(s) still in flight abandoned");
        }
        // Anything still held (an instance that never got to remove it).
        for ((index, _), (inst, vip)) in std::mem::take(&mut self.held) {
            if let Err(e) = links::remove_vip(&self.handle, index, &vip).await {
                warn!("({inst}) removing {}: {e}", vip.address);
            }
        }
        // The LVS table goes (unless kept), after the addresses: traffic
        // for the VIPs has already moved to the peer.
        // Joined off this thread and for a bounded while: an nft run in
        // flight finishes first, and nothing here must hang the stop.
        if let Some(w) = self.dataplane.take() {
            let keep = self.opts.keep_lvs;
            let stop = tokio::task::spawn_blocking(move || w.stop(keep));
            if tokio::time::timeout(Duration::from_secs(10), stop)
                .await
                .is_err()
            {
                warn!("the data plane did not finish within 10 s: its table may be left behind");
            }
        }
        self.record(Kind::Stop { reason: why.into() });
        // notify_stop and the stop's own alerts, for a bounded while.
        let wait = async {
            while self.tasks.join_next().await.is_some() {}
            while self.mails.join_next().await.is_some() {}
        };
        if tokio::time::timeout(Duration::from_secs(5), wait)
            .await
            .is_err()
        {
            warn!("scripts or mail still running at exit: left behind");
        }
        info!("stopped");
        Ok(())
    }
}
