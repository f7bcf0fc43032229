//! Import batches: the unit a citizen can list and undo.

use crate::{RejectReason, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

named_enum! {
    /// The formats Sillage recognises by content.
    SourceFormat {
        /// Google Takeout `Records.json`.
        GoogleRecords => "google_records",
        /// Google Takeout Semantic Location History (monthly files).
        GoogleSemantic => "google_semantic",
        /// Google on-device Timeline export, Android object form.
        GoogleTimelineAndroid => "google_timeline_android",
        /// Google on-device Timeline export, iOS array form.
        GoogleTimelineIos => "google_timeline_ios",
        /// GPX 1.0 or 1.1.
        Gpx => "gpx",
        /// KML with `gx:Track` (also inside KMZ).
        Kml => "kml",
        /// Garmin Training Center XML.
        Tcx => "tcx",
        /// Garmin FIT (binary activity files from watches and bike computers).
        Fit => "fit",
        /// GeoJSON with timed points or timed LineStrings.
        GeoJson => "geojson",
        /// An Overland batch (`{"locations":[Feature…]}`).
        Overland => "overland",
        /// Delimited text with a header (CSV, TSV, GPSLogger CSV).
        Csv => "csv",
        /// GeoLife PLT trajectory.
        GeoLifePlt => "geolife_plt",
        /// OwnTracks Recorder `.rec` file.
        OwnTracksRec => "owntracks_rec",
        /// OwnTracks JSON location messages (a single one or an array).
        OwnTracksJson => "owntracks_json",
        /// e-mission / OpenPATH raw export.
        EMission => "emission",
        /// GPSLogger for Android posting live to a custom URL.
        GpsLoggerLive => "gpslogger_live",
        /// The OsmAnd protocol (query string), as Traccar Client and OsmAnd send it.
        OsmAnd => "osmand",
        /// Traccar Client 9+ JSON body.
        TraccarJson => "traccar_json",
    }
}

/// What happened to the records of one import.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportCounts {
    /// Fixes stored for the first time.
    pub accepted: u64,
    /// Fixes already in the store for the same device and instant.
    pub duplicates: u64,
    /// Records not stored, by reason.
    pub rejected: BTreeMap<RejectReason, u64>,
    /// Source hints (activities, visits) stored alongside.
    pub hints: u64,
}

impl ImportCounts {
    /// Total number of rejected records.
    pub fn rejected_total(&self) -> u64 {
        self.rejected.values().sum()
    }

    /// Adds the counts of another import (e.g. another entry of the same archive).
    pub fn merge(&mut self, other: &ImportCounts) {
        self.accepted += other.accepted;
        self.duplicates += other.duplicates;
        self.hints += other.hints;
        for (reason, n) in &other.rejected {
            *self.rejected.entry(*reason).or_default() += n;
        }
    }
}

/// One import of one source into a citizen store.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImportBatch {
    /// Store-assigned identifier.
    pub id: i64,
    /// The name the citizen knows the source by (file name, archive entry, tracker app).
    pub source_name: String,
    /// The format detected from the content.
    pub format: SourceFormat,
    /// When the import started.
    pub imported_at: Timestamp,
    /// What happened to its records.
    pub counts: ImportCounts,
}
