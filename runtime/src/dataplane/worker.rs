//! The data plane's own thread. The daemon's loop hands it the latest
//! table and goes on: an `nft` process or a netlink round trip never sits
//! between a timer and an advert. The thread coalesces tables that arrive
//! while it is busy (only the newest matters), repairs drift on a period,
//! and on stop removes what it installed unless told to keep it.

use std::collections::BTreeSet;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use holdfast_core::lvs::Table;
use serde::Serialize;
use tracing::{error, info, warn};

use super::{ipvs::Ipvs, nft::Nft, DataPlane, DataPlaneError};

/// Which data plane to program.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Choice {
    /// IPVS if the kernel has it, else nftables.
    #[default]
    Auto,
    /// IPVS over generic netlink.
    Ipvs,
    /// nftables through `nft -f -`.
    Nftables,
    /// None: the table is computed and logged only.
    None,
}

impl std::str::FromStr for Choice {
    type Err = String;
    fn from_str(s: &str) -> Result<Choice, String> {
        match s {
            "auto" => Ok(Choice::Auto),
            "ipvs" => Ok(Choice::Ipvs),
            "nftables" | "nft" => Ok(Choice::Nftables),
            "none" => Ok(Choice::None),
            _ => Err(format!(
                "unknown data plane {s:?}: expected auto, ipvs, nftables or none"
            )),
        }
    }
}

/// Opens the chosen data plane.
pub fn open(choice: Choice) -> Result<Box<dyn DataPlane>, DataPlaneError> {
    match choice {
        Choice::Ipvs => Ok(Box::new(Ipvs::open()?)),
        Choice::Nftables => Ok(Box::new(Nft::open()?)),
        Choice::Auto => match Ipvs::open() {
            Ok(p) => Ok(Box::new(p)),
            Err(ipvs) => Nft::open()
                .map(|p| Box::new(p) as Box<dyn DataPlane>)
                .map_err(|nft| DataPlaneError::Unavailable(format!("{ipvs}; {nft}"))),
        },
        Choice::None => Err(DataPlaneError::Unavailable(
            "no data plane (--data-plane none)".into(),
        )),
    }
}

/// What the data plane is doing, for the state dump.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Status {
    /// The data plane in use, once one opened.
    pub name: Option<&'static str>,
    /// The last error, until an apply succeeds again.
    pub error: Option<String>,
    /// Tables applied (transactions that changed something).
    pub applied: u64,
    /// Repairs of drift.
    pub repaired: u64,
}

enum Msg {
    Apply(Table),
    Stop { keep: bool },
}

/// The handle the daemon keeps.
pub struct Worker {
    tx: mpsc::Sender<Msg>,
    thread: Option<JoinHandle<()>>,
    status: Arc<Mutex<Status>>,
}

struct State {
    choice: Choice,
    plane: Option<Box<dyn DataPlane>>,
    table: Option<Table>,
    status: Arc<Mutex<Status>>,
    warned: BTreeSet<String>,
    /// Set when applying failed: the next period retries.
    dirty: bool,
}

impl State {
    fn report(&self, f: impl FnOnce(&mut Status)) {
        if let Ok(mut s) = self.status.lock() {
            f(&mut s);
        }
    }

    /// The plane, opened now if it was not yet (a module loaded later, a
    /// package installed later); the error is said once per new message.
    fn plane(&mut self) -> Option<&mut Box<dyn DataPlane>> {
        if self.plane.is_none() {
            match open(self.choice) {
                Ok(p) => {
                    info!("data plane: {}", p.name());
                    let name = p.name();
                    self.report(|s| {
                        s.name = Some(name);
                        s.error = None;
                    });
                    self.plane = Some(p);
                }
                Err(e) => {
                    let msg = format!(
                        "data plane unavailable, the LVS table is NOT programmed (VRRP keeps running): {e}"
                    );
                    let said = self.status.lock().map(|s| s.error.clone()).ok().flatten();
                    if said.as_deref() != Some(msg.as_str()) {
                        error!("{msg}");
                    }
                    self.report(|s| s.error = Some(msg));
                    return None;
                }
            }
        }
        self.plane.as_mut()
    }

    fn apply(&mut self, repair: bool) {
        let Some(table) = self.table.clone() else {
            return;
        };
        let dirty = self.dirty;
        let Some(plane) = self.plane() else {
            self.dirty = true;
            return;
        };
        let name = plane.name();
        let warnings = plane.warnings(&table);
        let result = if repair && !dirty {
            plane.repair(&table)
        } else {
            plane.apply(&table)
        };
        for w in warnings {
            if self.warned.insert(w.clone()) {
                warn!("{name}: {w}");
            }
        }
        match result {
            Ok(n) => {
                if repair && !self.dirty && n > 0 {
                    warn!("{name}: the kernel's table had drifted; {n} repair(s) made");
                }
                let was_dirty = std::mem::replace(&mut self.dirty, false);
                self.report(|s| {
                    s.error = None;
                    if n > 0 || was_dirty {
                        if repair && !was_dirty {
                            s.repaired += 1;
                        } else {
                            s.applied += 1;
                        }
                    }
                });
            }
            Err(e) => {
                error!("{name}: programming the LVS table failed (retried every period): {e}");
                self.dirty = true;
                self.report(|s| s.error = Some(e.to_string()));
            }
        }
    }
}

impl Worker {
    /// Starts the thread; `repair_every` is the drift-repair period.
    pub fn start(choice: Choice, repair_every: Duration) -> std::io::Result<Worker> {
        let (tx, rx) = mpsc::channel::<Msg>();
        let status = Arc::new(Mutex::new(Status::default()));
        let mut state = State {
            choice,
            plane: None,
            table: None,
            status: status.clone(),
            warned: BTreeSet::new(),
            dirty: false,
        };
        let thread = std::thread::Builder::new()
            .name("data-plane".into())
            .spawn(move || {
                // Opening early says at start-up whether the plane exists.
                let _ = state.plane();
                // A deadline, not a timeout per wait: tables arriving more
                // often than the period must not put repairs off for ever.
                let mut repair_at = Instant::now() + repair_every;
                loop {
                    let wait = repair_at.saturating_duration_since(Instant::now());
                    let msg = match rx.recv_timeout(wait) {
                        Ok(m) => m,
                        Err(RecvTimeoutError::Timeout) => {
                            state.apply(true);
                            repair_at = Instant::now() + repair_every;
                            continue;
                        }
                        Err(RecvTimeoutError::Disconnected) => Msg::Stop { keep: true },
                    };
                    // Only the newest table matters; a stop ends it all.
                    let mut next = Some(msg);
                    let mut stop = None;
                    while let Some(m) = next.take() {
                        match m {
                            Msg::Apply(t) => state.table = Some(t),
                            Msg::Stop { keep } => stop = Some(keep),
                        }
                        next = rx.try_recv().ok();
                    }
                    if let Some(keep) = stop {
                        if let Some(p) = state.plane.as_mut() {
                            if keep {
                                info!("{}: leaving the LVS table in place", p.name());
                            } else if let Err(e) = p.remove() {
                                error!("{}: removing the LVS table: {e}", p.name());
                            }
                        }
                        return;
                    }
                    state.apply(false);
                }
            })?;
        Ok(Worker {
            tx,
            thread: Some(thread),
            status,
        })
    }

    /// Hands over the table core wants now.
    pub fn apply(&self, table: Table) {
        let _ = self.tx.send(Msg::Apply(table));
    }

    /// The current status.
    pub fn status(&self) -> Status {
        self.status.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Stops the thread, removing what it installed unless `keep`.
    pub fn stop(mut self, keep: bool) {
        let _ = self.tx.send(Msg::Stop { keep });
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
