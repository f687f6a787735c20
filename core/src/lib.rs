//! holdfast-core: the pure state machines of holdfast and the configuration
//! language they are built from. No I/O, no clock, no global randomness:
//! time, packets and results are inputs, everything to be done is output.
//! (`config` reads files only through a `SourceLoader` the caller chooses;
//! the one over the local file system is `holdfast_fs::FsLoader`.)
//!
//! # Embedding core
//!
//! A driver reads a [`config::Config`] ([`config::load`] or
//! [`config::parse_str`]), builds a [`Node`] from it and the [`Interface`]s
//! the machine has, and then, on one thread: hands the node each [`Input`]
//! with the [`Instant`] it happened, wakes it at [`Node::poll_timeout`], and
//! carries out every [`Output`] of [`Node::poll_traced`] in the order given,
//! writing the trace record that comes with it (`Node`, "Driving a node").
//! [`Input`], [`Output`], [`trace::Kind`] and the error enums are
//! `#[non_exhaustive]`: a driver says what it does with an output it does
//! not know.
//!
//! The `testing` feature adds the fuzz targets' entry points (`fuzzing`)
//! and synthetic configurations for benchmarks (`config::synthetic`); the
//! `defects` feature breaks core on purpose for the simulator's own tests.
//! Neither is part of the API.

#![warn(missing_docs)]

pub mod alert;
pub mod announce;
pub mod check;
pub mod config;
#[doc(hidden)]
pub mod defect;
#[cfg(feature = "testing")]
pub mod fuzzing;
pub mod lvs;
pub mod node;
pub mod time;
pub mod trace;
pub mod vrrp;

pub use node::{Input, Interface, Node, NodeError, Output};
pub use time::Instant;
