//! A crash on demand, for the tests that kill an aggregator at the worst
//! moment and check that it recovers without counting anything twice.
//!
//! `SILLAGE_FAILPOINT=<name>:<n>` aborts the process the `n`-th time the
//! point `<name>` is reached. Unset (always, outside those tests), a point
//! costs one environment lookup per job.

use std::sync::atomic::{AtomicU64, Ordering};

static HITS: AtomicU64 = AtomicU64::new(0);

/// Aborts the process if `SILLAGE_FAILPOINT` names this point and its
/// count is reached.
pub(crate) fn hit(name: &str) {
    let Ok(spec) = std::env::var("SILLAGE_FAILPOINT") else {
        return;
    };
    let Some((point, count)) = spec.split_once(':') else {
        return;
    };
    if point != name {
        return;
    }
    let hits = HITS.fetch_add(1, Ordering::SeqCst) + 1;
    if count.parse::<u64>().is_ok_and(|n| hits >= n) {
        eprintln!("failpoint {name} reached {hits} times: aborting");
        std::process::abort();
    }
}
