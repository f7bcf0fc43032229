//! Reports from citizens through both aggregators to the city, over HTTP
//! on loopback, with real databases.

mod common;

use common::{Backend, backends, deploy, measurement};
use prio::codec::Encode;
use prio::vdaf::Client;
use sillage_dap::bytes::Bytes;
use sillage_dap::messages::{ReportId, input_share_aad, input_share_info};
use sillage_dap::noise::Epsilon;
use sillage_dap::task::{Role, VdafConfig};
use sillage_dap::vdaf;

const SHAPE: VdafConfig = VdafConfig {
    length: 20,
    max_weight: 4,
};

fn sum(measurements: &[Vec<u32>]) -> Vec<i64> {
    let mut total = vec![0i64; SHAPE.length];
    for m in measurements {
        for (t, v) in total.iter_mut().zip(m) {
            *t += i64::from(*v);
        }
    }
    total
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exact_sums_end_to_end_without_noise_and_one_collection_only() {
    for backend in backends() {
        exact_sums_end_to_end_without_noise_and_one_collection_only_on(&backend).await;
    }
}

async fn exact_sums_end_to_end_without_noise_and_one_collection_only_on(backend: &Backend) {
    let d = deploy(backend, 10, None, SHAPE).await;
    let measurements: Vec<Vec<u32>> = (0..15).map(|i| measurement(i, SHAPE.length, 4)).collect();
    for m in &measurements {
        assert_eq!(d.upload(&d.report(m)).await.0, 201);
    }
    let collection = d.collect().await.unwrap();
    assert_eq!(collection.report_count, 15);
    assert_eq!(d.totals(&collection), sum(&measurements));
    // Collected once: asking again returns the very same release, and the
    // batch is closed to new reports.
    assert_eq!(d.collect().await.unwrap(), collection);
    let (status, detail) = d.upload(&d.report(&measurements[0])).await;
    assert_eq!(
        (status, detail.as_str()),
        (400, "report rejected: batch_collected")
    );
    let status = d.leader.status(&d.task.task_id).await.unwrap();
    assert_eq!(
        (status.aggregated, status.pending, status.collected),
        (15, 0, true)
    );
}

/// Builds a report of `values` sharded for `shape` (possibly not the
/// task's), letting the test tamper with the leader's plaintext share.
fn crafted(
    d: &common::Deployment,
    shape: VdafConfig,
    values: &[u128],
    tamper: impl Fn(&mut Vec<u8>),
) -> sillage_dap::messages::Report {
    let vdaf = vdaf::vdaf(&shape).unwrap();
    let mut report = d.report(&[0; SHAPE.length]);
    report.metadata.id = ReportId::random();
    let (public_share, shares) = vdaf
        .shard(
            &vdaf::context(&d.task.task_id),
            &values.to_vec(),
            &report.metadata.id.0,
        )
        .unwrap();
    let public_share = public_share.get_encoded().unwrap();
    let aad = input_share_aad(&d.task.task_id, &report.metadata, &public_share);
    let mut leader = shares[0].get_encoded().unwrap();
    tamper(&mut leader);
    let helper = shares[1].get_encoded().unwrap();
    report.leader_share = d
        .task
        .leader
        .hpke
        .seal(&leader, &input_share_info(Role::Leader), &aad)
        .unwrap();
    report.helper_share = d
        .task
        .helper
        .hpke
        .seal(&helper, &input_share_info(Role::Helper), &aad)
        .unwrap();
    report.public_share = Bytes(public_share);
    report
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malicious_reports_are_rejected_and_leave_the_sum_alone() {
    for backend in backends() {
        malicious_reports_are_rejected_and_leave_the_sum_alone_on(&backend).await;
    }
}

async fn malicious_reports_are_rejected_and_leave_the_sum_alone_on(backend: &Backend) {
    let d = deploy(backend, 10, None, SHAPE).await;
    let honest: Vec<Vec<u32>> = (100..112)
        .map(|i| measurement(i, SHAPE.length, 4))
        .collect();
    let mut first = None;
    for m in &honest {
        let report = d.report(m);
        assert_eq!(d.upload(&report).await.0, 201);
        first.get_or_insert(report);
    }
    let first = first.unwrap();

    // Refused at upload.
    let refusal = |(status, detail): (u16, String)| {
        assert_eq!(status, 400, "{detail}");
        detail
    };
    // The same report again: its token is spent.
    assert_eq!(
        refusal(d.upload(&first).await),
        "report rejected: token_reused"
    );
    // Its id with a fresh token: a replay.
    let mut replay = d.report(&honest[1]);
    replay.metadata.id = first.metadata.id;
    assert_eq!(
        refusal(d.upload(&replay).await),
        "report rejected: replayed"
    );
    // No valid token: forged, or issued for another task.
    let mut forged = d.report(&honest[2]);
    forged.token.signature.0[10] ^= 1;
    assert_eq!(
        refusal(d.upload(&forged).await),
        "report rejected: invalid_token"
    );
    let mut elsewhere = d.report(&honest[2]);
    elsewhere.token.nonce = Bytes(vec![1; 32]);
    assert_eq!(
        refusal(d.upload(&elsewhere).await),
        "report rejected: invalid_token"
    );
    // Outside the wave.
    let late =
        sillage_dap::messages::build_report(&d.task, &honest[3], d.token(), d.task.wave.end + 7200)
            .unwrap();
    assert_eq!(
        refusal(d.upload(&late).await),
        "report rejected: outside_wave"
    );

    // Accepted at upload, rejected by verification.
    let over_cap: Vec<u128> = (0..SHAPE.length as u128)
        .map(|i| u128::from(i < 10))
        .collect();
    let wide = VdafConfig {
        length: SHAPE.length,
        max_weight: 100,
    };
    let wrong_length = VdafConfig {
        length: SHAPE.length + 1,
        max_weight: 4,
    };
    let mut last_cell = [0u128; 21];
    last_cell[20] = 1;
    let mut one_hot = vec![0u128; SHAPE.length];
    one_hot[3] = 1;
    let malicious = [
        ("over the cap", crafted(&d, wide, &over_cap, |_| {})),
        (
            "wrong length",
            crafted(&d, wrong_length, &last_cell, |_| {}),
        ),
        (
            "tampered proof",
            crafted(&d, SHAPE, &one_hot, |share| {
                let last = share.len() - 1;
                share[last] ^= 0x40;
            }),
        ),
        (
            "tampered measurement",
            crafted(&d, SHAPE, &one_hot, |share| share[0] ^= 1),
        ),
    ];
    for (what, report) in &malicious {
        assert_eq!(d.upload(report).await.0, 201, "{what}");
    }
    let collection = d.collect().await.unwrap();
    assert_eq!(collection.report_count, honest.len() as u64);
    assert_eq!(d.totals(&collection), sum(&honest));
    let status = d.leader.status(&d.task.task_id).await.unwrap();
    assert_eq!(
        status.rejected.values().sum::<u64>(),
        malicious.len() as u64,
        "{status:?}"
    );
    for reason in ["token_reused", "replayed", "outside_wave"] {
        assert_eq!(
            status.refused_uploads.get(reason),
            Some(&1),
            "{reason}: {status:?}"
        );
    }
    assert_eq!(status.refused_uploads.get("invalid_token"), Some(&2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_released_below_the_minimum_batch_size() {
    for backend in backends() {
        nothing_is_released_below_the_minimum_batch_size_on(&backend).await;
    }
}

async fn nothing_is_released_below_the_minimum_batch_size_on(backend: &Backend) {
    let d = deploy(backend, 10, None, SHAPE).await;
    for i in 0..9 {
        assert_eq!(
            d.upload(&d.report(&measurement(i, SHAPE.length, 4)))
                .await
                .0,
            201
        );
    }
    match d.collect().await {
        Err(sillage_collector::CollectError::Refused { status, detail }) => {
            assert_eq!(status, 425);
            assert!(detail.contains("holds 9 valid reports"), "{detail}");
        }
        other => panic!("collected below k: {other:?}"),
    }
    // The refusal released nothing: one more report and the batch goes out.
    assert_eq!(
        d.upload(&d.report(&measurement(9, SHAPE.length, 4)))
            .await
            .0,
        201
    );
    assert_eq!(d.collect().await.unwrap().report_count, 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn noisy_release_stays_within_its_published_interval_mostly() {
    for backend in backends() {
        noisy_release_stays_within_its_published_interval_mostly_on(&backend).await;
    }
}

async fn noisy_release_stays_within_its_published_interval_mostly_on(backend: &Backend) {
    let epsilon = Epsilon { num: 1, den: 1 };
    let shape = VdafConfig {
        length: 200,
        max_weight: 2,
    };
    let d = deploy(backend, 10, Some(epsilon), shape).await;
    let measurements: Vec<Vec<u32>> = (0..12).map(|i| measurement(i, shape.length, 2)).collect();
    for m in &measurements {
        assert_eq!(d.upload(&d.report(m)).await.0, 201);
    }
    let collection = d.collect().await.unwrap();
    let totals = d.totals(&collection);
    let published = sillage_collector::publish(&d.task, collection.report_count, &totals, i64::MIN);
    let mut exact = vec![0i64; shape.length];
    for m in &measurements {
        for (e, v) in exact.iter_mut().zip(m) {
            *e += i64::from(*v);
        }
    }
    // Every cell's interval, suppressed or not (suppression hides cells
    // whose noise is large relative to their value; it is not the noise's
    // calibration).
    let h = published.interval_half_width as i64;
    let covered = totals
        .iter()
        .zip(&exact)
        .filter(|(total, e)| (**total - h..=**total + h).contains(*e))
        .count();
    let released = published.cells.iter().filter(|c| !c.suppressed).count();
    assert!(
        published
            .cells
            .iter()
            .zip(&totals)
            .all(|(cell, total)| cell.suppressed == (*total < 2 * h)),
        "released exactly when the value is at least twice the half-width ({released} released)"
    );
    // 200 cells, each covered with probability ≥ 0.95: fewer than 180
    // would happen with probability below one in a million.
    assert!(
        covered >= 180,
        "{covered} of 200 cells cover their exact value"
    );
    assert!(totals != exact, "noise was added");
    assert_eq!(published.noise_scale, 4.0);
}
