//! Secure-aggregation throughput, end to end, against raw prio.
//!
//! ```sh
//! cargo run --release -p sillage-aggregator --example throughput -- REPORTS [CELLS] [CAP]
//! ```
//!
//! 1. **Raw prio**: shard, then verify with both aggregators (verify_init ×2,
//!    verifier message, verify_next ×2), single-threaded, on a sample.
//! 2. **Clients**: tokens, shards and HPKE-sealed reports for every citizen
//!    (done by citizens' devices in reality; timed apart).
//! 3. **End to end**: a leader and a helper on loopback HTTP with SQLite
//!    files (the test harness's deployment, jobs of 100 reports, ε = 1,
//!    k = 100); reports uploaded by 4 concurrent clients while the leader
//!    aggregates in the background; then the city collects (which finishes
//!    aggregation, adds noise, releases once).
//!
//! `SILLAGE_TEST_DIR` chooses where the databases go (default: the temp dir).
//!
//! Prints one JSON object.

#[path = "../tests/common/mod.rs"]
mod common;

use prio::vdaf::{Aggregator as _, Client as _};
use sillage_dap::messages::Report;
use sillage_dap::noise::Epsilon;
use sillage_dap::task::VdafConfig;
use sillage_dap::vdaf;
use std::sync::Arc;
use std::time::Instant;

fn measurement(seed: u64, cells: usize, cap: u32) -> Vec<u32> {
    let mut v = vec![0u32; cells];
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    for _ in 0..cap {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v[(x % cells as u64) as usize] += 1;
    }
    v
}

/// Seconds per report of shard + verify, measured on `sample` reports.
fn raw_prio(config: VdafConfig, sample: usize) -> (f64, f64) {
    let vdaf = vdaf::vdaf(&config).unwrap();
    let ctx = b"bench";
    let key = [7u8; 32];
    let measurements: Vec<Vec<u128>> = (0..sample)
        .map(|i| {
            measurement(i as u64, config.length, config.max_weight)
                .iter()
                .map(|&v| u128::from(v))
                .collect()
        })
        .collect();
    let started = Instant::now();
    let sharded: Vec<_> = measurements
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let nonce = (i as u128).to_le_bytes();
            (nonce, vdaf.shard(ctx, m, &nonce).unwrap())
        })
        .collect();
    let shard = started.elapsed().as_secs_f64() / sample as f64;
    let started = Instant::now();
    for (nonce, (public, shares)) in &sharded {
        let (s0, v0) = vdaf
            .verify_init(&key, ctx, 0, &(), nonce, public, &shares[0])
            .unwrap();
        let (s1, v1) = vdaf
            .verify_init(&key, ctx, 1, &(), nonce, public, &shares[1])
            .unwrap();
        let message = vdaf.verifier_shares_to_message(ctx, &(), [v0, v1]).unwrap();
        let _ = vdaf.verify_next(ctx, s0, message.clone()).unwrap();
        let _ = vdaf.verify_next(ctx, s1, message).unwrap();
    }
    let verify = started.elapsed().as_secs_f64() / sample as f64;
    (shard, verify)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let reports: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let cells: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(1000);
    let cap: u32 = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(8);
    let config = VdafConfig {
        length: cells,
        max_weight: cap,
    };

    let (shard_s, verify_s) = raw_prio(config, reports.min(500));

    let d = common::deploy_with(
        &common::Backend::Sqlite,
        100,
        Some(Epsilon { num: 1, den: 1 }),
        config,
        100,
    )
    .await;
    let task = d.task.clone();

    // Clients: tokens from the hub, then sharded, sealed reports.
    let started = Instant::now();
    let per_thread = reports.div_ceil(2);
    let made: Vec<Vec<Report>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..2)
            .map(|t| {
                let d = &d;
                scope.spawn(move || {
                    (t * per_thread..((t + 1) * per_thread).min(reports))
                        .map(|i| d.report(&measurement(i as u64, cells, cap)))
                        .collect()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let clients_s = started.elapsed().as_secs_f64();
    let queue: Vec<Report> = made.into_iter().flatten().collect();
    let report_bytes = serde_json::to_vec(&queue[0]).unwrap().len();

    // End to end: uploads while the leader aggregates, then collection.
    let started = Instant::now();
    let driver = tokio::spawn(
        d.leader
            .clone()
            .run_driver(std::time::Duration::from_millis(200)),
    );
    let url = format!("{}/tasks/{}/reports", task.leader.url, task.task_id);
    let queue = Arc::new(std::sync::Mutex::new(queue));
    let uploaders: Vec<_> = (0..4)
        .map(|_| {
            let (queue, client, url) = (queue.clone(), d.client.clone(), url.clone());
            tokio::spawn(async move {
                loop {
                    let Some(report) = queue.lock().unwrap().pop() else {
                        break;
                    };
                    let status = client
                        .put(&url)
                        .json(&report)
                        .send()
                        .await
                        .unwrap()
                        .status();
                    assert_eq!(status.as_u16(), 201);
                }
            })
        })
        .collect();
    for uploader in uploaders {
        uploader.await.unwrap();
    }
    let upload_s = started.elapsed().as_secs_f64();
    let collecting = Instant::now();
    let collection = d.collect().await.unwrap();
    let collect_s = collecting.elapsed().as_secs_f64();
    let end_to_end_s = upload_s + collect_s;
    driver.abort();
    let total: i64 = d.totals(&collection).iter().sum();
    let raw_rate = 1.0 / (shard_s + verify_s);
    let e2e_rate = reports as f64 / end_to_end_s;
    println!(
        "{}",
        serde_json::json!({
            "reports": reports,
            "cells": cells,
            "cap": cap,
            "report_json_bytes": report_bytes,
            "raw_prio_shard_ms": shard_s * 1e3,
            "raw_prio_verify_both_ms": verify_s * 1e3,
            "raw_prio_reports_per_s": raw_rate,
            "clients_s": clients_s,
            "upload_phase_s": upload_s,
            "collect_phase_s": collect_s,
            "end_to_end_s": end_to_end_s,
            "end_to_end_reports_per_s": e2e_rate,
            "ratio_to_raw_prio": e2e_rate / raw_rate,
            "collected_reports": collection.report_count,
            "noisy_total": total,
            "exact_total": reports as i64 * i64::from(cap),
        })
    );
}
