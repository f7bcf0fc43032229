use super::*;
use sillage_catalogue::{MeasurementSpec, ShareUnit, TimeBands, Zones};
use sillage_dap::hpke::HpkeKeypair;
use sillage_dap::noise::Epsilon;
use sillage_model::ModeGroup;

const ZONES: &str = include_str!("../../catalogue/tests/fixtures/two-zones.geojson");
const NOW: u64 = 1_760_000_000;

fn text(fr: &str, en: &str) -> Localized {
    Localized {
        fr: fr.into(),
        en: en.into(),
    }
}

fn aggregator(operator: &str, url: &str) -> AggregatorInfo {
    AggregatorInfo {
        operator: operator.into(),
        url: url.into(),
        hpke: HpkeKeypair::generate(1).config,
    }
}

/// The cycle-lane campaign of the demonstration: two waves, before and
/// after, each measuring OD flows by bike and modal share.
pub(crate) fn cycle_lane() -> CampaignSpec {
    let groups = vec![ModeGroup::Bike, ModeGroup::Car, ModeGroup::Walk];
    let bands = TimeBands::peaks(60);
    CampaignSpec {
        spec_version: SPEC_VERSION,
        id: "velo-centre-port-2026".into(),
        title: text(
            "Où passer la nouvelle piste cyclable ?",
            "Where should the new cycle lane go?",
        ),
        controller: Controller {
            name: "Ville de La Rochelle".into(),
            address: "Place de l'Hôtel de Ville, 17000 La Rochelle".into(),
            dpo_contact: "dpo@ville-larochelle.fr".into(),
        },
        purpose: text(
            "Mesurer les déplacements entre le centre et le port pour choisir le tracé d'une piste cyclable.",
            "Measure trips between the centre and the port to choose the route of a cycle lane.",
        ),
        dpv_purpose: "dpv:PublicBenefit".into(),
        legal_basis: LegalBasis::DataAltruism,
        context: text(
            "Projet de piste cyclable Centre–Port, 2026.",
            "Centre–Port cycle lane project, 2026.",
        ),
        zones: Zones::from_geojson(ZONES).unwrap(),
        waves: vec![
            Wave {
                id: "before".into(),
                start: NOW,
                end: NOW + 14 * 86_400,
                reports_until: NOW + 21 * 86_400,
            },
            Wave {
                id: "after".into(),
                start: NOW + 180 * 86_400,
                end: NOW + 194 * 86_400,
                reports_until: NOW + 201 * 86_400,
            },
        ],
        measurements: vec![
            CampaignMeasurement {
                id: "od".into(),
                title: text("Trajets entre quartiers", "Trips between districts"),
                spec: MeasurementSpec::OdMatrix {
                    zones: Zones::from_geojson(ZONES).unwrap(),
                    mode_groups: groups.clone(),
                    time_bands: bands,
                    cap: 4,
                },
                epsilon: Epsilon { num: 1, den: 1 },
            },
            CampaignMeasurement {
                id: "modal-share".into(),
                title: text("Part modale", "Modal share"),
                spec: MeasurementSpec::ModalShare {
                    unit: ShareUnit::Trips,
                    mode_groups: groups,
                    cap: 4,
                },
                epsilon: Epsilon { num: 1, den: 2 },
            },
        ],
        min_contributors: 100,
        suppression_threshold: 10,
        retention_months: 36,
        recipients: vec!["Ville de La Rochelle, service mobilité".into()],
        open_data: true,
        leader: aggregator("Opérateur public de données", "https://leader.example"),
        helper: aggregator("Laboratoire universitaire", "https://helper.example"),
        collector_hpke: HpkeKeypair::generate(2).config,
        token_issuer_key: sillage_dap::bytes::Bytes(vec![1, 2, 3]),
        withdrawal: text(
            "Un clic dans l'application ; les agrégats déjà publiés ne peuvent pas être retirés.",
            "One click in the app; aggregates already published cannot be taken back.",
        ),
        expires_at: NOW + 365 * 86_400,
    }
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
