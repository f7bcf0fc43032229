//! A campaign measurement from real citizen stores to the city: synthetic
//! commuters' fixes are imported and analysed in their own stores, each
//! store computes and sends its contribution, and the city's totals are
//! exactly the sum of what the citizens previewed.

#[path = "../../aggregator/tests/common/mod.rs"]
mod common;

use rand::SeedableRng;
use sillage_analysis::AnalysisParams;
use sillage_analysis::mode::RuleClassifier;
use sillage_catalogue::{Exclusion, MeasurementSpec, ShareUnit};
use sillage_contribution::{contributable_trips, preview, send};
use sillage_dap::task::VdafConfig;
use sillage_model::{Correction, CorrectionValue, Fix, ModeGroup, SourceFormat, Timestamp};
use sillage_store::{CitizenName, CitizenStore, ImportChunk, citizen_store_path};
use sillage_testdata::CommuterDays;

/// One week of a commuter's fixes (seeded), imported and analysed.
async fn commuter_store(dir: &std::path::Path, seed: u64) -> CitizenStore {
    let name = CitizenName::new(&format!("citizen-{seed}")).unwrap();
    let store = CitizenStore::open(&citizen_store_path(dir, &name))
        .await
        .unwrap();
    let fixes: Vec<(u32, Fix)> = CommuterDays::new(seed)
        .take(7 * 5760)
        .map(|p| {
            let mut fix = Fix::new(p.time, p.lat, p.lon);
            fix.accuracy_m = Some(p.accuracy as f32);
            (0, fix)
        })
        .collect();
    let mut writer = store.begin_import().await.unwrap();
    writer
        .start_batch("week.csv", SourceFormat::Csv)
        .await
        .unwrap();
    writer
        .write(&ImportChunk {
            new_devices: vec!["phone".into()],
            fixes,
            hints: Vec::new(),
            rejected: Default::default(),
        })
        .await
        .unwrap();
    writer.commit().await.unwrap();
    sillage_diary::refresh(&store, &AnalysisParams::default(), &RuleClassifier)
        .await
        .unwrap();
    store
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contributions_leave_citizen_stores_only_as_capped_shares_and_sum_exactly() {
    let spec = MeasurementSpec::ModalShare {
        unit: ShareUnit::Trips,
        mode_groups: vec![
            ModeGroup::Walk,
            ModeGroup::Bike,
            ModeGroup::Car,
            ModeGroup::Bus,
            ModeGroup::Rail,
        ],
        cap: 6,
    };
    let length = spec.validate().unwrap();
    let d = common::deploy(
        &common::Backend::Sqlite,
        10,
        None,
        VdafConfig {
            length,
            max_weight: spec.cap(),
        },
    )
    .await;
    let stores = tempfile::tempdir().unwrap();
    // The campaign asks about the first week of January 2024.
    let (from, to) = (Timestamp(1_704_067_200_000), Timestamp(1_704_672_000_000));
    let mut exact = vec![0i64; length];
    for seed in 0..11 {
        let store = commuter_store(stores.path(), seed).await;
        let trips = contributable_trips(&store, from, to).await.unwrap();
        assert_eq!(trips.len(), 14, "two commutes a day for a week");
        if seed == 0 {
            // This citizen marks Monday morning's trip private.
            let monday = &trips[0].0;
            store
                .add_correction(&Correction {
                    id: 0,
                    device: monday.device.clone(),
                    start: monday.start,
                    end: monday.end,
                    value: CorrectionValue::Private(true),
                })
                .await
                .unwrap();
            sillage_diary::refresh(&store, &AnalysisParams::default(), &RuleClassifier)
                .await
                .unwrap();
        }
        let trips = contributable_trips(&store, from, to).await.unwrap();
        // The citizen also leaves out Tuesday's trips in the preview.
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let contribution = preview(&spec, &trips, &[2, 3], &mut rng).unwrap();
        assert_eq!(
            contribution.vector.iter().sum::<u32>(),
            6,
            "capped at 6 of 12 or 11 trips"
        );
        assert!(
            contribution
                .excluded
                .contains(&(2, Exclusion::ExcludedByCitizen))
        );
        if seed == 0 {
            assert!(contribution.excluded.contains(&(0, Exclusion::Private)));
        }
        assert!(
            contribution
                .units
                .iter()
                .all(|u| ![0, 2, 3].contains(&u.trip) || seed != 0)
        );
        for (e, v) in exact.iter_mut().zip(&contribution.vector) {
            *e += i64::from(*v);
        }
        send(
            &d.client,
            &d.task,
            &contribution,
            d.token(),
            d.task.wave.start + 3600,
        )
        .await
        .unwrap();
    }
    let collection = d.collect().await.unwrap();
    assert_eq!(collection.report_count, 11);
    assert_eq!(d.totals(&collection), exact);
}
