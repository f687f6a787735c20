//! holdfast-core: the pure state machines of holdfast and the configuration
//! language they are built from. No I/O, no clock, no global randomness:
//! time, packets and results are inputs, everything to be done is output.
//! (`config` reads files only through a `SourceLoader` the caller chooses.)

#![warn(missing_docs)]

pub mod alert;
pub mod announce;
pub mod check;
pub mod config;
pub mod fuzzing;
pub mod lvs;
pub mod node;
pub mod time;
pub mod trace;
pub mod vrrp;

pub use node::Node;
