//! The `holdfast` binary's own code: its command-line definition, shared by
//! the binary and by the test that generates the man pages and completions.
//! Everything else lives in the library crates (`core`, `runtime`, `sim`,
//! `reports`).

pub mod cli;
