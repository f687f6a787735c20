//! The nftables data plane: core's LVS table as DNAT rules in one table,
//! `inet holdfast`, written as nft text and applied by `nft -f -` in a single
//! transaction (all of it, or none of it if the kernel refuses any part).
//!
//! The mapping (docs/keepalived.md, "nftables mapping of LVS"):
//! - a service is a chain (see below) that DNATs through a map of slots to
//!   real servers;
//! - wrr: each real server holds `weight / gcd` consecutive slots and
//!   `numgen inc` picks the slot (only a connection's first packet passes a
//!   nat chain, so it counts connections); rr: one slot each; sh: `jhash` of
//!   the source address picks the slot;
//! - persistence: each real server of a persistent service has a chain and
//!   a set of its clients (source address, masked by the persistence
//!   netmask) with the service's timeout. The service's chain first sends
//!   known clients to their server's chain, even at weight 0; a new client
//!   takes a slot whose verdict is a server's chain, which adds it to the
//!   set and DNATs. Weight changes move nobody, and a server that leaves
//!   takes its set along. No packet mark is set: marks are only matched, for
//!   fwmark services;
//! - a service with no usable real server rejects new connections, as IPVS
//!   does when its scheduler finds no destination.
//!
//! nftables cannot do everything IPVS does; what it cannot do is said, per
//! service, by [`Rendered::warnings`] and never programmed half-way:
//! lc/wlc/sed/nq/lblc/lblcr/dh/mh/fo/ovf/twos run as wrr (nft has no
//! per-destination connection counts in the lookup path), and DR/TUN
//! services and port-0 services are not programmed at all.
//!
//! A service is one chain, reached from the prerouting chain through a
//! verdict map keyed by address, protocol and port (or fwmark): one lookup
//! whatever the number of services. A change rewrites only the services
//! that changed, so the others keep their clients' persistence entries.
//!
//! Drift: nf_tables numbers each committed transaction (its generation).
//! [`DataPlane::repair`] asks for it; when anybody committed anything since
//! holdfast last looked, it lists holdfast's table (`nft -j`) and compares
//! it, clients' persistence entries aside, with the listing taken when it
//! was known good; a difference rebuilds the table from scratch.
//!
//! - `render.rs`: core's table as nft text, and the script from one
//!   rendering to the next;
//! - `command.rs`: running `nft` and listing holdfast's table;
//! - `generation.rs`: the ruleset's generation over nfnetlink;
//! - this file: [`Nft`], the data plane (apply, repair, remove).

mod command;
mod generation;
mod render;
#[cfg(test)]
mod tests;

pub use generation::generation;
pub use render::{render, Rendered, TABLE};

use holdfast_core::lvs::Table;

use super::{DataPlane, DataPlaneError};
use command::{listing, nft};

/// What holdfast knows of the kernel's table.
enum Known {
    /// Listed right after holdfast's own transaction, at this generation.
    Listed(u32, Option<serde_json::Value>),
    /// Somebody else committed while holdfast applied or listed, so the
    /// listing may hold their change: the next check rebuilds.
    Unknown,
}

/// The nftables data plane.
pub struct Nft {
    /// What was applied last, and what is known of the kernel since.
    applied: Option<(Rendered, Known)>,
}

impl Nft {
    /// Checks that `nft` runs and the kernel has nf_tables.
    pub fn open() -> Result<Nft, DataPlaneError> {
        nft(&["list", "tables"], None).map_err(|e| match e {
            DataPlaneError::Kernel(m) => {
                DataPlaneError::Unavailable(format!("nftables is not available: {m}"))
            }
            other => other,
        })?;
        generation().map_err(|e| DataPlaneError::Unavailable(e.to_string()))?;
        Ok(Nft { applied: None })
    }

    fn install(&mut self, want: Rendered, fresh: bool) -> Result<(), DataPlaneError> {
        let old = if fresh {
            None
        } else {
            self.applied.as_ref().map(|(r, _)| r)
        };
        let before = generation().ok();
        if let Err(e) = nft(&["-f", "-"], Some(&want.script(old))) {
            // The kernel kept its table (the transaction is atomic), but it
            // may not be what `old` says (someone deleted a chain the
            // script assumed): the next attempt rebuilds from scratch.
            self.applied = None;
            return Err(e);
        }
        // One transaction is one generation: any other number means someone
        // else committed in between, and the listing could carry it.
        let known = match (before, generation().ok()) {
            (Some(b), Some(after)) if after == b.wrapping_add(1) => match listing() {
                Ok(l) if generation().ok() == Some(after) => Known::Listed(after, l),
                _ => Known::Unknown,
            },
            _ => Known::Unknown,
        };
        self.applied = Some((want, known));
        Ok(())
    }
}

impl DataPlane for Nft {
    fn name(&self) -> &'static str {
        "nftables"
    }

    fn apply(&mut self, table: &Table) -> Result<usize, DataPlaneError> {
        let want = render(table);
        let (n, fresh) = match &self.applied {
            Some((old, _)) => (want.changes(old), false),
            // The first apply clears whatever a previous run left.
            None => (want.chunks.len().max(1), true),
        };
        if n > 0 {
            self.install(want, fresh)?;
        }
        Ok(n)
    }

    /// Nobody committed anything since holdfast looked: nothing drifted.
    /// Otherwise holdfast's table is listed and compared with the listing
    /// taken right after its own transaction; a difference rebuilds it
    /// whole (and so does a listing that could not be trusted).
    fn repair(&mut self, table: &Table) -> Result<usize, DataPlaneError> {
        let Some((rendered, known)) = &mut self.applied else {
            return self.apply(table);
        };
        let now = generation()?;
        let intact = match known {
            Known::Listed(g, _) if *g == now => true,
            Known::Listed(_, snapshot) => {
                let same = listing()? == *snapshot;
                if same {
                    let s = snapshot.take();
                    *known = Known::Listed(now, s);
                }
                same
            }
            Known::Unknown => false,
        };
        if intact {
            return Ok(0);
        }
        let want = render(table);
        let n = want.chunks.len().max(1).max(rendered.chunks.len());
        self.install(want, true)?;
        Ok(n)
    }

    fn warnings(&self, table: &Table) -> Vec<String> {
        render(table).warnings
    }

    fn remove(&mut self) -> Result<(), DataPlaneError> {
        nft(
            &["-f", "-"],
            Some(&format!("add table {TABLE}\ndelete table {TABLE}\n")),
        )?;
        self.applied = None;
        Ok(())
    }
}
