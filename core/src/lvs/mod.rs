//! The LVS table holdfast wants the kernel to hold, and the minimal list of
//! operations that turns one table into another. Data planes (IPVS over
//! netlink, nftables, the simulator's model) apply the operations.
//!
//! Deriving the desired table from the configuration and the checkers'
//! state is the next part of issue 4.

pub mod diff;
pub mod table;

pub use diff::{apply, diff, ApplyError, Op};
pub use table::{DestKey, DestParams, ServiceKey, ServiceParams, Table};
