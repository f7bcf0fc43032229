//! Keeps a citizen's diary up to date.
//!
//! The analysis is pure and the store is I/O; this crate joins them. A
//! refresh
//!
//! 1. analyses each device's fixes into stays and trips;
//! 2. clusters every device's stays into the citizen's places, labels them,
//!    and saves them matched to the stored places (ids, names and the
//!    citizen's labels survive);
//! 3. links trips to places, infers purposes from place labels, re-applies
//!    the citizen's corrections (which always win), suggests the citizen's
//!    labels to similar trips, and computes each leg's CO2 (with the
//!    citizen's car settings) and calories;
//! 4. replaces each device's trips in one transaction.

use sillage_analysis::co2::{EmissionFactors, VehicleSettings};
use sillage_analysis::corrections::{apply_corrections, to_trips};
use sillage_analysis::footprint::annotate_footprint;
use sillage_analysis::mode::ModeClassifier;
use sillage_analysis::places::{
    PLACE_MATCH_M, PlaceParams, assign_trip_places, cluster_places, label_places, plan_places,
    usual_offset_min,
};
use sillage_analysis::purpose::infer_purposes;
use sillage_analysis::suggestions::{SimilarityParams, suggest_labels};
use sillage_analysis::{AnalysisParams, analyse};
use sillage_model::{LabelSource, StayPoint, Timestamp, Trip};
use sillage_store::{CitizenStore, StoreError};
use std::ops::Range;

/// What a refresh did.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct RefreshSummary {
    /// Devices analysed.
    pub devices: usize,
    /// Fixes read.
    pub fixes: usize,
    /// Trips written.
    pub trips: usize,
    /// Legs written.
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

/// One device's analysis, before places are known.
struct DeviceDiary {
    device: String,
    trips: Vec<Trip>,
    /// This device's stays within the citizen-wide list.
    stays: Range<usize>,
}

/// Re-analyses every device of the store and rewrites its diary.
pub async fn refresh(
    store: &CitizenStore,
    params: &AnalysisParams,
    classifier: &dyn ModeClassifier,
) -> Result<RefreshSummary, StoreError> {
    let (from, to) = (Timestamp(i64::MIN), Timestamp(i64::MAX));
    let vehicle =
        VehicleSettings::from_settings(&store.settings().await?).map_err(StoreError::Corrupt)?;
    let mut summary = RefreshSummary::default();

    let mut diaries = Vec::new();
    let mut stays: Vec<StayPoint> = Vec::new();
    let mut offsets: Vec<Option<i16>> = Vec::new();
    for device in store.devices().await? {
        let fixes = store.device_fixes(&device, from, to).await?;
        let diary = analyse(&fixes, params, classifier);
        let first = stays.len();
        stays.extend(diary.stays.iter().cloned());
        offsets.extend(diary.stay_utc_offsets.iter().copied());
        diaries.push(DeviceDiary {
            trips: to_trips(&device, &diary),
            device,
            stays: first..stays.len(),
        });
        summary.devices += 1;
        summary.fixes += fixes.len();
    }

    // Places are the citizen's, not a device's: a phone and a watch share a home.
    let place_params = PlaceParams::default();
    let clusters = cluster_places(&stays, &place_params);
    let labels = label_places(
        &stays,
        &clusters,
        &offsets,
        usual_offset_min(&offsets),
        &place_params,
    );
    let plan = plan_places(&clusters, &labels, &store.places().await?, PLACE_MATCH_M);
    let ids = store.save_places(&plan.places, &plan.delete).await?;
    for (cluster, id) in clusters.iter().zip(&ids) {
        for &member in &cluster.members {
            stays[member].place_id = Some(*id);
        }
    }
    let places = store.places().await?;
    summary.places = places.len();

    let mut trips = Vec::new();
    let mut written = Vec::new();
    for diary in diaries {
        let mut device_trips = diary.trips;
        assign_trip_places(
            &mut device_trips,
            &stays[diary.stays],
            &places,
            PLACE_MATCH_M,
        );
        infer_purposes(&mut device_trips, &places);
        let corrections = store.corrections(&diary.device).await?;
        summary.corrections_applied += apply_corrections(&mut device_trips, &corrections);
        written.push((diary.device, trips.len()..trips.len() + device_trips.len()));
        trips.extend(device_trips);
    }
    // Across devices: a commute corrected on the phone informs the watch's.
    let suggested = suggest_labels(&mut trips, &SimilarityParams::default());
    summary.purposes_suggested = suggested.purposes;
    summary.modes_suggested = suggested.modes;
    annotate_footprint(&mut trips, EmissionFactors::current(), &vehicle);

    for (device, range) in written {
        store
            .replace_trips(&device, from, to, &trips[range])
            .await?;
    }
    summary.purposes_inferred = trips
        .iter()
        .filter(|t| t.purpose_source == Some(LabelSource::Inferred))
        .count();
    summary.trips = trips.len();
    summary.legs = trips.iter().map(|t| t.legs.len()).sum();
    Ok(summary)
}
