//! See `pycmarshal::fuzzing::truncate`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| pycmarshal::fuzzing::truncate(data));
