//! Inferring a leg's transport mode.

use crate::features::LegFeatures;
use crate::legs::Movement;
use sillage_model::Mode;

/// A mode with the classifier's confidence in it (0–1).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ModeGuess {
    /// The most likely mode.
    pub mode: Mode,
    /// Confidence in `[0, 1]`.
    pub confidence: f32,
}

/// Anything that can guess a leg's mode from its features.
pub trait ModeClassifier {
    /// Guesses the mode of a leg.
    fn classify(&self, features: &LegFeatures, movement: Movement) -> ModeGuess;
}

/// Speed rules, the fallback when no trained model is available. They are
/// honest about their limits: low confidence where classes overlap.
#[derive(Clone, Copy, Debug, Default)]
pub struct RuleClassifier;

impl ModeClassifier for RuleClassifier {
    fn classify(&self, f: &LegFeatures, movement: Movement) -> ModeGuess {
        let guess = |mode, confidence| ModeGuess { mode, confidence };
        if movement == Movement::Slow || f.speed_p85 <= crate::legs::WALK_MAX_MPS {
            return guess(Mode::Walking, 0.8);
        }
        if f.speed_p85 < 7.0 && f.speed_p95 < 9.5 {
            return guess(Mode::Bicycle, 0.6);
        }
        if f.speed_p95 > 27.0 || (f.speed_p85 > 20.0 && f.still_share < 0.1) {
            return guess(Mode::RegionalTrain, 0.5);
        }
        if f.still_share > 0.2 && f.speed_p85 < 14.0 {
            return guess(Mode::Bus, 0.4);
        }
        guess(Mode::Car, 0.5)
    }
}
