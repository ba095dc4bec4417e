//! Precision, recall and F-scores from counts.

use serde::Serialize;

/// Matching counts and the scores derived from them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Scores {
    /// True particles found (each counted once).
    pub tp: usize,
    /// Picks that found no true particle.
    pub fp: usize,
    /// True particles not found.
    pub fn_: usize,
    /// Picks on a true particle that an earlier pick already found.
    pub duplicates: usize,
    /// Number of picks.
    pub n_picks: usize,
    /// Number of true particles.
    pub n_truth: usize,
    /// Precision.
    pub precision: f64,
    /// Recall.
    pub recall: f64,
    /// F1.
    pub f1: f64,
    /// F-beta with the report's beta.
    pub f_beta: f64,
}

/// F-beta from precision and recall (0 when both are 0).
pub fn f_beta(p: f64, r: f64, beta: f64) -> f64 {
    let b2 = beta * beta;
    let d = b2 * p + r;
    if d > 0.0 { (1.0 + b2) * p * r / d } else { 0.0 }
}

impl Scores {
    /// Scores from counts. `precision_denominator` is the number of picks the metric charges
    /// (all picks for SHREC, so duplicates lower precision; TP + FP for CZII).
    pub fn from_counts(
        tp: usize,
        fp: usize,
        duplicates: usize,
        n_picks: usize,
        n_truth: usize,
        precision_denominator: usize,
        beta: f64,
    ) -> Self {
        let precision = if precision_denominator > 0 {
            tp as f64 / precision_denominator as f64
        } else {
            0.0
        };
        let recall = if n_truth > 0 {
            tp as f64 / n_truth as f64
        } else {
            0.0
        };
        Scores {
            tp,
            fp,
            fn_: n_truth - tp,
            duplicates,
            n_picks,
            n_truth,
            precision,
            recall,
            f1: f_beta(precision, recall, 1.0),
            f_beta: f_beta(precision, recall, beta),
        }
    }
}
