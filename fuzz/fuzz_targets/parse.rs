//! See `pycmarshal::fuzzing::parse`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| pycmarshal::fuzzing::parse(data));
