//! Fuzzes the container layer: the input is written to a file and opened as
//! a citizen would hand it over (zip archive, gzip, or plain), then every
//! member is detected and parsed.
#![no_main]

use std::io::Read;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let path = std::env::temp_dir().join(format!("sillage-fuzz-sources-{}", std::process::id()));
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let _ = sillage_ingest::for_each_source(&path, &mut |mut entry: sillage_ingest::SourceEntry<'_>| {
        let mut bytes = Vec::new();
        // Bounded: a decompression bomb must not exhaust the fuzzer's memory.
        entry.reader.by_ref().take(1 << 20).read_to_end(&mut bytes)?;
        sillage_ingest::fuzz_check(None, &bytes);
        Ok::<(), std::io::Error>(())
    });
});
