#![no_main]
//! Fuzzes the keepalived.conf reader: no input may panic, and every accepted
//! input must print and read back to the same model.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| holdfast_core::fuzzing::config_parser(data));
