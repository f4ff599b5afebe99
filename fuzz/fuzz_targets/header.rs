//! See `pycmarshal::fuzzing::header`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| pycmarshal::fuzzing::header(data));
