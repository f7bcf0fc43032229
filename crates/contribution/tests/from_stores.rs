//! A campaign measurement from real citizen stores to the city: synthetic
//! commuters' fixes are imported and analysed in their own stores, each
//! store computes and sends its contribution, and the city's totals are
//! exactly the sum of what the citizens previewed.

#[path = "../../aggregator/tests/common/mod.rs"]
mod common;

use rand::SeedableRng;
use sillage_analysis::AnalysisParams;
use sillage_analysis::mode::RuleClassifier;
use sillage_campaign::consent::ConsentState;
use sillage_campaign::{AggregatorInfo, example};
use sillage_catalogue::{Exclusion, MeasurementSpec, ShareUnit};
use sillage_contribution::{
    ContributionError, Disclosing, answer, contributable_trips, contribute, disclosure_log, preview,
};
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
    let info = |endpoint: &sillage_dap::task::AggregatorEndpoint| AggregatorInfo {
        operator: endpoint.operator.clone(),
        url: endpoint.url.clone(),
        hpke: endpoint.hpke.clone(),
    };
    let campaign = example::cycle_lane(
        d.task.wave.start,
        info(&d.task.leader),
        info(&d.task.helper),
        d.task.collector_hpke.clone(),
        d.task.token_issuer_key.clone(),
    );
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
        let now = d.task.wave.start + 3600;
        let what = Disclosing {
            campaign_id: &campaign.id,
            wave_id: "before",
            measurement_id: "modal-share",
            epsilon: 0.5,
            task: &d.task,
        };
        // Nothing leaves before the citizen agrees.
        let early = contribute(&store, &d.client, &what, &contribution, d.token(), now, 6.0).await;
        assert!(
            matches!(
                early,
                Err(ContributionError::NoConsent(ConsentState::Requested))
            ),
            "{early:?}"
        );
        assert!(disclosure_log(&store).await.unwrap().is_empty());
        answer(&store, &campaign, "citizen", "fr", ConsentState::Given, now)
            .await
            .unwrap();
        contribute(&store, &d.client, &what, &contribution, d.token(), now, 6.0)
            .await
            .unwrap();
        let log = disclosure_log(&store).await.unwrap();
        assert_eq!(log.len(), 1);
        assert_eq!(
            (log[0].disclosure.values, log[0].disclosure.epsilon),
            (length, 0.5)
        );
        if seed == 1 {
            // Withdrawing stops any further contribution.
            answer(
                &store,
                &campaign,
                "citizen",
                "fr",
                ConsentState::Withdrawn,
                now,
            )
            .await
            .unwrap();
            let after =
                contribute(&store, &d.client, &what, &contribution, d.token(), now, 6.0).await;
            assert!(matches!(
                after,
                Err(ContributionError::NoConsent(ConsentState::Withdrawn))
            ));
            let history = store.consent_history(Some(&campaign.id)).await.unwrap();
            assert_eq!(
                history.iter().map(|e| e.state.as_str()).collect::<Vec<_>>(),
                ["given", "withdrawn"]
            );
        }
        if seed == 2 {
            // A yearly cap of 0.8 leaves no room for a second ε 0.5.
            let over =
                contribute(&store, &d.client, &what, &contribution, d.token(), now, 0.8).await;
            assert!(
                matches!(over, Err(ContributionError::BudgetExceeded { .. })),
                "{over:?}"
            );
            assert_eq!(
                disclosure_log(&store).await.unwrap().len(),
                1,
                "nothing logged, nothing sent"
            );
        }
    }
    let collection = d.collect().await.unwrap();
    assert_eq!(collection.report_count, 11);
    assert_eq!(d.totals(&collection), exact);
}
