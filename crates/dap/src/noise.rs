//! The differential-privacy arithmetic: how much noise, and what interval
//! to publish with each noisy cell.
//!
//! Each aggregator adds discrete Laplace noise of scale `Δ/ε` to every cell
//! of its aggregate share, with `Δ = 2 · max_weight` (one citizen replaced
//! by another moves the totals by at most twice the cap, prio's
//! substitution sensitivity for L1-bounded vectors). Either aggregator's
//! noise alone protects citizens if the other is dishonest; the published
//! cell carries both, so its noise is the sum of two independent draws.

use crate::DapError;
use serde::{Deserialize, Serialize};

/// A privacy budget ε as an exact fraction, as prio samples it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Epsilon {
    /// Numerator.
    pub num: u32,
    /// Denominator.
    pub den: u32,
}

impl Epsilon {
    /// ε as a number.
    pub fn value(self) -> f64 {
        f64::from(self.num) / f64::from(self.den)
    }

    /// Refuses zero, a zero denominator, and budgets above 10 (no privacy
    /// left to speak of).
    pub fn validate(self) -> Result<(), DapError> {
        if self.num == 0 || self.den == 0 || self.value() > 10.0 {
            return Err(DapError::InvalidTask(format!(
                "epsilon {}/{} must be positive and at most 10",
                self.num, self.den
            )));
        }
        Ok(())
    }

    /// The budget in prio's form.
    pub fn to_prio(self) -> Result<prio::dp::PureDpBudget, DapError> {
        let rational = prio::dp::Rational::from_unsigned(self.num, self.den)
            .map_err(|e| DapError::InvalidTask(e.to_string()))?;
        prio::dp::PureDpBudget::new(rational).map_err(|e| DapError::InvalidTask(e.to_string()))
    }
}

/// Scale of the discrete Laplace noise each aggregator adds to each cell.
pub fn noise_scale(max_weight: u32, epsilon: Epsilon) -> f64 {
    2.0 * f64::from(max_weight) / epsilon.value()
}

/// Variance of one discrete Laplace draw of scale `scale`:
/// `2a / (1 − a)²` with `a = e^(−1/scale)`.
pub fn discrete_laplace_variance(scale: f64) -> f64 {
    let a = (-1.0 / scale).exp();
    2.0 * a / (1.0 - a).powi(2)
}

/// Standard deviation of a published cell's noise (two independent draws).
pub fn published_noise_sd(scale: f64) -> f64 {
    (2.0 * discrete_laplace_variance(scale)).sqrt()
}

/// The smallest `h` such that the published noise (the sum of two
/// independent discrete Laplace draws of `scale`) lies in `[−h, h]` with
/// probability at least `confidence`: the half-width of the interval
/// published around each cell.
pub fn interval_half_width(scale: f64, confidence: f64) -> u64 {
    // P(X = k) = (1 − a)/(1 + a) · a^|k| for one draw; the sum's law is the
    // self-convolution, computed over a range holding all but a negligible
    // tail mass.
    let a = (-1.0 / scale).exp();
    let reach = ((40.0 * scale).ceil() as usize).max(64);
    let norm = (1.0 - a) / (1.0 + a);
    let one: Vec<f64> = (0..=reach).map(|k| norm * a.powi(k as i32)).collect();
    let p = |k: i64| one.get(k.unsigned_abs() as usize).copied().unwrap_or(0.0);
    let reach = reach as i64;
    // Mass of the sum at s (symmetric, so s ≥ 0 suffices).
    let sum_at = |s: i64| (-reach..=reach).map(|j| p(j) * p(s - j)).sum::<f64>();
    let mut inside = sum_at(0);
    for h in 1..=reach {
        if inside >= confidence {
            return (h - 1) as u64;
        }
        inside += 2.0 * sum_at(h);
    }
    reach as u64
}

/// Maps a field element of an unsharded (noisy) aggregate back to a signed
/// count: noise can push a small total below zero, which wraps modulo `p`.
pub fn signed_count(value: u128, modulus: u128) -> i128 {
    if value > modulus / 2 {
        -((modulus - value) as i128)
    } else {
        value as i128
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_variance_and_interval() {
        let epsilon = Epsilon { num: 1, den: 1 };
        assert_eq!(noise_scale(4, epsilon), 8.0);
        // Large scales: variance ≈ 2·scale².
        let v = discrete_laplace_variance(8.0);
        assert!((v / 128.0 - 1.0).abs() < 0.01, "{v}");
        // The sum of two Laplace(b) has sd 2b; its 95 % half-width is
        // about 3.9·b for a continuous Laplace pair, close for discrete.
        let h = interval_half_width(8.0, 0.95);
        assert!((28..=34).contains(&h), "{h}");
        assert!(interval_half_width(8.0, 0.99) > h);
        assert_eq!(signed_count(5, 101), 5);
        assert_eq!(signed_count(99, 101), -2);
    }

    #[test]
    fn budgets_are_checked() {
        assert!(Epsilon { num: 0, den: 1 }.validate().is_err());
        assert!(Epsilon { num: 1, den: 0 }.validate().is_err());
        assert!(Epsilon { num: 11, den: 1 }.validate().is_err());
        assert!(Epsilon { num: 1, den: 2 }.to_prio().is_ok());
    }
}
