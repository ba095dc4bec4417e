//! The CZII CryoET Object Identification metric: a pick matches an unmatched true particle
//! of the same class (and tomogram, when both lists name one) within `threshold × radius` of it. Counts are summed over
//! tomograms, then F-beta per class and a weighted mean over classes.
//!
//! Matching here is one-to-one and greedy: picks in descending score order (input order
//! for ties) each take the nearest unmatched true particle in reach. Every unmatched pick is
//! a false positive, so duplicates lower precision as in the official `score.py`.

use crate::confusion::Confusion;
use crate::counts::{Scores, f_beta};
use crate::error::Result;
use crate::radii::ClassTable;
use crate::report::MetricReport;
use kiddo::{KdTree, SquaredEuclidean};
use std::collections::BTreeMap;
use tomopick_io::Particle;

/// Options of the CZII metric.
#[derive(Debug, Clone, Copy)]
pub struct CziiOptions {
    /// Fraction of the class radius within which a pick matches (0.5 in the challenge).
    pub threshold: f64,
    /// Beta of the F-beta score (4 in the challenge).
    pub beta: f64,
}

impl Default for CziiOptions {
    fn default() -> Self {
        CziiOptions {
            threshold: 0.5,
            beta: 4.0,
        }
    }
}

/// For each pick, the index of the true particle it matched, if any. `same_class` restricts
/// matches to equal class names.
fn match_picks(
    picks: &[Particle],
    truth: &[Particle],
    reach_a: &[f64],
    same_class: bool,
) -> Vec<Option<usize>> {
    let mut tree: KdTree<f64, 3> = KdTree::new();
    for (i, t) in truth.iter().enumerate() {
        tree.add(&t.pos_a.as_array(), i as u64);
    }
    let max_reach = reach_a.iter().copied().fold(0.0, f64::max);
    let mut order: Vec<usize> = (0..picks.len()).collect();
    order.sort_by(|&a, &b| {
        picks[b]
            .score
            .unwrap_or(0.0)
            .total_cmp(&picks[a].score.unwrap_or(0.0))
            .then(a.cmp(&b))
    });
    let mut taken = vec![false; truth.len()];
    let mut out = vec![None; picks.len()];
    for i in order {
        let p = &picks[i];
        let q = p.pos_a.as_array();
        let best = tree
            .within::<SquaredEuclidean>(&q, max_reach * max_reach)
            .into_iter()
            .map(|n| (n.item as usize, n.distance.sqrt()))
            .filter(|&(t, d)| {
                !taken[t]
                    && d <= reach_a[t]
                    && (!same_class || truth[t].class == p.class)
                    && same_tomogram(&truth[t].tomogram, &p.tomogram)
            })
            .min_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        if let Some((t, _)) = best {
            taken[t] = true;
            out[i] = Some(t);
        }
    }
    out
}

/// Scores `picks` against `truth` with the CZII metric.
pub fn evaluate_czii(
    picks: &[Particle],
    truth: &[Particle],
    classes: &ClassTable,
    opts: CziiOptions,
) -> Result<MetricReport> {
    let reach: Vec<f64> = truth
        .iter()
        .map(|t| classes.radius(&t.class).map(|r| r * opts.threshold))
        .collect::<Result<_>>()?;
    for p in picks {
        classes.radius(&p.class)?;
    }
    // Class-agnostic: any class may match.
    let any = match_picks(picks, truth, &reach, false);
    let tp = any.iter().filter(|m| m.is_some()).count();
    let overall = Scores::from_counts(
        tp,
        picks.len() - tp,
        0,
        picks.len(),
        truth.len(),
        picks.len(),
        opts.beta,
    );
    let mut confusion = Confusion::default();
    let mut first: Vec<Option<usize>> = vec![None; truth.len()];
    let mut dist_sum = 0.0;
    for (i, m) in any.iter().enumerate() {
        if let Some(t) = m {
            first[*t] = Some(i);
            dist_sum += picks[i].pos_a.distance(truth[*t].pos_a);
        }
    }
    for (t, f) in first.iter().enumerate() {
        confusion.add(&truth[t].class, f.map(|i| picks[i].class.as_str()));
    }
    // Per class.
    let same = match_picks(picks, truth, &reach, true);
    let mut names: Vec<&str> = truth
        .iter()
        .chain(picks.iter())
        .map(|p| p.class.as_str())
        .collect();
    names.sort();
    names.dedup();
    let mut per_class = BTreeMap::new();
    let (mut wsum, mut wtot) = (0.0, 0.0);
    for c in names {
        let n_picks = picks.iter().filter(|p| p.class == c).count();
        let n_truth = truth.iter().filter(|p| p.class == c).count();
        let tpc = same
            .iter()
            .zip(picks)
            .filter(|(m, p)| m.is_some() && p.class == c)
            .count();
        let s = Scores::from_counts(tpc, n_picks - tpc, 0, n_picks, n_truth, n_picks, opts.beta);
        let w = classes.weight(c);
        wsum += w * f_beta(s.precision, s.recall, opts.beta);
        wtot += w;
        per_class.insert(c.to_string(), s);
    }
    Ok(MetricReport {
        metric: "czii".into(),
        overall,
        per_class,
        confusion,
        mean_distance_a: (tp > 0).then(|| dist_sum / tp as f64),
        weighted_f_beta: (wtot > 0.0).then(|| wsum / wtot),
    })
}

/// Two particles may match unless both name their tomogram and the names differ (a list without
/// tomogram names, like SHREC's, belongs to whatever tomogram the other list names).
fn same_tomogram(a: &Option<String>, b: &Option<String>) -> bool {
    match (a, b) {
        (Some(x), Some(y)) => x == y,
        _ => true,
    }
}
