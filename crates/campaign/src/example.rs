//! The example campaign: the question La Rochelle's pilot asked, "where
//! should the new cycle lane go?", between two districts, before and after.
//! Used by the demonstration and the tests; a real campaign comes from the
//! city's portal.

use crate::{
    AggregatorInfo, CampaignMeasurement, CampaignSpec, Controller, LegalBasis, Localized,
    SPEC_VERSION, Wave,
};
use sillage_catalogue::{MeasurementSpec, ShareUnit, TimeBands, Zones};
use sillage_dap::bytes::Bytes;
use sillage_dap::hpke::HpkeConfig;
use sillage_dap::noise::Epsilon;
use sillage_model::ModeGroup;

/// Centre and Port, two squares of La Rochelle.
pub const TWO_ZONES: &str = include_str!("../../catalogue/fixtures/two-zones.geojson");

fn text(fr: &str, en: &str) -> Localized {
    Localized {
        fr: fr.into(),
        en: en.into(),
    }
}

/// The cycle-lane campaign: a "before" wave of two weeks from `start`
/// (UTC seconds) and an "after" wave six months later, each measuring trips
/// between the two districts by bike, car and on foot at the peaks (ε 1)
/// and the modal share (ε ½); k = 100.
pub fn cycle_lane(
    start: u64,
    leader: AggregatorInfo,
    helper: AggregatorInfo,
    collector_hpke: HpkeConfig,
    token_issuer_key: Bytes,
) -> CampaignSpec {
    let zones = Zones::from_geojson(TWO_ZONES).expect("the bundled zones are valid");
    let groups = vec![ModeGroup::Bike, ModeGroup::Car, ModeGroup::Walk];
    let day = 86_400;
    let wave = |id: &str, from: u64| Wave {
        id: id.into(),
        start: from,
        end: from + 14 * day,
        reports_until: from + 21 * day,
    };
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
        zones: zones.clone(),
        waves: vec![wave("before", start), wave("after", start + 180 * day)],
        measurements: vec![
            CampaignMeasurement {
                id: "od".into(),
                title: text("Trajets entre quartiers", "Trips between districts"),
                spec: MeasurementSpec::OdMatrix {
                    zones,
                    mode_groups: groups.clone(),
                    time_bands: TimeBands::peaks(60),
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
        leader,
        helper,
        collector_hpke,
        token_issuer_key,
        withdrawal: text(
            "Un clic dans l'application ; les agrégats déjà publiés ne peuvent pas être retirés.",
            "One click in the app; aggregates already published cannot be taken back.",
        ),
        expires_at: start + 365 * day,
    }
}
