//! Keeps a citizen's diary up to date.
//!
//! The analysis is pure and the store is I/O; this crate joins them. A
//! refresh
//!
//! 1. re-analyses only what changed: each interval of a device whose fixes
//!    changed (an import, an undo) is widened to the activities around it
//!    and analysed again into stays and trips ([`analysis_windows`]); the
//!    rest of the diary is taken from the store, back in its inferred state;
//! 2. clusters every device's stays into the citizen's places, labels them,
//!    and saves them matched to the stored places (ids, names and the
//!    citizen's labels survive);
//! 3. links trips to places, infers purposes from place labels, re-applies
//!    the citizen's corrections (which always win), suggests the citizen's
//!    labels to similar trips, and computes each leg's CO2 (with the
//!    citizen's car settings) and calories;
//! 4. saves stays, the whole diary and the dirty marks it accounts for in
//!    one transaction.
//!
//! Step 1 is where the time goes (reading and analysing fixes); steps 2–4
//! touch stays and trips only, so a citizen's year re-derives in
//! milliseconds and a new day of fixes costs a day of analysis.

use sillage_analysis::co2::{EmissionFactors, VehicleSettings};
use sillage_analysis::corrections::{apply_corrections, apply_structure, to_trips};
use sillage_analysis::footprint::annotate_footprint;
use sillage_analysis::mode::ModeClassifier;
use sillage_analysis::motion::NEIGHBOUR_MAX_MS;
use sillage_analysis::places::{
    PLACE_MATCH_M, PlaceParams, assign_trip_places, cluster_places, label_places, plan_places,
    usual_offset_min,
};
use sillage_analysis::purpose::infer_purposes;
use sillage_analysis::suggestions::{SimilarityParams, suggest_labels};
use sillage_analysis::{AnalysisParams, analyse};
use sillage_model::{LabelSource, StayPoint, Timestamp, Trip};
use sillage_store::{
    AnalysedWindow, CitizenStore, DeviceStay, DiaryUpdate, DirtyWindow, StoreError,
};
use std::ops::Range;

mod correct;
pub use correct::{CorrectError, TripCorrection, correct_trip};

/// What a refresh did.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct RefreshSummary {
    /// Devices with at least one interval analysed again.
    pub devices: usize,
    /// Intervals analysed again.
    pub windows: usize,
    /// Fixes read and analysed.
    pub fixes: usize,
    /// Trips in the diary.
    pub trips: usize,
    /// Legs in the diary.
    pub legs: usize,
    /// Corrections that found their trip or leg again.
    pub corrections_applied: usize,
    /// Places the citizen has after the refresh.
    pub places: usize,
    /// Trips whose purpose is inferred from their places (and neither the
    /// citizen's nor a suggestion).
    pub purposes_inferred: usize,
    /// Trips whose purpose is suggested from a similar trip the citizen labelled.
    pub purposes_suggested: usize,
    /// Legs whose mode is suggested from a similar trip the citizen labelled.
    pub modes_suggested: usize,
}

/// Marks everything as changed and refreshes: every fix is analysed again
/// (after a new model, new parameters, or to rebuild a diary from scratch).
pub async fn refresh_all(
    store: &CitizenStore,
    params: &AnalysisParams,
    classifier: &(dyn ModeClassifier + Sync),
) -> Result<RefreshSummary, StoreError> {
    store.mark_all_dirty().await?;
    refresh(store, params, classifier).await
}

/// Brings the diary up to date: analyses again the intervals whose fixes
/// changed since the last refresh, then re-derives places, purposes,
/// corrections, suggestions and footprint over the whole diary.
pub async fn refresh(
    store: &CitizenStore,
    params: &AnalysisParams,
    classifier: &(dyn ModeClassifier + Sync),
) -> Result<RefreshSummary, StoreError> {
    let vehicle =
        VehicleSettings::from_settings(&store.settings().await?).map_err(StoreError::Corrupt)?;
    let mut summary = RefreshSummary::default();
    let (dirty, dirty_through) = store.dirty_windows().await?;
    let mut stays = store.stays().await?;
    let mut trips: Vec<Trip> = store
        .trips_between(Timestamp(i64::MIN), Timestamp(i64::MAX))
        .await?
        .into_iter()
        .map(Trip::as_inferred)
        .collect();

    let mut analysed = Vec::new();
    for device_dirty in dirty.chunk_by(|a, b| a.device == b.device) {
        let device = &device_dirty[0].device;
        let known: Vec<StayPoint> = stays
            .iter()
            .filter(|s| &s.device == device)
            .map(|s| s.point.clone())
            .collect();
        // Motion never looks across a silence this long, nor does a trip
        // continue across it: what follows is analysed alike with or without
        // what came before.
        let silence_ms = params.untracked_travel_max_ms.max(NEIGHBOUR_MAX_MS);
        let mut bounds = Vec::new();
        for trip in trips.iter().filter(|t| &t.device == device) {
            let silent = |neighbour: Option<Timestamp>, at: Timestamp| {
                neighbour.is_none_or(|n| (n.0 - at.0).abs() > silence_ms)
            };
            let (last, next) = store.fixes_around(device, trip.start, trip.end).await?;
            bounds.push(TripBounds {
                start: trip.start,
                end: trip.end,
                silence_before: silent(last, trip.start),
                silence_after: silent(next, trip.end),
            });
        }
        for (from, to) in analysis_windows(device_dirty, &known, &bounds, params.activity_min_ms) {
            let fixes = store
                .device_fixes(device, from, Timestamp(to.0.saturating_add(1)))
                .await?;
            let diary = analyse(&fixes, params, classifier);
            let found: Vec<DeviceStay> = diary
                .stays
                .iter()
                .zip(&diary.stay_utc_offsets)
                .map(|(point, offset)| DeviceStay {
                    device: device.clone(),
                    point: point.clone(),
                    utc_offset_min: *offset,
                })
                .collect();
            stays.retain(|s| !(&s.device == device && (from..=to).contains(&s.point.start)));
            trips.retain(|t| !(&t.device == device && (from..to).contains(&t.start)));
            stays.extend(found.iter().cloned());
            trips.extend(to_trips(device, &diary));
            analysed.push(AnalysedWindow {
                device: device.clone(),
                from,
                to,
                stays: found,
            });
            summary.windows += 1;
            summary.fixes += fixes.len();
        }
        summary.devices += 1;
    }
    stays.sort_by(|a, b| (&a.device, a.point.start).cmp(&(&b.device, b.point.start)));
    trips.sort_by(|a, b| (&a.device, a.start).cmp(&(&b.device, b.start)));

    derive(store, &stays, &mut trips, &vehicle, &mut summary).await?;
    store
        .save_diary(&DiaryUpdate {
            analysed,
            trips: &trips,
            dirty_through,
        })
        .await?;
    summary.purposes_inferred = trips
        .iter()
        .filter(|t| t.purpose_source == Some(LabelSource::Inferred))
        .count();
    summary.trips = trips.len();
    summary.legs = trips.iter().map(|t| t.legs.len()).sum();
    Ok(summary)
}

/// A stored trip as [`analysis_windows`] sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TripBounds {
    /// Departure.
    pub start: Timestamp,
    /// Arrival.
    pub end: Timestamp,
    /// The device was silent for longer than any unrecorded travel just
    /// before the departure (no fix in `untracked_travel_max_ms`).
    pub silence_before: bool,
    /// The same, just after the arrival.
    pub silence_after: bool,
}

/// The intervals of one device to analyse again, `[from, to]`, for its
/// changed intervals (sorted, as [`CitizenStore::dirty_windows`] returns
/// them), its stored stays and its stored trips (both in time order).
///
/// A changed interval is widened back to the last boundary before it and
/// forward to the first boundary after it. Boundaries are what trips never
/// cross: an activity (the window starts at the start of the last one that
/// ended before the change, and ends at the end of the first one that
/// begins after it), and a silence too long to be unrecorded travel (the
/// window starts at the arrival of a trip followed by one, or ends at the
/// departure of a trip preceded by one). The trips and stays inside the
/// widened interval are then exactly those the change can touch, and the
/// analysis starts and ends where it would over the whole history.
///
/// A bound that falls inside a stored trip moves out of it to the next
/// boundary: the stay the data ended on last time may be no stay at all once
/// the rest of the journey arrives. Widened intervals that meet are merged.
/// Without a boundary on a side, the interval is open on that side.
pub fn analysis_windows(
    changed: &[DirtyWindow],
    stays: &[StayPoint],
    trips: &[TripBounds],
    activity_min_ms: i64,
) -> Vec<(Timestamp, Timestamp)> {
    let activities: Vec<&StayPoint> = stays
        .iter()
        .filter(|s| s.end.0 - s.start.0 >= activity_min_ms)
        .collect();
    let start_before = |t: Timestamp| {
        let activity = activities
            .iter()
            .rev()
            .find(|s| s.end <= t)
            .map(|s| s.start);
        let silence = trips
            .iter()
            .rev()
            .find(|trip| trip.silence_after && trip.end <= t)
            .map(|trip| trip.end);
        activity.max(silence).unwrap_or(Timestamp(i64::MIN))
    };
    let end_after = |t: Timestamp| {
        let activity = activities.iter().find(|s| s.start >= t).map(|s| s.end);
        let silence = trips
            .iter()
            .find(|trip| trip.silence_before && trip.start >= t)
            .map(|trip| trip.start);
        match (activity, silence) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => a.or(b).unwrap_or(Timestamp(i64::MAX)),
        }
    };
    let crossing = |t: Timestamp| trips.iter().find(|trip| trip.start < t && t < trip.end);
    let mut windows: Vec<(Timestamp, Timestamp)> = Vec::new();
    for window in changed {
        let mut from = start_before(window.from);
        while let Some(trip) = crossing(from) {
            from = start_before(trip.start);
        }
        let mut to = end_after(window.to);
        while let Some(trip) = crossing(to) {
            to = end_after(trip.end);
        }
        match windows.last_mut() {
            Some(last) if from <= last.1 => last.1 = last.1.max(to),
            _ => windows.push((from, to)),
        }
    }
    windows
}

/// One device's trips and stays within the citizen-wide, device-sorted lists.
struct DeviceRanges {
    device: String,
    trips: Range<usize>,
    stays: Range<usize>,
}

/// Steps 2 and 3: places, purposes, corrections, suggestions, footprint,
/// over trips in their inferred state (sorted by device, then time).
async fn derive(
    store: &CitizenStore,
    stays: &[DeviceStay],
    trips: &mut Vec<Trip>,
    vehicle: &VehicleSettings,
    summary: &mut RefreshSummary,
) -> Result<(), StoreError> {
    // The citizen's splits and merges first: everything after sees their trips.
    summary.corrections_applied += restructure(store, trips).await?;
    // Places are the citizen's, not a device's: a phone and a watch share a home.
    let mut points: Vec<StayPoint> = stays.iter().map(|s| s.point.clone()).collect();
    let offsets: Vec<Option<i16>> = stays.iter().map(|s| s.utc_offset_min).collect();
    let place_params = PlaceParams::default();
    let clusters = cluster_places(&points, &place_params);
    let labels = label_places(
        &points,
        &clusters,
        &offsets,
        usual_offset_min(&offsets),
        &place_params,
    );
    let plan = plan_places(&clusters, &labels, &store.places().await?, PLACE_MATCH_M);
    let ids = store.save_places(&plan.places, &plan.delete).await?;
    for (cluster, id) in clusters.iter().zip(&ids) {
        for &member in &cluster.members {
            points[member].place_id = Some(*id);
        }
    }
    let places = store.places().await?;
    summary.places = places.len();

    for range in device_ranges(stays, trips) {
        let device_trips = &mut trips[range.trips];
        assign_trip_places(device_trips, &points[range.stays], &places, PLACE_MATCH_M);
        infer_purposes(device_trips, &places);
        let corrections = store.corrections(&range.device).await?;
        summary.corrections_applied += apply_corrections(device_trips, &corrections);
    }
    // Across devices: a commute corrected on the phone informs the watch's.
    let suggested = suggest_labels(trips, &SimilarityParams::default());
    summary.purposes_suggested = suggested.purposes;
    summary.modes_suggested = suggested.modes;
    annotate_footprint(trips, EmissionFactors::current(), vehicle);
    Ok(())
}

/// Applies each device's splits and merges to its trips (device-sorted,
/// and still so afterwards).
async fn restructure(store: &CitizenStore, trips: &mut Vec<Trip>) -> Result<usize, StoreError> {
    let mut applied = 0;
    let mut rebuilt = Vec::with_capacity(trips.len());
    let mut rest = std::mem::take(trips).into_iter().peekable();
    while let Some(first) = rest.next() {
        let device = first.device.clone();
        let mut mine = vec![first];
        while let Some(trip) = rest.next_if(|t| t.device == device) {
            mine.push(trip);
        }
        applied += apply_structure(&mut mine, &store.corrections(&device).await?);
        rebuilt.extend(mine);
    }
    *trips = rebuilt;
    Ok(applied)
}

/// Where each device's trips and stays lie in the two device-sorted lists.
fn device_ranges(stays: &[DeviceStay], trips: &[Trip]) -> Vec<DeviceRanges> {
    let mut devices: Vec<&str> = stays
        .iter()
        .map(|s| s.device.as_str())
        .chain(trips.iter().map(|t| t.device.as_str()))
        .collect();
    devices.sort_unstable();
    devices.dedup();
    devices
        .into_iter()
        .map(|device| DeviceRanges {
            device: device.to_owned(),
            trips: span_of(trips, |t| t.device.as_str().cmp(device)),
            stays: span_of(stays, |s| s.device.as_str().cmp(device)),
        })
        .collect()
}

/// The range of a sorted slice whose items compare equal.
fn span_of<T>(items: &[T], compare: impl Fn(&T) -> std::cmp::Ordering) -> Range<usize> {
    let first = items.partition_point(|item| compare(item).is_lt());
    let end = items.partition_point(|item| compare(item).is_le());
    first..end
}
