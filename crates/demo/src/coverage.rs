//! How far the published intervals can be trusted, measured: against the
//! exact sums of what was sent (the noise alone) and against the synthetic
//! ground truth (the whole chain: segmentation, modes, clipping, noise).

use serde::Serialize;
use sillage_catalogue::{ContributableTrip, MeasurementSpec};
use sillage_collector::PublishedResult;
use sillage_model::{GeoPoint, Timestamp};
use sillage_synth::TruthTrip;

/// One measurement's figures in the report.
#[derive(Clone, Debug, Default, Serialize)]
pub struct MeasurementFigures {
    /// Cells of the vector.
    pub cells: usize,
    /// Cells published with a number.
    pub cells_released: usize,
    /// Cells published as suppressed.
    pub cells_suppressed: usize,
    /// Share of released cells whose 95 % interval holds the exact sum of
    /// the accepted contributions (should be close to 0.95).
    pub noise_coverage: Option<f64>,
    /// Share of released cells whose 95 % interval holds the value computed
    /// from the consenting citizens' true trips.
    pub truth_coverage: Option<f64>,
    /// Share of all cells, suppressed or not, whose interval around the
    /// noisy total holds the exact sum: the noise's calibration, free of
    /// the selection that suppression makes (should be 0.95 within
    /// sampling error).
    pub noise_coverage_all_cells: Option<f64>,
    /// Contributors in the batch.
    pub contributors: u64,
    /// The published interval's half-width.
    pub interval_half_width: u64,
}

/// Adds `vector` into `sums`.
pub fn accumulate(sums: &mut Vec<i64>, vector: &[u32]) {
    if sums.len() < vector.len() {
        sums.resize(vector.len(), 0);
    }
    for (s, v) in sums.iter_mut().zip(vector) {
        *s += i64::from(*v);
    }
}

/// Share of released cells whose interval holds `reference[cell]`.
pub fn coverage(result: &PublishedResult, reference: &[i64]) -> Option<f64> {
    let mut released = 0usize;
    let mut inside = 0usize;
    for (k, cell) in result.cells.iter().enumerate() {
        if let Some((low, high)) = cell.interval_95 {
            released += 1;
            let truth = reference.get(k).copied().unwrap_or(0);
            if (low..=high).contains(&truth) {
                inside += 1;
            }
        }
    }
    (released > 0).then(|| inside as f64 / released as f64)
}

/// The figures of one released measurement; `noisy` are the collector's
/// totals before suppression.
pub fn figures(
    result: &PublishedResult,
    noisy: &[i64],
    exact: &[i64],
    truth: &[i64],
) -> MeasurementFigures {
    let released = result.cells.iter().filter(|c| !c.suppressed).count();
    let h = result.interval_half_width as i64;
    let inside = noisy
        .iter()
        .enumerate()
        .filter(|(k, v)| (*v - h..=*v + h).contains(&exact.get(*k).copied().unwrap_or(0)))
        .count();
    MeasurementFigures {
        cells: result.cells.len(),
        cells_released: released,
        cells_suppressed: result.cells.len() - released,
        noise_coverage: coverage(result, exact),
        truth_coverage: coverage(result, truth),
        noise_coverage_all_cells: (!noisy.is_empty()).then(|| inside as f64 / noisy.len() as f64),
        contributors: result.contributors,
        interval_half_width: result.interval_half_width,
    }
}

/// A true trip as the catalogue would count it, had the analysis been
/// perfect.
pub fn truth_contributable(trip: &TruthTrip) -> ContributableTrip {
    let by_group = sillage_catalogue::distance_by_group(
        trip.legs
            .iter()
            .filter_map(|leg| Some((leg.mode?.group(), leg.distance_m))),
    );
    ContributableTrip {
        start: Timestamp(trip.start_ms),
        origin: trip.origin,
        destination: trip.destination,
        distance_m: trip.distance_m(),
        main_group: trip
            .main_mode()
            .map_or(sillage_model::ModeGroup::Other, |m| m.group()),
        distance_by_group: by_group,
        path: thin(&trip.path),
        private: false,
    }
}

/// Keeps one vertex in every few: enough to find the H3 cells a path
/// crosses (they are hundreds of metres wide), far less to walk through.
fn thin(path: &[GeoPoint]) -> Vec<GeoPoint> {
    let step = (path.len() / 200).max(1);
    let mut thinned: Vec<GeoPoint> = path.iter().step_by(step).copied().collect();
    if let Some(last) = path.last()
        && thinned.last() != Some(last)
    {
        thinned.push(*last);
    }
    thinned
}

/// The truth vector of one measurement for one citizen's trips of the
/// wave (clipped to the cap like a real contribution).
pub fn truth_vector(
    spec: &MeasurementSpec,
    trips: &[ContributableTrip],
    rng: &mut impl rand::Rng,
) -> Vec<u32> {
    sillage_catalogue::encode(spec, trips, &[], rng)
        .map(|c| c.vector)
        .unwrap_or_default()
}
