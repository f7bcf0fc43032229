//! How fast `write_trace` formats each format:
//! `cargo run --release -p sillage-testdata --example trace_speed [FIXES]`.
//!
//! The fixes are made up front and the output goes to a byte counter, so
//! the figures are the writer's own cost, not the disk's.

use sillage_testdata::Walk;
use sillage_testdata::trace::{TraceFix, TraceFormat, write_trace};
use std::io::{self, Write};
use std::time::Instant;

/// Counts bytes and drops them.
struct Counter(u64);

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn main() -> io::Result<()> {
    let count: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    // The crate's random walk, with fractional speeds and some missing
    // values, so every optional field is exercised.
    let fixes: Vec<TraceFix> = Walk::new(7)
        .take(count)
        .enumerate()
        .map(|(i, p)| TraceFix {
            time_ms: p.time.0 + (i % 1000) as i64,
            lat: p.lat,
            lon: p.lon,
            accuracy_m: p.accuracy as f32 + 0.4,
            speed_mps: (i % 7 != 0).then_some(p.speed as f32 * 1.37),
            heading_deg: (i % 5 != 0).then_some(p.heading as f32 + 0.5),
            altitude_m: (i % 6 != 0).then_some(p.altitude as f32 + 0.25),
        })
        .collect();
    println!("{count} fixes per format, best of 3 runs");
    for format in TraceFormat::ALL {
        let mut best = f64::INFINITY;
        let mut bytes = 0;
        for _ in 0..3 {
            let mut out = Counter(0);
            let started = Instant::now();
            write_trace(format, &fixes, "citizen-042", 60, &mut out)?;
            best = best.min(started.elapsed().as_secs_f64());
            bytes = out.0;
        }
        println!(
            "{:<24} {:>6.2} M fixes/s  {:>7.1} MB/s  {:>6.1} bytes/fix",
            format.name(),
            count as f64 / best / 1e6,
            bytes as f64 / best / 1e6,
            bytes as f64 / count.max(1) as f64
        );
    }
    Ok(())
}
