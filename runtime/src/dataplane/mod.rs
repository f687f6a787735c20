//! Data planes: where core's LVS table is programmed into the kernel.
//!
//! Core computes the table (`holdfast_core::lvs::Table`) and says when it
//! changes; a data plane makes the kernel hold it. Two exist: IPVS over
//! generic netlink (what keepalived speaks) and nftables (one `nft -f -`
//! transaction per change, for kernels without IPVS). Both run on their own
//! thread ([`worker`]) so that a slow kernel call never delays an advert.

pub mod ipvs;
pub mod nft;
pub mod worker;

use holdfast_core::lvs::Table;

/// What went wrong talking to the kernel's load balancer.
#[derive(Debug, thiserror::Error)]
pub enum DataPlaneError {
    /// The chosen data plane does not exist on this kernel.
    #[error("{0}")]
    Unavailable(String),
    /// The kernel refused an operation, or could not be asked.
    #[error("{0}")]
    Kernel(String),
}

/// A kernel load balancer holdfast programs.
pub trait DataPlane: Send {
    /// "ipvs" or "nftables".
    fn name(&self) -> &'static str;

    /// Makes the kernel hold exactly `table` for everything holdfast owns,
    /// whatever it holds now. Returns how many changes that took (0: it
    /// already held it).
    fn apply(&mut self, table: &Table) -> Result<usize, DataPlaneError>;

    /// Reads the kernel back and repairs what drifted from `table` (entries
    /// deleted or changed behind holdfast's back). Returns how many repairs
    /// it made.
    fn repair(&mut self, table: &Table) -> Result<usize, DataPlaneError>;

    /// Removes everything holdfast installed.
    fn remove(&mut self) -> Result<(), DataPlaneError>;

    /// What this data plane cannot do as `table` asks, one line each
    /// (logged once by the worker).
    fn warnings(&self, _table: &Table) -> Vec<String> {
        Vec::new()
    }
}
