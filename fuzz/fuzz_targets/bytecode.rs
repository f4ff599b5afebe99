//! See `pycmarshal::fuzzing::bytecode`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| pycmarshal::fuzzing::bytecode(data));
