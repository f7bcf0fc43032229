//! Fuzzes the fit parser directly (no detection), checking that it never
//! panics and that every fix it emits passed validation.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    sillage_ingest::fuzz_check(Some(sillage_model::SourceFormat::Fit), data);
});
