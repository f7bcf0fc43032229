//! Fuzzes format detection followed by whichever parser it picks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    sillage_ingest::fuzz_check(None, data);
});
