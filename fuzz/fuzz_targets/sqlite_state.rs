#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| libpod_stats_fuzz::entries::sqlite_state(data));
