#![no_main]
//! Fuzzes the scenario reader: any bytes are safe input, and no scenario
//! makes the timeline run away.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| holdfast_sim::fuzzing::scenario_parser(data));
