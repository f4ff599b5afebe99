//! See `pycmarshal::fuzzing::normalize`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| pycmarshal::fuzzing::normalize(data));
