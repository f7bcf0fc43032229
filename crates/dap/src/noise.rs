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
    let one = discrete_laplace_pmf(scale, reach(scale));
    self_sum_half_width(&one, confidence)
}

/// The smallest `h` such that the difference between two published cells'
/// noises lies in `[−h, h]` with probability at least `confidence`: the
/// half-width of the interval around a before/after difference.
///
/// The cells come from two releases, each carrying two independent discrete
/// Laplace draws (one per aggregator), of scale `scale_before` and
/// `scale_after`. A scale of 0 is a release without noise (tests).
pub fn difference_half_width(scale_before: f64, scale_after: f64, confidence: f64) -> u64 {
    // Discrete Laplace noise is symmetric, so subtracting the before noise
    // has the same law as adding it: the difference's noise is
    // (A₁ + B₁) + (A₂ + B₂), two independent copies of one after draw plus
    // one before draw. Convolving one draw of each first leaves a single
    // self-convolution, done lazily by `self_sum_half_width`.
    // Ordered by scale, so that swapping the releases sums the same terms
    // in the same order and gives exactly the same width.
    let (narrow, wide) = if scale_before <= scale_after {
        (scale_before, scale_after)
    } else {
        (scale_after, scale_before)
    };
    let reach = reach(wide);
    let narrow = discrete_laplace_pmf(narrow, reach);
    let wide = discrete_laplace_pmf(wide, reach);
    // Truncated at `reach`: beyond it lies about e^(−40) of the mass.
    let pair: Vec<f64> = (0..=reach as i64)
        .map(|s| symmetric_convolution_at(&wide, &narrow, s))
        .collect();
    self_sum_half_width(&pair, confidence)
}

/// How far from zero the noise laws are computed: one draw of `scale` puts
/// about e^(−40) of its mass beyond 40 scales, far below any confidence
/// level anyone publishes.
fn reach(scale: f64) -> usize {
    ((40.0 * scale).ceil() as usize).max(64)
}

/// The law of one discrete Laplace draw of `scale`, by absolute value:
/// element `k` is `P(X = k) = P(X = −k) = (1 − a)/(1 + a) · a^k` with
/// `a = e^(−1/scale)`, for `k` in `0..=reach`. A scale of zero (or below)
/// is a point mass at 0.
fn discrete_laplace_pmf(scale: f64, reach: usize) -> Vec<f64> {
    if scale.is_nan() || scale <= 0.0 {
        // The formula's own limit (a = 0), written out so that a negative
        // or NaN scale cannot produce a law that is not one.
        let mut one = vec![0.0; reach + 1];
        one[0] = 1.0;
        return one;
    }
    let a = (-1.0 / scale).exp();
    let norm = (1.0 - a) / (1.0 + a);
    (0..=reach).map(|k| norm * a.powi(k as i32)).collect()
}

/// `P(X + Y = s)` for independent `X` and `Y` symmetric about zero, given
/// by their laws by absolute value (`p[k] = P(X = k) = P(X = −k)`, zero past
/// the end).
fn symmetric_convolution_at(p: &[f64], q: &[f64], s: i64) -> f64 {
    let (p_reach, q_reach) = ((p.len() - 1) as i64, (q.len() - 1) as i64);
    // Only the terms where both laws are non-zero; summed by increasing j
    // so that the result does not depend on how the range is split.
    let (from, to) = ((-p_reach).max(s - q_reach), p_reach.min(s + q_reach));
    (from..=to)
        .map(|j| p[j.unsigned_abs() as usize] * q[(s - j).unsigned_abs() as usize])
        .sum()
}

/// The smallest `h` such that `X + Y` lies in `[−h, h]` with probability at
/// least `confidence`, for `X`, `Y` independent with the symmetric law `one`
/// (by absolute value); at most `one.len() − 1`, the reach of the laws.
fn self_sum_half_width(one: &[f64], confidence: f64) -> u64 {
    // The sum's law is only needed up to the answer, so each of its masses
    // is computed as the scan reaches it (symmetric: s ≥ 0 suffices).
    let reach = (one.len() - 1) as i64;
    let mut inside = symmetric_convolution_at(one, one, 0);
    for h in 1..=reach {
        if inside >= confidence {
            return (h - 1) as u64;
        }
        inside += 2.0 * symmetric_convolution_at(one, one, h);
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
    fn interval_half_width_is_unchanged() {
        // Figures of the first implementation (one pmf, its convolution
        // computed inline), which published results already carry.
        assert_eq!(interval_half_width(0.0, 0.95), 0);
        assert_eq!(interval_half_width(8.0, 0.95), 33);
        assert_eq!(interval_half_width(50.0, 0.95), 206);
        assert_eq!(interval_half_width(100.0, 0.95), 411);
        assert_eq!(interval_half_width(200.0, 0.95), 823);
    }

    #[test]
    fn difference_half_width_adds_two_releases_noise() {
        // Four draws instead of two: about √2 wider for equal scales.
        let single = interval_half_width(8.0, 0.95) as f64;
        let h = difference_half_width(8.0, 8.0, 0.95) as f64;
        assert!(
            (1.3 * single..=1.5 * single).contains(&h),
            "{h} vs {single}"
        );
        // Noiseless releases differ by exactly their difference.
        assert_eq!(difference_half_width(0.0, 0.0, 0.95), 0);
        // One noiseless release: the other's noise alone.
        assert_eq!(
            difference_half_width(0.0, 8.0, 0.95),
            interval_half_width(8.0, 0.95)
        );
        assert!(difference_half_width(8.0, 8.0, 0.99) as f64 > h);
    }

    #[test]
    fn difference_half_width_is_symmetric_and_monotone() {
        let scales = [0.0, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0];
        for &before in &scales {
            let mut previous = 0;
            for &after in &scales {
                let h = difference_half_width(before, after, 0.95);
                assert_eq!(h, difference_half_width(after, before, 0.95));
                assert!(h >= previous, "({before}, {after}): {h} < {previous}");
                previous = h;
            }
        }
    }

    #[test]
    fn difference_half_width_handles_large_scales() {
        // Scale 200 (a cap of 4 at ε = 0.04): still exact, still √2 wider.
        let h = difference_half_width(200.0, 200.0, 0.95) as f64;
        let single = interval_half_width(200.0, 0.95) as f64;
        assert!(
            (1.3 * single..=1.5 * single).contains(&h),
            "{h} vs {single}"
        );
    }

    #[test]
    fn budgets_are_checked() {
        assert!(Epsilon { num: 0, den: 1 }.validate().is_err());
        assert!(Epsilon { num: 1, den: 0 }.validate().is_err());
        assert!(Epsilon { num: 11, den: 1 }.validate().is_err());
        assert!(Epsilon { num: 1, den: 2 }.to_prio().is_ok());
    }
}
