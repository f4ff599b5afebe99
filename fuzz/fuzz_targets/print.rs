//! See `pycmarshal::fuzzing::print`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| pycmarshal::fuzzing::print(data));
