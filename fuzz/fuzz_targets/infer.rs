//! See `pycmarshal::fuzzing::infer`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| pycmarshal::fuzzing::infer(data));
