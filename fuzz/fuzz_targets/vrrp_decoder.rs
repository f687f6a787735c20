#![no_main]
//! Fuzzes the VRRP advert decoder: no input may panic, and every accepted
//! advert must emit and parse back unchanged.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| holdfast_core::fuzzing::vrrp_decoder(data));
