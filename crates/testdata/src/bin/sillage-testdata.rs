//! `sillage-testdata FORMAT POINTS [SEED] > file`: writes a synthetic file
//! (FORMAT is `records`, `gpx`, `csv` or `commuter`) for benchmarks.

use sillage_testdata::{SyntheticFormat, write_synthetic};
use std::io::{BufWriter, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let format = args.first().and_then(|f| SyntheticFormat::from_name(f));
    let points = args.get(1).and_then(|n| n.parse::<u64>().ok());
    let seed = args.get(2).map_or(Some(1), |s| s.parse::<u64>().ok());
    let (Some(format), Some(points), Some(seed)) = (format, points, seed) else {
        eprintln!("usage: sillage-testdata records|gpx|csv|commuter POINTS [SEED] > FILE");
        return ExitCode::from(2);
    };
    let mut out = BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
    match write_synthetic(&mut out, format, points, seed).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
