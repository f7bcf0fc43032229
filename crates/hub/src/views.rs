//! What the pages and the API show, computed from a citizen's store.
//! Pages render these; the API serialises the same values, so the two can
//! never disagree.

use crate::clock::{local_clock, local_date, local_day_bounds, offset_min, parse_date, shift_date};
use crate::error::HubError;
use serde::Serialize;
use sillage_model::{Mode, ModeGroup, Place, Timestamp, Trip};
use sillage_store::{CitizenStore, Granularity};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use utoipa::ToSchema;

/// One leg as shown.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct LegView {
    /// Position in the trip.
    pub index: usize,
    /// Mode name (`bicycle`, `car`…).
    pub mode: String,
    /// Who set the mode: `citizen`, `inferred` or `suggested`.
    pub mode_source: String,
    /// What the analysis inferred, whatever the citizen said.
    pub inferred_mode: String,
    /// Confidence of the mode, 0–1.
    pub confidence: f32,
    /// Start (RFC 3339, UTC).
    pub start: String,
    /// End (RFC 3339, UTC): where the trip can be cut.
    pub end: String,
    /// Local clock time of the start.
    pub start_clock: String,
    /// Local clock time of the end.
    pub end_clock: String,
    /// Distance, km.
    pub distance_km: f64,
    /// Emissions, gCO2e, when known.
    pub co2_g: Option<f64>,
    /// Energy, kcal.
    pub kcal: f64,
    /// Map colour of the mode.
    pub colour: String,
}

/// One trip as shown.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct TripView {
    /// Trip id.
    pub id: i64,
    /// Recording device.
    pub device: String,
    /// Start (RFC 3339, UTC).
    pub start: String,
    /// End (RFC 3339, UTC).
    pub end: String,
    /// Local date of the start.
    pub date: String,
    /// Local clock time of the start.
    pub start_clock: String,
    /// Local clock time of the end.
    pub end_clock: String,
    /// Duration, minutes.
    pub duration_min: i64,
    /// Distance, km.
    pub distance_km: f64,
    /// Emissions, gCO2e; none when a leg's are unknown.
    pub co2_g: Option<f64>,
    /// Energy, kcal.
    pub kcal: f64,
    /// Purpose name, if known.
    pub purpose: Option<String>,
    /// Who set the purpose.
    pub purpose_source: Option<String>,
    /// Never part of any contribution.
    pub private: bool,
    /// Name of the origin place, if it is one.
    pub origin: Option<String>,
    /// Name of the destination place, if it is one.
    pub destination: Option<String>,
    /// Lowest leg confidence, 0–1.
    pub confidence: f32,
    /// Legs in order.
    pub legs: Vec<LegView>,
}

/// A day of trips.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DayView {
    /// The local date, `YYYY-MM-DD`.
    pub date: String,
    /// The day before.
    pub previous: String,
    /// The day after.
    pub next: String,
    /// Its trips, in order.
    pub trips: Vec<TripView>,
    /// Total distance, km.
    pub km: f64,
    /// Total emissions, gCO2e; none when some are unknown.
    pub co2_g: Option<f64>,
    /// Total energy, kcal.
    pub kcal: f64,
}

/// What a place is called: the citizen's name, else its label.
pub fn place_name(place: &Place) -> String {
    place
        .name
        .clone()
        .unwrap_or_else(|| place.label.as_str().to_owned())
}

/// Builds the view of a trip.
pub fn trip_view(trip: &Trip, places: &HashMap<i64, Place>) -> TripView {
    let name = |id: Option<i64>| id.and_then(|id| places.get(&id)).map(place_name);
    TripView {
        id: trip.id,
        device: trip.device.clone(),
        start: trip.start.to_rfc3339(),
        end: trip.end.to_rfc3339(),
        date: local_date(trip.start),
        start_clock: local_clock(trip.start),
        end_clock: local_clock(trip.end),
        duration_min: (trip.end.0 - trip.start.0) / 60_000,
        distance_km: round1(trip.distance_m / 1000.0),
        co2_g: trip.co2_g().map(f64::round),
        kcal: trip.kcal().round(),
        purpose: trip.purpose.map(|p| p.as_str().to_owned()),
        purpose_source: trip.purpose_source.map(|s| s.as_str().to_owned()),
        private: trip.private,
        origin: name(trip.origin_place_id),
        destination: name(trip.destination_place_id),
        confidence: trip.legs.iter().map(|l| l.confidence).fold(1.0, f32::min),
        legs: trip
            .legs
            .iter()
            .enumerate()
            .map(|(index, leg)| LegView {
                index,
                mode: leg.mode.as_str().to_owned(),
                mode_source: leg.mode_source.as_str().to_owned(),
                inferred_mode: leg.inferred_mode.as_str().to_owned(),
                confidence: leg.confidence,
                start: leg.start.to_rfc3339(),
                end: leg.end.to_rfc3339(),
                start_clock: local_clock(leg.start),
                end_clock: local_clock(leg.end),
                distance_km: round1(leg.distance_m / 1000.0),
                co2_g: leg.co2_g.map(f64::round),
                kcal: leg.kcal.round(),
                colour: sillage_export::mode_colour(leg.mode).to_owned(),
            })
            .collect(),
    }
}

/// The citizen's places by id.
pub async fn places_by_id(store: &CitizenStore) -> Result<HashMap<i64, Place>, HubError> {
    Ok(store
        .places()
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect())
}

/// Parses a `YYYY-MM-DD` request parameter.
pub fn date_param(text: &str) -> Result<(i64, u32, u32), HubError> {
    parse_date(text)
        .ok_or_else(|| HubError::BadRequest(format!("date {text:?}: expected YYYY-MM-DD")))
}

/// The trips of a local day.
pub async fn day(store: &CitizenStore, date: &str) -> Result<(DayView, Vec<Trip>), HubError> {
    let ymd = date_param(date)?;
    let (start, end) = local_day_bounds(ymd.0, ymd.1, ymd.2);
    let trips = store.trips_between(start, end).await?;
    let places = places_by_id(store).await?;
    let views: Vec<TripView> = trips.iter().map(|t| trip_view(t, &places)).collect();
    let view = DayView {
        date: date.to_owned(),
        previous: shift_date(ymd, -1),
        next: shift_date(ymd, 1),
        km: round1(views.iter().map(|t| t.distance_km).sum()),
        co2_g: views.iter().map(|t| t.co2_g).sum(),
        kcal: views.iter().map(|t| t.kcal).sum(),
        trips: views,
    };
    Ok((view, trips))
}

/// The local date of the citizen's most recent trip, or today.
pub async fn latest_day(store: &CitizenStore) -> Result<String, HubError> {
    let last = store.last_trip_start().await?;
    Ok(local_date(last.unwrap_or_else(Timestamp::now)))
}

/// One trip of the citizen's, or 404.
pub async fn trip(store: &CitizenStore, id: i64) -> Result<Trip, HubError> {
    store.trip(id).await?.ok_or(HubError::NotFound("trip"))
}

/// A trip's map: GeoJSON of its legs and ends.
pub async fn trip_geojson(
    store: &CitizenStore,
    trips: &[Trip],
) -> Result<serde_json::Value, HubError> {
    let mut features = Vec::new();
    for trip in trips {
        let fixes = store
            .device_fixes(&trip.device, trip.start, Timestamp(trip.end.0 + 1))
            .await?;
        features.extend(sillage_export::trip_features(trip, &fixes));
    }
    Ok(serde_json::json!({"type": "FeatureCollection", "features": features}))
}

/// How the dashboard groups time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Period {
    /// ISO weeks.
    Week,
    /// Calendar months.
    Month,
    /// Calendar years.
    Year,
}

impl Period {
    /// From `week`, `month` or `year`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "week" => Some(Self::Week),
            "month" => Some(Self::Month),
            "year" => Some(Self::Year),
            _ => None,
        }
    }

    /// The name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Week => "week",
            Self::Month => "month",
            Self::Year => "year",
        }
    }
}

/// One mode group over one period.
#[derive(Clone, Debug, Default, Serialize, ToSchema)]
pub struct GroupTotals {
    /// Trips with a leg of the group.
    pub trips: u64,
    /// Distance, km.
    pub km: f64,
    /// Emissions, gCO2e (unknown emissions count as 0 and set `co2_partial`).
    pub co2_g: f64,
    /// Whether some emissions were unknown.
    pub co2_partial: bool,
    /// Energy, kcal.
    pub kcal: f64,
}

/// One period of the dashboard.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PeriodRow {
    /// `2026-W14`, `2026-04` or `2026`.
    pub period: String,
    /// Totals by mode group (`walk`, `bike`, `car`, `bus`, `rail`, `other`).
    pub groups: BTreeMap<String, GroupTotals>,
}

/// The dashboard's numbers.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Dashboard {
    /// `week`, `month` or `year`.
    pub period: String,
    /// Periods, oldest first.
    pub rows: Vec<PeriodRow>,
    /// Share of trips by mode group over all periods shown, 0–1.
    pub modal_share: BTreeMap<String, f64>,
    /// Trips over all periods shown.
    pub trips: u64,
}

/// The mode groups in display order.
pub const GROUPS: [ModeGroup; 6] = [
    ModeGroup::Walk,
    ModeGroup::Bike,
    ModeGroup::Bus,
    ModeGroup::Rail,
    ModeGroup::Car,
    ModeGroup::Other,
];

/// The national shares of weekday local trips by main mode in metropolitan
/// France (SDES, Enquête Mobilité des Personnes 2018–2019): car 62.8 %,
/// walking 23.7 %, public transport 9.1 %, bicycle 2.7 %, other 1.7 %.
/// Public transport is split between bus and rail only in our display.
pub const NATIONAL_SHARE: [(ModeGroup, f64); 5] = [
    (ModeGroup::Walk, 0.237),
    (ModeGroup::Bike, 0.027),
    (ModeGroup::Car, 0.628),
    (ModeGroup::Bus, 0.091),
    (ModeGroup::Other, 0.017),
];

/// The last `count` periods of the citizen's footprint.
pub async fn dashboard(
    store: &CitizenStore,
    period: Period,
    count: usize,
) -> Result<Dashboard, HubError> {
    let granularity = match period {
        Period::Week => Granularity::Day,
        Period::Month => Granularity::Month,
        Period::Year => Granularity::Year,
    };
    let rows = store
        .footprint(Timestamp(i64::MIN), Timestamp(i64::MAX), granularity)
        .await?;
    let mut periods: BTreeMap<String, BTreeMap<String, GroupTotals>> = BTreeMap::new();
    for row in rows {
        let key = match period {
            Period::Week => iso_week(&row.period).unwrap_or(row.period.clone()),
            _ => row.period.clone(),
        };
        let totals = periods
            .entry(key)
            .or_default()
            .entry(row.mode.group().as_str().to_owned())
            .or_default();
        totals.trips += row.trips;
        totals.km += row.km;
        totals.kcal += row.kcal;
        match row.co2_g {
            Some(g) => totals.co2_g += g,
            None => totals.co2_partial = true,
        }
    }
    let skip = periods.len().saturating_sub(count);
    let rows: Vec<PeriodRow> = periods
        .into_iter()
        .skip(skip)
        .map(|(period, groups)| PeriodRow { period, groups })
        .collect();
    let mut by_group: BTreeMap<String, u64> = BTreeMap::new();
    for row in &rows {
        for (group, totals) in &row.groups {
            *by_group.entry(group.clone()).or_default() += totals.trips;
        }
    }
    let trips: u64 = by_group.values().sum();
    let modal_share = by_group
        .into_iter()
        .map(|(group, n)| {
            (
                group,
                if trips == 0 {
                    0.0
                } else {
                    n as f64 / trips as f64
                },
            )
        })
        .collect();
    Ok(Dashboard {
        period: period.as_str().to_owned(),
        rows,
        modal_share,
        trips,
    })
}

/// `2026-04-07` → `2026-W15` (ISO 8601 week).
fn iso_week(date: &str) -> Option<String> {
    let (y, m, d) = parse_date(date)?;
    let days = sillage_model::days_from_civil(y, m, d);
    // Monday = 0; 1970-01-01 was a Thursday (3).
    let weekday = (days + 3).rem_euclid(7);
    let thursday = days - weekday + 3;
    let (year, _, _) = sillage_model::civil_from_days(thursday);
    let week = (thursday - sillage_model::days_from_civil(year, 1, 1)) / 7 + 1;
    Some(format!("{year}-W{week:02}"))
}

/// The bike-days goal of one calendar year (Forfait Mobilités Durables).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct BikeDays {
    /// The year.
    pub year: i64,
    /// Days the citizen aims for.
    pub target: u32,
    /// The local dates with at least one commute trip with a leg by
    /// bicycle, e-bike or e-scooter.
    pub days: Vec<String>,
    /// Kilometres cycled on those commutes.
    pub km: f64,
}

/// Setting keys of the bike-days goal and its attestation.
pub const TARGET_SETTING: &str = "bike_days.target";
/// Name printed on the attestation.
pub const NAME_SETTING: &str = "attestation.name";
/// Employer printed on the attestation.
pub const EMPLOYER_SETTING: &str = "attestation.employer";
/// The default target, as in the La Rochelle programme.
pub const DEFAULT_TARGET: u32 = 100;

/// Counts the bike days of `year`.
pub async fn bike_days(store: &CitizenStore, year: i64) -> Result<BikeDays, HubError> {
    let (start, _) = local_day_bounds(year, 1, 1);
    let (end, _) = local_day_bounds(year + 1, 1, 1);
    let trips = store.trips_between(start, end).await?;
    let mut days = BTreeSet::new();
    let mut km = 0.0;
    for trip in &trips {
        let is_commute = trip.purpose == Some(sillage_model::Purpose::Commute);
        let bike_m: f64 = trip
            .legs
            .iter()
            .filter(|l| matches!(l.mode, Mode::Bicycle | Mode::EBike | Mode::EScooter))
            .map(|l| l.distance_m)
            .sum();
        if is_commute && bike_m > 0.0 {
            days.insert(local_date(trip.start));
            km += bike_m / 1000.0;
        }
    }
    let target = store
        .setting(TARGET_SETTING)
        .await?
        .and_then(|t| t.parse().ok())
        .unwrap_or(DEFAULT_TARGET);
    Ok(BikeDays {
        year,
        target,
        days: days.into_iter().collect(),
        km: round1(km),
    })
}

/// The current local year.
pub fn this_year() -> i64 {
    let now = Timestamp::now();
    let local = now.0 + i64::from(offset_min(now)) * 60_000;
    sillage_model::civil_from_days(local.div_euclid(86_400_000)).0
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_weeks_follow_thursdays() {
        assert_eq!(iso_week("2026-01-01").unwrap(), "2026-W01");
        assert_eq!(iso_week("2027-01-01").unwrap(), "2026-W53");
        assert_eq!(iso_week("2024-12-30").unwrap(), "2025-W01");
        assert_eq!(iso_week("2026-04-07").unwrap(), "2026-W15");
    }

    #[test]
    fn national_shares_add_up() {
        let total: f64 = NATIONAL_SHARE.iter().map(|(_, s)| s).sum();
        assert!((total - 1.0).abs() < 1e-9, "{total}");
    }
}
