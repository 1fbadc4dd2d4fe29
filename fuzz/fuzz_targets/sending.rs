#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wscore::fuzzing::sending::check(data));
