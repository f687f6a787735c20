#![no_main]
//! Fuzzes the HTTP_GET response judge: any bytes are safe input.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| holdfast_core::fuzzing::http_response(data));
