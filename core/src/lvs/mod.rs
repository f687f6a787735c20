//! The LVS table holdfast wants the kernel to hold, and the minimal list of
//! operations that turns one table into another. Data planes (IPVS over
//! netlink, nftables, the simulator's model) apply the operations.
//!
//! `pool` derives the desired table from the configuration and the real
//! servers' health; `Node` keeps that table as the checkers report and
//! emits the `diff` operations as `Output::Lvs`.

mod diff;
pub mod pool;
pub mod table;

pub use diff::{apply, diff, ApplyError, Op};
pub use table::{DestKey, DestParams, ServiceKey, ServiceParams, Table};
