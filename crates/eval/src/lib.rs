//! The evaluation harness: how well does the analysis recover labelled trips
//! and modes?
//!
//! A dataset is a directory laid out like `shared/data/mobilitynet`:
//! `fixes/<device>.csv.gz` (any importable format works), `trips.csv`
//! (`run_id,…,start_ts,end_ts`) and `legs.csv`
//! (`run_id,…,mode,start_ts,end_ts,…,leg_type`), times in epoch seconds.
//! Each device file is analysed as one citizen's device.

mod dataset;
mod reference;
mod score;
mod train;

pub use dataset::{Dataset, GroundTruthLeg, GroundTruthTrip, load_dataset};
pub use reference::{ReferenceAgreement, ReferenceReport, reference_agreement};
pub use score::{DeviceScore, EvalReport, ModeClass, evaluate, evaluate_runs};
pub use train::{
    CvReport, EndToEnd, FoldReport, LegScores, Sample, Scores, TrainParams, class_mode,
    cross_validate, cross_validate_with, fold_runs, ground_truth_samples, macro_f1, mode_class,
    pipeline_samples, train, train_on, training_samples,
};

/// Why an evaluation could not run.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// A dataset file is missing or unreadable.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// A dataset file has an unexpected shape.
    #[error("{file}: line {line}: {message}")]
    Format {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// What was wrong.
        message: String,
    },
    /// A fixes file could not be parsed.
    #[error("{file}: {error}")]
    Fixes {
        /// The file.
        file: String,
        /// The parse error.
        error: sillage_ingest::IngestError,
    },
}
