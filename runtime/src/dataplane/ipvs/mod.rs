//! IPVS over generic netlink, speaking what keepalived speaks.
//!
//! `wire` turns requests into bytes and replies into values (pure, unit
//! tested byte for byte), `genl` moves them over a `NETLINK_GENERIC`
//! socket, `convert` maps core's table entries to the IPVS nests and back.
//! [`Ipvs`] reads the kernel, diffs it against the wanted table with core's
//! `lvs::diff`, and runs the operations.
//!
//! Ownership: holdfast touches only the services it wants now or installed
//! before (and still remembers). A service someone else added with
//! `ipvsadm` is never edited or removed, even when holdfast's table changes.

mod convert;
mod genl;
mod wire;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Stdio};

use holdfast_core::config::model::{ForwardingMethod, Scheduler, SchedulerFlags};
use holdfast_core::lvs::table::Service;
use holdfast_core::lvs::{diff, DestKey, DestParams, Op, ServiceKey, ServiceParams, Table};

use super::{DataPlane, DataPlaneError};
use convert::{describe_dest, describe_service};
use genl::{GenlError, GenlSocket};
use wire::{Cmd, DestRepr, ServiceRepr};

const UNAVAILABLE: &str =
    "IPVS is not available on this kernel: generic netlink family \"IPVS\" not found (is ip_vs loaded?)";

/// The kernel's IPVS table in the calling thread's network namespace (as
/// of [`Ipvs::open`]), programmed over generic netlink.
///
/// Dropping it leaves the kernel as it is: services outlive a restart, and
/// the next `apply` adopts them. [`DataPlane::remove`] takes them away.
#[derive(Debug)]
pub struct Ipvs {
    sock: GenlSocket,
    family: u16,
    /// Services holdfast installed and has not removed.
    owned: BTreeSet<ServiceKey>,
}

/// A service as dumped: settings and destinations, `None` where holdfast
/// cannot express what the kernel holds.
struct KernelService {
    params: Option<ServiceParams>,
    dests: Vec<(DestKey, Option<DestParams>)>,
}

impl Ipvs {
    /// Connects to IPVS in the current network namespace, loading `ip_vs`
    /// if the family is missing (as keepalived does).
    pub fn open() -> Result<Ipvs, DataPlaneError> {
        let mut sock = GenlSocket::open().map_err(|e| {
            DataPlaneError::Kernel(format!("IPVS: cannot open a generic netlink socket: {e}"))
        })?;
        let family = match resolve(&mut sock) {
            Ok(f) => f,
            Err(GenlError::Kernel(libc::ENOENT)) => {
                // A failure (no modprobe, no module) shows in the retry.
                let _ = Command::new("modprobe")
                    .arg("ip_vs")
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status();
                match resolve(&mut sock) {
                    Ok(f) => f,
                    Err(GenlError::Kernel(libc::ENOENT)) => {
                        return Err(DataPlaneError::Unavailable(UNAVAILABLE.to_string()))
                    }
                    Err(e) => return Err(resolve_error(e)),
                }
            }
            Err(e) => return Err(resolve_error(e)),
        };
        Ok(Ipvs {
            sock,
            family,
            owned: BTreeSet::new(),
        })
    }

    /// Everything the kernel holds, holdfast's or not. Entries holdfast
    /// cannot express (an unknown scheduler, a LOCALNODE destination) are
    /// left out.
    pub fn read(&mut self) -> Result<Table, DataPlaneError> {
        let mut table = Table::default();
        for (key, ks) in self.kernel(|_| true)? {
            let Some(params) = ks.params else { continue };
            let dests = ks
                .dests
                .into_iter()
                .filter_map(|(d, p)| Some((d, p?)))
                .collect();
            table.services.insert(key, Service { params, dests });
        }
        Ok(table)
    }

    /// Sends one request and waits for its ack; a dump's entries.
    fn request(
        &mut self,
        cmd: Cmd,
        svc: Option<&ServiceRepr>,
        dest: Option<&DestRepr>,
    ) -> Result<Vec<genl::GenlMsg>, GenlError> {
        let dump = matches!(cmd, Cmd::GetService | Cmd::GetDest);
        let flags = if dump {
            wire::NLM_F_DUMP
        } else {
            wire::NLM_F_ACK
        };
        let seq = self.sock.next_seq();
        let msg = wire::ipvs_request(self.family, flags, seq, cmd, svc, dest);
        self.sock.transact(self.family, seq, &msg, dump)
    }

    /// The kernel's services, with the destinations of those `want` picks.
    fn kernel(
        &mut self,
        want: impl Fn(&ServiceKey) -> bool,
    ) -> Result<BTreeMap<ServiceKey, KernelService>, DataPlaneError> {
        let unreadable =
            |what: &str, e: GenlError| DataPlaneError::Kernel(format!("IPVS {what}: {e}"));
        let msgs = self
            .request(Cmd::GetService, None, None)
            .map_err(|e| unreadable("GET_SERVICE dump", e))?;
        let mut out = BTreeMap::new();
        // Dump entries come as NEW_SERVICE messages.
        for m in msgs.iter().filter(|m| m.cmd == Cmd::NewService as u8) {
            let repr = wire::parse_service_msg(&m.attrs)
                .map_err(|e| unreadable("GET_SERVICE dump", e.into()))?;
            // A protocol or family holdfast never writes: never ours.
            let Some((key, params)) = convert::service_from_repr(&repr) else {
                continue;
            };
            if !want(&key) {
                continue;
            }
            let id = ServiceRepr { full: None, ..repr };
            let dests = match self.request(Cmd::GetDest, Some(&id), None) {
                Ok(d) => d,
                // Deleted between the two dumps: gone.
                Err(GenlError::Kernel(libc::ESRCH)) => continue,
                Err(e) => {
                    let what = format!("GET_DEST dump of {}", describe_service(&key));
                    return Err(unreadable(&what, e));
                }
            };
            let mut ks = KernelService {
                params,
                dests: Vec::with_capacity(dests.len()),
            };
            for d in dests.iter().filter(|d| d.cmd == Cmd::NewDest as u8) {
                let what = || format!("GET_DEST dump of {}", describe_service(&key));
                let dr =
                    wire::parse_dest_msg(&d.attrs).map_err(|e| unreadable(&what(), e.into()))?;
                if let Some(entry) = convert::dest_from_repr(&dr, id.af) {
                    ks.dests.push(entry);
                }
            }
            out.insert(key, ks);
        }
        Ok(out)
    }

    /// Sends one operation to the kernel.
    fn run(&mut self, op: &Op) -> Result<(), GenlError> {
        use convert::{dest_repr, service_repr};
        let (cmd, svc, dest) = match op {
            Op::AddService(k, p) => (Cmd::NewService, service_repr(k, Some(p)), None),
            Op::EditService(k, p) => (Cmd::SetService, service_repr(k, Some(p)), None),
            Op::RemoveService(k) => (Cmd::DelService, service_repr(k, None), None),
            Op::AddDest(k, d, p) => (
                Cmd::NewDest,
                service_repr(k, None),
                Some(dest_repr(d, Some(p))),
            ),
            Op::EditDest(k, d, p) => (
                Cmd::SetDest,
                service_repr(k, None),
                Some(dest_repr(d, Some(p))),
            ),
            Op::RemoveDest(k, d) => (
                Cmd::DelDest,
                service_repr(k, None),
                Some(dest_repr(d, None)),
            ),
        };
        self.request(cmd, Some(&svc), dest.as_ref()).map(drop)
    }

    /// [`Ipvs::run`], with an error that names the operation and its target.
    fn execute(&mut self, op: &Op) -> Result<(), DataPlaneError> {
        self.run(op)
            .map_err(|e| DataPlaneError::Kernel(format!("IPVS {}: {e}", describe_op(op))))
    }

    /// Makes the kernel hold `wanted` for what holdfast owns; the number of
    /// operations that took.
    fn sync(&mut self, wanted: &Table, repairing: bool) -> Result<usize, DataPlaneError> {
        let owned: BTreeSet<ServiceKey> = self
            .owned
            .iter()
            .chain(wanted.services.keys())
            .cloned()
            .collect();
        let kernel = self.kernel(|k| owned.contains(k))?;
        let (view, mut ops) = view(kernel, wanted);
        ops.extend(diff(&view, wanted));
        // Until every operation went through, anything wanted may be in
        // the kernel and anything owned may still be.
        self.owned = owned;
        for op in &ops {
            if repairing {
                tracing::warn!(
                    "IPVS drifted from the table; repairing: {}",
                    describe_op(op)
                );
            } else {
                tracing::debug!("IPVS: {}", describe_op(op));
            }
            self.execute(op)?;
        }
        self.owned = wanted.services.keys().cloned().collect();
        Ok(ops.len())
    }
}

fn resolve(sock: &mut GenlSocket) -> Result<u16, GenlError> {
    let seq = sock.next_seq();
    let msg = wire::get_family_request(seq, wire::IPVS_FAMILY_NAME);
    let replies = sock.transact(wire::GENL_ID_CTRL, seq, &msg, false)?;
    let first = replies
        .first()
        .ok_or(GenlError::Wire(wire::WireError::Missing(
            "CTRL_ATTR_FAMILY_ID",
        )))?;
    Ok(wire::parse_family_id(&first.attrs)?)
}

fn resolve_error(e: GenlError) -> DataPlaneError {
    DataPlaneError::Kernel(format!(
        "IPVS: looking up generic netlink family \"IPVS\": {e}"
    ))
}

/// The kernel's owned services as a table to diff against `wanted`, and
/// the edits that entries holdfast cannot read back need regardless.
///
/// Settings that differ from the wanted ones only in how core spells them
/// (the same bytes on the wire) count as equal, so they cause no edit.
fn view(kernel: BTreeMap<ServiceKey, KernelService>, wanted: &Table) -> (Table, Vec<Op>) {
    let mut table = Table::default();
    let mut forced = Vec::new();
    for (key, ks) in kernel {
        let want = wanted.services.get(&key);
        let params = match (ks.params, want) {
            (Some(p), Some(w)) if convert::same_service(&key, &p, &w.params) => w.params.clone(),
            (Some(p), _) => p,
            (None, Some(w)) => {
                forced.push(Op::EditService(key.clone(), w.params.clone()));
                w.params.clone()
            }
            // Not wanted: the diff removes it, whatever its settings.
            (None, None) => ServiceParams {
                scheduler: Scheduler::Wlc,
                flags: SchedulerFlags::default(),
                persistence_timeout: None,
                persistence_granularity: None,
            },
        };
        let mut dests = BTreeMap::new();
        for (d, p) in ks.dests {
            let want_d = want.and_then(|w| w.dests.get(&d));
            let p = match (p, want_d) {
                (Some(p), Some(w)) if convert::same_dest(&d, &p, w) => w.clone(),
                (Some(p), _) => p,
                (None, Some(w)) => {
                    forced.push(Op::EditDest(key.clone(), d, w.clone()));
                    w.clone()
                }
                (None, None) => DestParams {
                    weight: 0,
                    method: ForwardingMethod::Nat,
                    uthreshold: 0,
                    lthreshold: 0,
                },
            };
            dests.insert(d, p);
        }
        table.services.insert(key, Service { params, dests });
    }
    (table, forced)
}

/// An operation as a log line or an error names it.
fn describe_op(op: &Op) -> String {
    match op {
        Op::AddService(k, p) => format!(
            "NEW_SERVICE {} ({})",
            describe_service(k),
            p.scheduler.as_str()
        ),
        Op::EditService(k, p) => format!(
            "SET_SERVICE {} ({})",
            describe_service(k),
            p.scheduler.as_str()
        ),
        Op::RemoveService(k) => format!("DEL_SERVICE {}", describe_service(k)),
        Op::AddDest(k, d, p) => format!(
            "NEW_DEST {} weight {} in {}",
            describe_dest(d),
            p.weight,
            describe_service(k)
        ),
        Op::EditDest(k, d, p) => format!(
            "SET_DEST {} weight {} in {}",
            describe_dest(d),
            p.weight,
            describe_service(k)
        ),
        Op::RemoveDest(k, d) => format!("DEL_DEST {} in {}", describe_dest(d), describe_service(k)),
    }
}

impl DataPlane for Ipvs {
    fn name(&self) -> &'static str {
        "ipvs"
    }

    fn apply(&mut self, table: &Table) -> Result<usize, DataPlaneError> {
        self.sync(table, false)
    }

    fn repair(&mut self, table: &Table) -> Result<usize, DataPlaneError> {
        self.sync(table, true)
    }

    fn remove(&mut self) -> Result<(), DataPlaneError> {
        let mut first_error = None;
        for key in std::mem::take(&mut self.owned) {
            match self.run(&Op::RemoveService(key.clone())) {
                // Already gone (removed behind holdfast's back): done.
                Ok(()) | Err(GenlError::Kernel(libc::ESRCH)) => {}
                Err(e) => {
                    let msg = format!("IPVS DEL_SERVICE {}: {e}", describe_service(&key));
                    first_error.get_or_insert(DataPlaneError::Kernel(msg));
                    // Still there, so still holdfast's to remove later.
                    self.owned.insert(key);
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}
