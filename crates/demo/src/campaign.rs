//! The demonstration's campaign: "where should the new cycle lane go?",
//! over zones and cells drawn from the territory itself.

use anyhow::Result;
use h3o::{LatLng, Resolution};
use sillage_campaign::{
    AggregatorInfo, CampaignMeasurement, CampaignSpec, Controller, LegalBasis, Localized,
    SPEC_VERSION, Wave,
};
use sillage_catalogue::{
    MeasurementSpec, ShareUnit, TimeBand, TimeBands, Zone, ZoneGeometry, Zones,
};
use sillage_dap::bytes::Bytes;
use sillage_dap::hpke::HpkeConfig;
use sillage_dap::noise::Epsilon;
use sillage_model::ModeGroup;
use sillage_territory::{NetworkMode, Territory};
use std::collections::BTreeMap;

/// The H3 cells of `resolution` holding at least `min_nodes` nodes of the
/// walking network: where people can be, in a stable order.
pub fn populated_cells(
    territory: &Territory,
    resolution: Resolution,
    min_nodes: usize,
) -> Vec<String> {
    let walk = territory.network(NetworkMode::Walk);
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for &node in walk.main_component() {
        let p = walk.point(node);
        if let Ok(ll) = LatLng::new(p.lat, p.lon) {
            *counts
                .entry(ll.to_cell(resolution).to_string())
                .or_default() += 1;
        }
    }
    counts
        .into_iter()
        .filter(|(_, n)| *n >= min_nodes)
        .map(|(cell, _)| cell)
        .collect()
}

fn text(fr: &str, en: &str) -> Localized {
    Localized {
        fr: fr.into(),
        en: en.into(),
    }
}

/// What the demonstration's campaign is built from.
pub struct CampaignInputs {
    /// Start and end of the measured period, epoch s.
    pub period: (u64, u64),
    /// Until when reports are accepted, epoch s.
    pub reports_until: u64,
    /// The minimum number of contributors (k).
    pub min_contributors: u64,
    /// The two aggregators.
    pub leader: AggregatorInfo,
    /// The second aggregator.
    pub helper: AggregatorInfo,
    /// The city's collector key.
    pub collector_hpke: HpkeConfig,
    /// The hub's token issuer key.
    pub token_issuer_key: Bytes,
}

/// The cycle-lane campaign over the territory: OD flows between H3 zones,
/// a heat map by hour band and mode, modal share in trips and km, and the
/// distance distribution.
pub fn cycle_lane(territory: &Territory, inputs: CampaignInputs) -> Result<CampaignSpec> {
    // Sectors of a few km² (H3 resolution 7): few enough that a pilot's
    // few hundred participants fill the OD matrix's main cells.
    let zone_cells = populated_cells(territory, Resolution::Seven, 150);
    let zones = Zones {
        zones: zone_cells
            .iter()
            .enumerate()
            .map(|(k, cell)| Zone {
                id: cell.clone(),
                name: format!("Secteur {}", k + 1),
                geometry: ZoneGeometry::H3 { cell: cell.clone() },
            })
            .collect(),
    };
    let heat_cells = populated_cells(territory, Resolution::Eight, 40);
    // A few hundred participants fill a few hundred cells at best: rail,
    // rare here, is counted only in the shares.
    let groups = vec![
        ModeGroup::Walk,
        ModeGroup::Bike,
        ModeGroup::Car,
        ModeGroup::Bus,
    ];
    let all_groups = vec![
        ModeGroup::Walk,
        ModeGroup::Bike,
        ModeGroup::Car,
        ModeGroup::Bus,
        ModeGroup::Rail,
    ];
    // Summer or winter: the bands are local hours at the period's offset.
    let offset = i32::from(sillage_model::paris_offset_min(sillage_model::Timestamp(
        inputs.period.0 as i64 * 1000,
    )));
    let band = |name: &str, start_hour, end_hour| TimeBand {
        name: name.into(),
        start_hour,
        end_hour,
    };
    let (start, end) = inputs.period;
    let measurement = |id: &str, fr: &str, en: &str, spec, epsilon| CampaignMeasurement {
        id: id.into(),
        title: text(fr, en),
        spec,
        epsilon,
    };
    let spec = CampaignSpec {
        spec_version: SPEC_VERSION,
        id: format!("piste-cyclable-{}", territory.name()),
        title: text(
            "Où passer la nouvelle piste cyclable ?",
            "Where should the new cycle lane go?",
        ),
        controller: Controller {
            name: "Ville de démonstration".into(),
            address: "Hôtel de Ville, place de la Mairie".into(),
            dpo_contact: "dpo@ville.example".into(),
        },
        purpose: text(
            "Mesurer où et quand on se déplace, et comment, pour choisir le tracé d'une piste cyclable.",
            "Measure where, when and how people travel to choose the route of a cycle lane.",
        ),
        dpv_purpose: "dpv:PublicBenefit".into(),
        legal_basis: LegalBasis::DataAltruism,
        context: text(
            "Démonstration de Sillage sur un territoire réel et une population synthétique.",
            "Sillage demonstration on a real territory with a synthetic population.",
        ),
        zones: zones.clone(),
        waves: vec![Wave {
            id: "quatre-semaines".into(),
            start,
            end,
            reports_until: inputs.reports_until,
        }],
        measurements: vec![
            measurement(
                "od",
                "Trajets entre secteurs",
                "Trips between sectors",
                MeasurementSpec::OdMatrix {
                    zones,
                    mode_groups: groups.clone(),
                    time_bands: TimeBands {
                        utc_offset_min: offset,
                        bands: vec![band("6 h – 22 h", 6, 22)],
                    },
                    cap: 4,
                },
                Epsilon { num: 1, den: 1 },
            ),
            measurement(
                "heat",
                "Passages par maille, heure et mode",
                "Trips through each cell by hour and mode",
                MeasurementSpec::H3Cells {
                    cells: heat_cells,
                    time_bands: TimeBands::peaks(offset),
                    mode_groups: groups.clone(),
                    cap: 20,
                },
                // The heat map is what the cycle lane is decided on: it
                // gets the larger share of the wave's budget.
                Epsilon { num: 2, den: 1 },
            ),
            measurement(
                "modal-share",
                "Part modale (trajets)",
                "Modal share (trips)",
                MeasurementSpec::ModalShare {
                    unit: ShareUnit::Trips,
                    mode_groups: all_groups.clone(),
                    cap: 20,
                },
                Epsilon { num: 1, den: 2 },
            ),
            measurement(
                "modal-share-km",
                "Part modale (km)",
                "Modal share (km)",
                MeasurementSpec::ModalShare {
                    unit: ShareUnit::Km,
                    mode_groups: all_groups,
                    cap: 40,
                },
                Epsilon { num: 1, den: 2 },
            ),
            measurement(
                "distances",
                "Distances parcourues",
                "Trip distances",
                MeasurementSpec::DistanceHistogram {
                    bounds_km: vec![0.0, 0.5, 1.0, 2.0, 3.0, 5.0],
                    mode_groups: groups,
                    cap: 20,
                },
                Epsilon { num: 1, den: 2 },
            ),
        ],
        min_contributors: inputs.min_contributors,
        suppression_threshold: 10,
        retention_months: 36,
        recipients: vec!["Ville de démonstration, service mobilité".into()],
        open_data: true,
        leader: inputs.leader,
        helper: inputs.helper,
        collector_hpke: inputs.collector_hpke,
        token_issuer_key: inputs.token_issuer_key,
        withdrawal: text(
            "Un clic dans l'application ; les agrégats déjà publiés ne peuvent pas être retirés.",
            "One click in the app; aggregates already published cannot be taken back.",
        ),
        expires_at: end + 365 * 86_400,
    };
    spec.validate()?;
    Ok(spec)
}
