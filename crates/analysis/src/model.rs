//! A compact gradient-boosted decision-tree classifier for leg modes.
//!
//! Why our own learner: the model is small (a few hundred shallow trees over
//! a couple of dozen features), training takes seconds, and a dependency-free
//! implementation keeps this crate pure and the model file a plain JSON
//! document that can be reviewed, diffed and bundled into the binary.
//!
//! The learner is textbook second-order boosting (Friedman 2001; Chen &
//! Guestrin 2016, "XGBoost") with a softmax loss: each round fits one
//! regression tree per class to the gradients and hessians of the
//! cross-entropy; a leaf gets the Newton step −G/(H+λ), scaled by the
//! shrinkage. Training is deterministic: the only randomness is optional row
//! subsampling, drawn from a fixed seed.

use crate::features::LegFeatures;
use crate::legs::Movement;
use crate::mode::{ModeClassifier, ModeGuess, RuleClassifier};
use serde::{Deserialize, Serialize};
use sillage_model::Mode;

/// Version of the model file format written by [`GbdtModel::to_json`].
pub const FORMAT_VERSION: u32 = 1;

/// The committed model, compiled into the binary so that no file is needed
/// at run time. Regenerate with `sillage train-mode … --out
/// crates/analysis/models/mode-gbdt.json` and rebuild.
const BUNDLED_JSON: &str = include_str!("../models/mode-gbdt.json");

/// Name of the input that flags a leg the segmenter found faster than
/// walking (see [`Movement`]); the other inputs are [`LegFeatures::NAMES`].
pub const FAST_INPUT: &str = "fast";

/// Names of every input a model may use, in the order of [`input_vector`].
pub fn input_names() -> Vec<String> {
    LegFeatures::NAMES
        .iter()
        .map(|n| (*n).to_owned())
        .chain(std::iter::once(FAST_INPUT.to_owned()))
        .collect()
}

/// Every input a model may use, in the order of [`input_names`].
pub fn input_vector(features: &LegFeatures, movement: Movement) -> Vec<f64> {
    let mut x = features.to_vec().to_vec();
    x.push(if movement == Movement::Fast { 1.0 } else { 0.0 });
    x
}

/// Hyper-parameters of [`train`] (missing fields read as their defaults).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GbdtParams {
    /// Boosting rounds (one tree per class each).
    pub rounds: usize,
    /// Shrinkage applied to every leaf.
    pub learning_rate: f64,
    /// Maximum tree depth (a depth-d tree has at most 2^d leaves).
    pub max_depth: usize,
    /// Minimum training samples in a leaf.
    pub min_samples_leaf: usize,
    /// Minimum sum of hessians in a leaf (XGBoost's `min_child_weight`).
    pub min_hessian: f64,
    /// L2 penalty on leaf values (XGBoost's `lambda`).
    pub lambda: f64,
    /// Minimum loss reduction for a split (in units of G²/(H+λ)).
    pub min_gain: f64,
    /// Share of samples drawn (without replacement) for each round; 1 = all.
    pub subsample: f64,
    /// Seed of the subsampling draws.
    pub seed: u64,
}

impl Default for GbdtParams {
    fn default() -> Self {
        Self {
            rounds: 200,
            learning_rate: 0.05,
            max_depth: 3,
            min_samples_leaf: 8,
            min_hessian: 1.0,
            lambda: 1.0,
            min_gain: 0.0,
            subsample: 1.0,
            seed: 0,
        }
    }
}

/// A node of a regression tree. Keys are one letter because a model holds
/// thousands of nodes and is compiled into the binary.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Node {
    /// `x[feature] < threshold` goes to `left`, anything else (including a
    /// NaN input) to `right`. Children always come after their parent.
    Split {
        /// Index into [`GbdtModel::feature_names`].
        #[serde(rename = "f")]
        feature: usize,
        /// Split value.
        #[serde(rename = "t")]
        threshold: f64,
        /// Index of the left child in the tree's nodes.
        #[serde(rename = "l")]
        left: usize,
        /// Index of the right child in the tree's nodes.
        #[serde(rename = "r")]
        right: usize,
    },
    /// A leaf: the tree's contribution to its class score.
    Leaf {
        /// Contribution (shrinkage already applied).
        #[serde(rename = "v")]
        value: f64,
    },
}

/// One regression tree, adding to the score of one class.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tree {
    /// Index into [`GbdtModel::classes`].
    pub class: usize,
    /// Nodes; the root is the first.
    pub nodes: Vec<Node>,
}

impl Tree {
    fn eval(&self, x: &[f64]) -> f64 {
        let mut k = 0;
        loop {
            match self.nodes.get(k) {
                Some(Node::Split {
                    feature,
                    threshold,
                    left,
                    right,
                }) => {
                    let v = x.get(*feature).copied().unwrap_or(f64::NAN);
                    k = if v < *threshold { *left } else { *right };
                }
                Some(Node::Leaf { value }) => return *value,
                None => return 0.0,
            }
        }
    }
}

/// A trained multiclass gradient-boosted tree model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GbdtModel {
    /// File format version ([`FORMAT_VERSION`]).
    pub version: u32,
    /// What the model was trained on and how well it did, for humans.
    #[serde(default)]
    pub description: String,
    /// The inputs, by name (a subset of [`input_names`], in any order).
    pub feature_names: Vec<String>,
    /// The classes, in score order.
    pub classes: Vec<Mode>,
    /// Initial score of each class (log prior).
    pub base_score: Vec<f64>,
    /// The hyper-parameters it was trained with.
    pub params: GbdtParams,
    /// Share of the total split gain per feature, for inspection.
    #[serde(default)]
    pub importance: Vec<f64>,
    /// The trees, round by round, one per class each round.
    pub trees: Vec<Tree>,
}

/// Why a model file was refused.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// Not JSON of the expected shape (the parse error is the source).
    #[error("not a mode model file")]
    Json(#[from] serde_json::Error),
    /// JSON of the right shape but inconsistent or from another version.
    #[error("inconsistent mode model file: {0}")]
    Invalid(String),
}

impl GbdtModel {
    /// Reads and checks a model file.
    pub fn from_json(text: &str) -> Result<Self, ModelError> {
        let model: Self = serde_json::from_str(text)?;
        model.validate()?;
        Ok(model)
    }

    /// Checks what serde cannot: version, known inputs, indices in range
    /// and children after parents (so evaluation always terminates).
    pub fn validate(&self) -> Result<(), ModelError> {
        let bad = |m: String| Err(ModelError::Invalid(m));
        if self.version != FORMAT_VERSION {
            return bad(format!(
                "format version {} (expected {FORMAT_VERSION})",
                self.version
            ));
        }
        let known = input_names();
        if let Some(name) = self.feature_names.iter().find(|n| !known.contains(n)) {
            return bad(format!("unknown input {name:?}"));
        }
        if self.classes.is_empty() || self.base_score.len() != self.classes.len() {
            return bad("classes and base scores disagree".into());
        }
        for (t, tree) in self.trees.iter().enumerate() {
            if tree.class >= self.classes.len() || tree.nodes.is_empty() {
                return bad(format!("tree {t}: bad class or no node"));
            }
            for (k, node) in tree.nodes.iter().enumerate() {
                if let Node::Split {
                    feature,
                    left,
                    right,
                    ..
                } = node
                {
                    let n = tree.nodes.len();
                    if *feature >= self.feature_names.len()
                        || *left <= k
                        || *right <= k
                        || *left >= n
                        || *right >= n
                    {
                        return bad(format!("tree {t}: node {k} out of range"));
                    }
                }
            }
        }
        Ok(())
    }

    /// Writes the model as JSON: the header pretty-printed, then one tree
    /// per line, so that a retrained model diffs readably.
    pub fn to_json(&self) -> String {
        #[derive(Serialize)]
        struct Header<'a> {
            version: u32,
            description: &'a str,
            feature_names: &'a [String],
            classes: &'a [Mode],
            base_score: &'a [f64],
            params: &'a GbdtParams,
            importance: &'a [f64],
        }
        let header = Header {
            version: self.version,
            description: &self.description,
            feature_names: &self.feature_names,
            classes: &self.classes,
            base_score: &self.base_score,
            params: &self.params,
            importance: &self.importance,
        };
        let head = serde_json::to_string_pretty(&header).unwrap_or_default();
        let mut out = head.trim_end().trim_end_matches('}').trim_end().to_owned();
        out.push_str(",\n  \"trees\": [");
        for (i, tree) in self.trees.iter().enumerate() {
            out.push_str(if i == 0 { "\n    " } else { ",\n    " });
            out.push_str(&serde_json::to_string(tree).unwrap_or_default());
        }
        out.push_str("\n  ]\n}\n");
        out
    }

    /// Class probabilities for a vector laid out like
    /// [`GbdtModel::feature_names`]; they sum to 1.
    pub fn predict_proba(&self, x: &[f64]) -> Vec<f64> {
        let mut score = self.base_score.clone();
        for tree in &self.trees {
            score[tree.class] += tree.eval(x);
        }
        softmax(&mut score);
        score
    }

    /// Picks this model's inputs out of [`input_vector`]'s layout.
    pub fn select_inputs(&self, all: &[f64]) -> Vec<f64> {
        let names = input_names();
        self.feature_names
            .iter()
            .map(|n| {
                names
                    .iter()
                    .position(|m| m == n)
                    .and_then(|k| all.get(k).copied())
                    .unwrap_or(f64::NAN)
            })
            .collect()
    }
}

impl ModeClassifier for GbdtModel {
    fn classify(&self, features: &LegFeatures, movement: Movement) -> ModeGuess {
        let p = self.predict_proba(&self.select_inputs(&input_vector(features, movement)));
        let best = argmax(&p);
        ModeGuess {
            mode: self.classes[best],
            confidence: p[best] as f32,
        }
    }
}

/// The model compiled into the binary, or `None` when the bundled file is
/// unreadable or was trained on inputs this build no longer computes (then
/// callers fall back to the rules rather than guess from wrong inputs).
pub fn bundled() -> Option<GbdtModel> {
    GbdtModel::from_json(BUNDLED_JSON).ok()
}

/// The classifier the pipeline should use: the trained model when there is
/// one, the speed rules ([`RuleClassifier`]) otherwise.
#[derive(Clone, Debug, Default)]
pub struct ModelOrRules {
    model: Option<GbdtModel>,
}

impl ModelOrRules {
    /// The bundled model, or the rules if it cannot be used.
    pub fn bundled() -> Self {
        Self { model: bundled() }
    }

    /// Always the rules.
    pub fn rules() -> Self {
        Self { model: None }
    }

    /// A given model.
    pub fn with_model(model: GbdtModel) -> Self {
        Self { model: Some(model) }
    }

    /// The model in use, if any.
    pub fn model(&self) -> Option<&GbdtModel> {
        self.model.as_ref()
    }
}

impl ModeClassifier for ModelOrRules {
    fn classify(&self, features: &LegFeatures, movement: Movement) -> ModeGuess {
        match &self.model {
            Some(model) => model.classify(features, movement),
            None => RuleClassifier.classify(features, movement),
        }
    }
}

fn softmax(score: &mut [f64]) {
    let max = score.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut sum = 0.0;
    for s in score.iter_mut() {
        *s = (*s - max).exp();
        sum += *s;
    }
    for s in score.iter_mut() {
        *s /= sum;
    }
}

/// Index of the largest value (the first on ties).
fn argmax(values: &[f64]) -> usize {
    let mut best = 0;
    for (k, v) in values.iter().enumerate() {
        if *v > values[best] {
            best = k;
        }
    }
    best
}

/// Rounds a leaf value to 1e-6: far below what matters, and it keeps the
/// file short and makes JSON round-trips exact (a short decimal parses back
/// to the very same f64, which long ones are not guaranteed to).
fn round_value(v: f64) -> f64 {
    if v.abs() < 1e9 {
        (v * 1e6).round() / 1e6
    } else {
        v
    }
}

/// The shortest decimal threshold `t` with `lo < t <= hi`, for the same
/// reason as [`round_value`]; the midpoint if no short one exists.
fn round_threshold(lo: f64, hi: f64) -> f64 {
    let mid = lo + (hi - lo) / 2.0;
    if mid == 0.0 || !mid.is_finite() {
        return if lo < mid && mid <= hi { mid } else { hi };
    }
    let magnitude = mid.abs().log10().floor() as i32;
    for digits in 1..=15 {
        let e = digits - 1 - magnitude;
        let q = if (0..=22).contains(&e) {
            let p = 10f64.powi(e);
            (mid * p).round() / p
        } else if (-22..0).contains(&e) {
            let p = 10f64.powi(-e);
            (mid / p).round() * p
        } else {
            break;
        };
        if lo < q && q <= hi {
            return q;
        }
    }
    if lo < mid && mid <= hi { mid } else { hi }
}

/// SplitMix64: a tiny, well-mixed generator for reproducible subsampling.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// Trains a model. `x` holds one row per sample laid out like
/// `feature_names`, `labels` the true modes and `weights` the sample weights
/// (use 1 for all to weigh samples equally). The classes are the distinct
/// labels in [`Mode`] order.
///
/// # Panics
/// If the lengths of `x`, `labels` and `weights` differ, or a row's length
/// differs from `feature_names`'.
pub fn train(
    x: &[Vec<f64>],
    labels: &[Mode],
    weights: &[f64],
    feature_names: Vec<String>,
    params: &GbdtParams,
) -> GbdtModel {
    assert_eq!(x.len(), labels.len(), "one label per row");
    assert_eq!(x.len(), weights.len(), "one weight per row");
    assert!(
        x.iter().all(|r| r.len() == feature_names.len()),
        "rows laid out like feature_names"
    );
    let mut classes: Vec<Mode> = labels.to_vec();
    classes.sort();
    classes.dedup();
    let (n, d, k) = (x.len(), feature_names.len(), classes.len());
    let y: Vec<usize> = labels
        .iter()
        .map(|m| classes.binary_search(m).unwrap_or(0))
        .collect();
    // Log prior, floored so that a class with almost no weight does not
    // start at −∞.
    let total: f64 = weights.iter().sum::<f64>().max(f64::MIN_POSITIVE);
    let base_score: Vec<f64> = (0..k)
        .map(|c| {
            let w: f64 = (0..n).filter(|&i| y[i] == c).map(|i| weights[i]).sum();
            round_value((w / total).max(1e-6).ln())
        })
        .collect();
    // Sample indices sorted by each feature once; nodes partition these
    // lists stably, so no node sorts again.
    let sorted: Vec<Vec<usize>> = (0..d)
        .map(|f| {
            let mut idx: Vec<usize> = (0..n).collect();
            // NaNs last (whatever their sign bit), so that they always fall
            // on the right of a split, as in prediction.
            idx.sort_by(|&a, &b| {
                let (u, v) = (x[a][f], x[b][f]);
                (u.is_nan().cmp(&v.is_nan()))
                    .then(u.total_cmp(&v))
                    .then(a.cmp(&b))
            });
            idx
        })
        .collect();
    let mut scores: Vec<Vec<f64>> = vec![base_score.clone(); n];
    let mut trees = Vec::with_capacity(params.rounds * k);
    let mut gains = vec![0.0; d];
    let mut rng = SplitMix(params.seed);
    let (mut grad, mut hess) = (vec![0.0; n], vec![0.0; n]);
    for _ in 0..params.rounds {
        let in_round: Vec<bool> = if params.subsample < 1.0 {
            (0..n)
                .map(|_| (rng.next() >> 11) as f64 / (1u64 << 53) as f64 <= params.subsample)
                .collect()
        } else {
            vec![true; n]
        };
        let round_sorted: Vec<Vec<usize>> = sorted
            .iter()
            .map(|idx| idx.iter().copied().filter(|&i| in_round[i]).collect())
            .collect();
        let probabilities: Vec<Vec<f64>> = scores
            .iter()
            .map(|s| {
                let mut p = s.clone();
                softmax(&mut p);
                p
            })
            .collect();
        for class in 0..k {
            for i in 0..n {
                let p = probabilities[i][class];
                let target = if y[i] == class { 1.0 } else { 0.0 };
                grad[i] = weights[i] * (p - target);
                hess[i] = weights[i] * (p * (1.0 - p)).max(1e-6);
            }
            let mut grower = Grower {
                x,
                grad: &grad,
                hess: &hess,
                params,
                nodes: Vec::new(),
                gains: &mut gains,
            };
            grower.grow(round_sorted.clone(), 0);
            let tree = Tree {
                class,
                nodes: grower.nodes,
            };
            for (row, s) in x.iter().zip(scores.iter_mut()) {
                s[class] += tree.eval(row);
            }
            trees.push(tree);
        }
    }
    let gain_total: f64 = gains.iter().sum::<f64>().max(f64::MIN_POSITIVE);
    GbdtModel {
        version: FORMAT_VERSION,
        description: String::new(),
        feature_names,
        classes,
        base_score,
        params: params.clone(),
        importance: gains.iter().map(|g| round_value(g / gain_total)).collect(),
        trees,
    }
}

/// Grows one regression tree depth-first.
struct Grower<'a> {
    x: &'a [Vec<f64>],
    grad: &'a [f64],
    hess: &'a [f64],
    params: &'a GbdtParams,
    nodes: Vec<Node>,
    gains: &'a mut [f64],
}

/// The best split found at a node.
struct Best {
    gain: f64,
    feature: usize,
    threshold: f64,
}

impl Grower<'_> {
    /// Grows the subtree over the samples in `sorted` (the same samples,
    /// sorted by each feature); returns its root's index.
    fn grow(&mut self, sorted: Vec<Vec<usize>>, depth: usize) -> usize {
        let here = self.nodes.len();
        let samples = sorted.first().map_or(&[][..], Vec::as_slice);
        let g: f64 = samples.iter().map(|&i| self.grad[i]).sum();
        let h: f64 = samples.iter().map(|&i| self.hess[i]).sum();
        let lambda = self.params.lambda;
        let leaf = Node::Leaf {
            value: round_value(-g / (h + lambda) * self.params.learning_rate),
        };
        let min_leaf = self.params.min_samples_leaf.max(1);
        if depth >= self.params.max_depth || samples.len() < 2 * min_leaf {
            self.nodes.push(leaf);
            return here;
        }
        let parent = g * g / (h + lambda);
        let mut best: Option<Best> = None;
        for (feature, idx) in sorted.iter().enumerate() {
            let (mut gl, mut hl) = (0.0, 0.0);
            for pos in 0..idx.len() - 1 {
                let i = idx[pos];
                gl += self.grad[i];
                hl += self.hess[i];
                let (lo, hi) = (self.x[i][feature], self.x[idx[pos + 1]][feature]);
                let left = pos + 1;
                if left < min_leaf || idx.len() - left < min_leaf {
                    continue;
                }
                // Only between distinct finite values: NaNs never take part
                // in a split and always go right, as in prediction.
                let distinct = lo < hi && lo.is_finite() && hi.is_finite();
                if !distinct {
                    continue;
                }
                let (gr, hr) = (g - gl, h - hl);
                if hl < self.params.min_hessian || hr < self.params.min_hessian {
                    continue;
                }
                let gain = gl * gl / (hl + lambda) + gr * gr / (hr + lambda) - parent;
                if gain > self.params.min_gain && best.as_ref().is_none_or(|b| gain > b.gain) {
                    best = Some(Best {
                        gain,
                        feature,
                        threshold: round_threshold(lo, hi),
                    });
                }
            }
        }
        let Some(best) = best else {
            self.nodes.push(leaf);
            return here;
        };
        self.gains[best.feature] += best.gain;
        self.nodes.push(Node::Leaf { value: 0.0 });
        let goes_left = |i: usize| self.x[i][best.feature] < best.threshold;
        let (mut left, mut right) = (Vec::new(), Vec::new());
        for idx in &sorted {
            let (l, r): (Vec<usize>, Vec<usize>) = idx.iter().partition(|&&i| goes_left(i));
            left.push(l);
            right.push(r);
        }
        let l = self.grow(left, depth + 1);
        let r = self.grow(right, depth + 1);
        self.nodes[here] = Node::Split {
            feature: best.feature,
            threshold: best.threshold,
            left: l,
            right: r,
        };
        here
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic pseudo-random points in [0, 1)².
    fn points(n: usize, seed: u64) -> Vec<Vec<f64>> {
        let mut rng = SplitMix(seed);
        let mut u = move || (rng.next() >> 11) as f64 / (1u64 << 53) as f64;
        (0..n).map(|_| vec![u(), u(), u()]).collect()
    }

    /// Three classes cut by axis-parallel lines; the third input is noise.
    fn toy_label(p: &[f64]) -> Mode {
        if p[0] < 0.3 {
            Mode::Walking
        } else if p[1] < 0.6 {
            Mode::Bus
        } else {
            Mode::Car
        }
    }

    fn names() -> Vec<String> {
        ["speed_p50", "speed_p85", "still_share"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect()
    }

    fn toy_model() -> (GbdtModel, Vec<Vec<f64>>) {
        let x = points(300, 1);
        let y: Vec<Mode> = x.iter().map(|p| toy_label(p)).collect();
        let w = vec![1.0; x.len()];
        let params = GbdtParams {
            rounds: 60,
            learning_rate: 0.3,
            min_samples_leaf: 2,
            min_hessian: 0.01,
            ..GbdtParams::default()
        };
        (train(&x, &y, &w, names(), &params), x)
    }

    #[test]
    fn learns_a_separable_problem_perfectly() {
        let (model, x) = toy_model();
        assert_eq!(model.classes, vec![Mode::Walking, Mode::Car, Mode::Bus]);
        for p in &x {
            let proba = model.predict_proba(p);
            assert_eq!(model.classes[argmax(&proba)], toy_label(p), "{p:?}");
        }
        // Unseen points away from the boundaries too.
        for p in points(200, 7) {
            if (p[0] - 0.3).abs() > 0.03 && (p[1] - 0.6).abs() > 0.03 {
                let proba = model.predict_proba(&p);
                assert_eq!(model.classes[argmax(&proba)], toy_label(&p), "{p:?}");
            }
        }
        // The noise input is (almost) never used.
        assert!(model.importance[2] < 0.01, "{:?}", model.importance);
    }

    #[test]
    fn missing_inputs_go_right_in_training_and_prediction() {
        // Class decided by x0 > 0.5; rows with NaN x0 are all "car" and
        // must end up on the side of the large values.
        let mut x = points(200, 9);
        let mut y: Vec<Mode> = x
            .iter()
            .map(|p| if p[0] < 0.5 { Mode::Walking } else { Mode::Car })
            .collect();
        for k in 0..20 {
            x[k][0] = if k % 2 == 0 { f64::NAN } else { -f64::NAN };
            y[k] = Mode::Car;
        }
        let w = vec![1.0; x.len()];
        let params = GbdtParams {
            rounds: 30,
            learning_rate: 0.3,
            min_samples_leaf: 2,
            min_hessian: 0.01,
            ..GbdtParams::default()
        };
        let model = train(&x, &y, &w, names(), &params);
        for (p, label) in x.iter().zip(&y) {
            let proba = model.predict_proba(p);
            assert_eq!(model.classes[argmax(&proba)], *label, "{p:?}");
        }
    }

    #[test]
    fn probabilities_sum_to_one() {
        let (model, _) = toy_model();
        for p in points(50, 3)
            .iter()
            .chain([vec![f64::NAN, -1e9, 1e9]].iter())
        {
            let proba = model.predict_proba(p);
            assert_eq!(proba.len(), 3);
            assert!((proba.iter().sum::<f64>() - 1.0).abs() < 1e-12, "{proba:?}");
            assert!(proba.iter().all(|v| (0.0..=1.0).contains(v)));
        }
    }

    #[test]
    fn json_round_trip_predicts_identically() {
        let (model, _) = toy_model();
        let text = model.to_json();
        let back = GbdtModel::from_json(&text).expect("reads back");
        assert_eq!(back, model);
        let plain = GbdtModel::from_json(&serde_json::to_string(&model).unwrap()).unwrap();
        assert_eq!(plain, model);
        for p in points(500, 11) {
            assert_eq!(back.predict_proba(&p), model.predict_proba(&p));
        }
        assert!(text.contains("\"classes\": [\n    \"walking\",\n    \"car\",\n    \"bus\""));
    }

    #[test]
    fn training_is_deterministic() {
        let (a, _) = toy_model();
        let (b, _) = toy_model();
        assert_eq!(a.to_json(), b.to_json());
        // With subsampling too, for a given seed.
        let x = points(200, 5);
        let y: Vec<Mode> = x.iter().map(|p| toy_label(p)).collect();
        let w = vec![1.0; x.len()];
        let params = GbdtParams {
            rounds: 10,
            subsample: 0.7,
            seed: 42,
            ..GbdtParams::default()
        };
        let c = train(&x, &y, &w, names(), &params);
        let d = train(&x, &y, &w, names(), &params);
        assert_eq!(c, d);
    }

    #[test]
    fn thresholds_are_short_and_separate() {
        assert_eq!(round_threshold(1.0, 2.0), 2.0);
        assert_eq!(round_threshold(1.21, 1.29), 1.25);
        assert_eq!(round_threshold(0.5, 0.9), 0.7);
        assert_eq!(round_threshold(118.0, 134.0), 130.0);
        for (lo, hi) in [(1.2345, 1.2346), (1e-7, 3e-7), (12345.678, 12345.679)] {
            let t = round_threshold(lo, hi);
            assert!(lo < t && t <= hi, "{lo} {hi} {t}");
        }
        let t = round_threshold(0.1, 0.1 + 1e-15);
        assert!(0.1 < t && t <= 0.1 + 1e-15);
        let t = round_threshold(-3.7, -3.2);
        assert!((-3.7..=-3.2).contains(&t) && t > -3.7, "{t}");
    }

    #[test]
    fn refuses_inconsistent_files() {
        let (model, _) = toy_model();
        let mut bad = model.clone();
        bad.feature_names[0] = "colour".into();
        assert!(bad.validate().is_err());
        let mut bad = model.clone();
        bad.trees[0].nodes[0] = Node::Split {
            feature: 0,
            threshold: 0.5,
            left: 0,
            right: 0,
        };
        assert!(bad.validate().is_err());
        let mut bad = model;
        bad.version = 99;
        assert!(GbdtModel::from_json(&bad.to_json()).is_err());
        assert!(GbdtModel::from_json("{}").is_err());
    }

    #[test]
    fn bundled_model_is_usable_and_falls_back_to_rules() {
        let model = bundled().expect("the committed model matches this build's inputs");
        // Written by `to_json` and not edited by hand since.
        assert_eq!(model.to_json(), BUNDLED_JSON);
        assert!(model.classes.contains(&Mode::Walking));
        let walk = LegFeatures {
            duration_s: 600.0,
            distance_m: 700.0,
            mean_speed: 1.2,
            speed_p50: 1.2,
            speed_p85: 1.5,
            speed_p95: 1.7,
            speed_max: 2.0,
            ..LegFeatures::default()
        };
        let classifier = ModelOrRules::bundled();
        assert!(classifier.model().is_some());
        let guess = classifier.classify(&walk, Movement::Slow);
        assert!((0.0..=1.0).contains(&guess.confidence));
        let rules = ModelOrRules::rules().classify(&walk, Movement::Slow);
        assert_eq!(rules, RuleClassifier.classify(&walk, Movement::Slow));
    }
}
