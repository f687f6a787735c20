//! holdfast-core: the pure state machines of holdfast and the configuration
//! language they are built from. No I/O, no clock, no global randomness:
//! time, packets and results are inputs, everything to be done is output.

#![warn(missing_docs)]

pub mod config;
