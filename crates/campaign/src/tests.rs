use super::*;
use sillage_dap::hpke::HpkeKeypair;

const NOW: u64 = 1_760_000_000;

/// The example campaign with fresh keys.
pub(crate) fn cycle_lane() -> CampaignSpec {
    let aggregator = |operator: &str, url: &str| AggregatorInfo {
        operator: operator.into(),
        url: url.into(),
        hpke: HpkeKeypair::generate(1).config,
    };
    crate::example::cycle_lane(
        NOW,
        aggregator("Opérateur public de données", "https://leader.example"),
        aggregator("Laboratoire universitaire", "https://helper.example"),
        HpkeKeypair::generate(2).config,
        sillage_dap::bytes::Bytes(vec![1, 2, 3]),
    )
}

#[test]
fn a_signed_campaign_verifies_and_yields_the_same_tasks_everywhere() {
    let city = CitySigningKey::generate();
    let signed = city.sign(&cycle_lane()).unwrap();
    let spec = verify(&signed, &[city.public_key()], NOW).unwrap();
    assert_eq!(spec, cycle_lane_without_keys(&spec));
    let tasks = spec.tasks();
    assert_eq!(tasks.len(), 4, "two waves × two measurements");
    assert_eq!(tasks, spec.tasks(), "deterministic");
    let mut ids: Vec<_> = tasks.iter().map(|t| t.task_id).collect();
    ids.dedup();
    assert_eq!(ids.len(), 4);
    assert_eq!(tasks[0].vdaf.length, 2 * 2 * 3 * 2);
    assert_eq!(
        (tasks[0].min_batch_size, tasks[0].vdaf.max_weight),
        (100, 4)
    );
    assert_eq!(spec.epsilon_per_wave(), 1.5);
    // The JSON travels and reads back.
    let json = serde_json::to_string(&signed).unwrap();
    assert_eq!(
        serde_json::from_str::<SignedCampaign>(&json).unwrap(),
        signed
    );
}

/// The spec as verified has the keys it was signed with; the fixture
/// draws fresh ones, so compare everything else.
fn cycle_lane_without_keys(verified: &CampaignSpec) -> CampaignSpec {
    let mut expected = cycle_lane();
    expected.leader.hpke = verified.leader.hpke.clone();
    expected.helper.hpke = verified.helper.hpke.clone();
    expected.collector_hpke = verified.collector_hpke.clone();
    expected
}

#[test]
fn unsigned_foreign_tampered_expired_and_invalid_campaigns_are_refused() {
    let city = CitySigningKey::generate();
    let trusted = [city.public_key()];
    let signed = city.sign(&cycle_lane()).unwrap();

    let unsigned = SignedCampaign {
        signature: sillage_dap::bytes::Bytes(Vec::new()),
        ..signed.clone()
    };
    assert_eq!(verify(&unsigned, &trusted, NOW), Err(SpecError::Unsigned));

    let stranger = CitySigningKey::generate().sign(&cycle_lane()).unwrap();
    assert_eq!(
        verify(&stranger, &trusted, NOW),
        Err(SpecError::UnknownSigner)
    );

    let mut tampered = signed.clone();
    tampered.spec = tampered
        .spec
        .replace("\"min_contributors\": 100", "\"min_contributors\": 10");
    assert_ne!(tampered.spec, signed.spec);
    assert_eq!(verify(&tampered, &trusted, NOW), Err(SpecError::Tampered));

    let mut garbled = signed.clone();
    garbled.signature.0.truncate(10);
    assert_eq!(verify(&garbled, &trusted, NOW), Err(SpecError::Tampered));

    let expires = cycle_lane().expires_at;
    assert_eq!(
        verify(&signed, &trusted, expires),
        Err(SpecError::Expired(expires))
    );

    let mut small = cycle_lane();
    small.min_contributors = 5;
    assert!(
        matches!(city.sign(&small), Err(SpecError::Invalid(m)) if m.contains("min_contributors 5"))
    );
    let mut english_only = cycle_lane();
    english_only.purpose.fr.clear();
    assert!(
        matches!(city.sign(&english_only), Err(SpecError::Invalid(m)) if m.contains("purpose"))
    );
    assert!(SpecError::Tampered.to_string().contains("altered"));
}

#[test]
fn the_published_json_schema_describes_the_format() {
    let schema: serde_json::Value = serde_json::from_str(include_str!(
        "../../../docs/schemas/campaign-v1.schema.json"
    ))
    .unwrap();
    let spec = serde_json::to_value(cycle_lane()).unwrap();
    let keys: Vec<&String> = spec.as_object().unwrap().keys().collect();
    let mut required: Vec<&str> = schema["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap())
        .collect();
    required.sort_unstable();
    let mut keys: Vec<&str> = keys.iter().map(|k| k.as_str()).collect();
    keys.sort_unstable();
    assert_eq!(keys, required, "every field is in the schema, and required");
    assert_eq!(schema["properties"]["spec_version"]["const"], SPEC_VERSION);
    let kinds: Vec<&str> = schema["$defs"]["measurement"]["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["properties"]["kind"]["const"].as_str().unwrap())
        .collect();
    for m in &cycle_lane().measurements {
        let kind = serde_json::to_value(&m.spec).unwrap()["kind"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(kinds.contains(&kind.as_str()), "{kind}");
    }
}

mod consent_tests {
    use super::cycle_lane;
    use crate::consent::*;

    #[test]
    fn consent_moves_only_along_allowed_paths() {
        use ConsentState::*;
        assert!(Requested.can_become(Given));
        assert!(Requested.can_become(Deferred));
        assert!(Deferred.can_become(Refused));
        assert!(Given.can_become(Withdrawn));
        assert!(Withdrawn.can_become(Given), "a citizen may come back");
        assert!(Given.can_become(Expired));
        assert!(!Expired.can_become(Given));
        assert!(!Refused.can_become(Withdrawn));
        assert!(!Given.can_become(Given));
        assert!(Given.allows_contributions());
        assert!(!Withdrawn.allows_contributions() && !Deferred.allows_contributions());
    }

    #[test]
    fn records_carry_the_notice_shown_and_its_hash() {
        let spec = cycle_lane();
        let given = record(
            &spec,
            "citizen-7f3a",
            "fr",
            ConsentState::Given,
            1_760_000_100,
        );
        assert_eq!(given.event_state, ConsentState::Given);
        assert!(given.notice.contains("au moins 100 personnes"));
        assert!(given.notice.contains("Laboratoire universitaire"));
        assert_eq!(given.notice_hash.len(), 64);
        assert_eq!(
            (given.event_entity.as_str(), given.event_type.as_str()),
            ("citizen", "expressed")
        );
        let english = record(
            &spec,
            "citizen-7f3a",
            "en",
            ConsentState::Given,
            1_760_000_100,
        );
        assert!(english.notice.contains("What never leaves your store"));
        assert_ne!(english.notice_hash, given.notice_hash);
        let expired = record(
            &spec,
            "citizen-7f3a",
            "fr",
            ConsentState::Expired,
            1_800_000_000,
        );
        assert_eq!(expired.event_entity, "system");
        assert_eq!(given.processing.len(), 2);
    }

    fn disclosure(time: u64, epsilon: f64) -> Disclosure {
        Disclosure {
            time,
            campaign_id: "velo".into(),
            wave_id: "before".into(),
            measurement_id: "od".into(),
            values: 24,
            recipients: vec!["leader".into(), "helper".into()],
            epsilon,
        }
    }

    #[test]
    fn the_log_detects_tampering_and_bounds_the_budget() {
        let mut log = Vec::new();
        for i in 0..4 {
            append(&mut log, disclosure(1_000_000 + i * 86_400, 1.5));
        }
        assert_eq!(verify_log(&log), Ok(()));
        let mut changed = log.clone();
        changed[1].disclosure.values = 1;
        assert_eq!(verify_log(&changed), Err(1));
        let mut removed = log.clone();
        removed.remove(2);
        assert_eq!(verify_log(&removed), Err(2));

        let now = 1_000_000 + 4 * 86_400;
        assert_eq!(epsilon_spent(&log, now), 6.0);
        assert!(!within_budget(&log, 0.5, DEFAULT_YEARLY_EPSILON, now));
        assert!(within_budget(&log[..3], 1.5, DEFAULT_YEARLY_EPSILON, now));
        // A year later the budget is back.
        assert!(within_budget(
            &log,
            6.0,
            DEFAULT_YEARLY_EPSILON,
            now + 366 * 86_400
        ));
    }
}
