//! Keeps a citizen's diary up to date.
//!
//! The analysis is pure and the store is I/O; this crate joins them: for
//! each device it reads the fixes, analyses them, re-applies the citizen's
//! corrections (which always win) and replaces the device's trips in one
//! transaction.

use sillage_analysis::corrections::{apply_corrections, to_trips};
use sillage_analysis::mode::ModeClassifier;
use sillage_analysis::{AnalysisParams, analyse};
use sillage_model::Timestamp;
use sillage_store::{CitizenStore, StoreError};

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
}

/// Re-analyses every device of the store and rewrites its diary.
pub async fn refresh(
    store: &CitizenStore,
    params: &AnalysisParams,
    classifier: &dyn ModeClassifier,
) -> Result<RefreshSummary, StoreError> {
    let (from, to) = (Timestamp(i64::MIN), Timestamp(i64::MAX));
    let mut summary = RefreshSummary::default();
    for device in store.devices().await? {
        let fixes = store.device_fixes(&device, from, to).await?;
        let diary = analyse(&fixes, params, classifier);
        let mut trips = to_trips(&device, &diary);
        let corrections = store.corrections(&device).await?;
        summary.corrections_applied += apply_corrections(&mut trips, &corrections);
        store.replace_trips(&device, from, to, &trips).await?;
        summary.devices += 1;
        summary.fixes += fixes.len();
        summary.trips += trips.len();
        summary.legs += trips.iter().map(|t| t.legs.len()).sum::<usize>();
    }
    Ok(summary)
}
