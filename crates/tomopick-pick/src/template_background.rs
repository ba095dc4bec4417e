//! Template matching's z-scores: each class's correlation standardised against what that
//! class's template scores at the tomogram's empty places (the reference places drawn here), or,
//! without them, over the picks.
//!
//! Standardising over the picks assumes they hold the classes in about equal numbers. In a
//! sample where one class dominates (ribosomes in a cell), that class's scores set its own mean,
//! its particles come out near z = 0 and most lose to any other class: on the foreign suite's
//! tomogram val03, 30 ribosomes among 39 picks were named right 27 % of the time, against 97 %
//! among all 255 particles (BENCHMARKS.md, "Template matching's z-scores and the sample's
//! make-up"). Seeded random places away from the picks do not depend on the sample's make-up.

use rand::{Rng, SeedableRng};

/// Seeded random voxel centres (`[x, y, z]`) inside a tomogram of `shape_xyz`, each at least
/// `margin` voxels from its faces where the tomogram allows and at least `min_dist` voxels
/// from every pick. At most `count`; fewer where the picks leave too little room (after 50
/// tries per place).
pub(crate) fn background_centres(
    shape_xyz: [usize; 3],
    picks: &[[f64; 3]],
    count: usize,
    min_dist: f64,
    margin: f64,
    seed: u64,
) -> Vec<[f64; 3]> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let range = |a: usize| {
        let len = shape_xyz[a] as f64;
        if len > 2.0 * margin + 1.0 {
            (margin, len - 1.0 - margin)
        } else {
            (0.0, (len - 1.0).max(0.0))
        }
    };
    let ranges = [range(0), range(1), range(2)];
    let d2 = min_dist * min_dist;
    let mut out = Vec::with_capacity(count);
    for _ in 0..count * 50 {
        if out.len() == count {
            break;
        }
        let c = ranges.map(|(lo, hi)| rng.random_range(lo..=hi).round());
        let free = picks
            .iter()
            .all(|p| (0..3).map(|a| (p[a] - c[a]).powi(2)).sum::<f64>() >= d2);
        if free {
            out.push(c);
        }
    }
    out
}

/// Each column of `cc` less its `(centre, scale)` from `stats`, over the scale (0 where the
/// scale is 0). Serves both standardisations: over the picks and against reference places.
fn standardise_with(cc: &[Vec<f32>], stats: &[(f64, f64)]) -> Vec<Vec<f32>> {
    cc.iter()
        .map(|r| {
            r.iter()
                .zip(stats)
                .map(|(&v, &(m, s))| {
                    if s > 0.0 {
                        ((v as f64 - m) / s) as f32
                    } else {
                        0.0
                    }
                })
                .collect()
        })
        .collect()
}

/// Each class (column) of `cc` standardised by the median and the scaled median absolute
/// deviation (1.4826 × MAD, the sd for normal data) of the same class in `reference`: robust
/// to the reference places that catch an unpicked particle. A class whose reference scores do
/// not spread gets 0. Returns the z-scores and each class's scale (its scaled MAD).
fn robust_standardised(cc: &[Vec<f32>], reference: &[Vec<f32>]) -> (Vec<Vec<f32>>, Vec<f32>) {
    let k = cc.first().map_or(0, |r| r.len());
    let median = |mut v: Vec<f64>| -> f64 {
        v.sort_by(f64::total_cmp);
        let n = v.len();
        match n {
            0 => 0.0,
            _ if n % 2 == 1 => v[n / 2],
            _ => 0.5 * (v[n / 2 - 1] + v[n / 2]),
        }
    };
    let stats: Vec<(f64, f64)> = (0..k)
        .map(|j| {
            let col: Vec<f64> = reference.iter().map(|r| r[j] as f64).collect();
            let m = median(col.clone());
            let mad = median(col.iter().map(|v| (v - m).abs()).collect());
            (m, 1.4826 * mad)
        })
        .collect();
    let z = standardise_with(cc, &stats);
    (z, stats.iter().map(|&(_, s)| s as f32).collect())
}

/// `cc` standardised against the reference places' scores, each class's z-score weighted by
/// (its spread / the geometric mean spread)^`exponent` (see
/// [`crate::template_match::DEFAULT_NAMING_EXPONENT`]).
pub(crate) fn against_reference(
    cc: &[Vec<f32>],
    reference: &[Vec<f32>],
    exponent: f64,
) -> Vec<Vec<f32>> {
    let (z, scale) = robust_standardised(cc, reference);
    let spread: Vec<f64> = scale
        .iter()
        .map(|&s| s as f64)
        .filter(|&s| s > 0.0)
        .collect();
    let mean_log = spread.iter().map(|s| s.ln()).sum::<f64>() / spread.len().max(1) as f64;
    let factor: Vec<f32> = scale
        .iter()
        .map(|&s| ((s as f64).ln() - mean_log) * exponent)
        .map(|l| if l.is_finite() { l.exp() as f32 } else { 0.0 })
        .collect();
    z.into_iter()
        .map(|r| r.iter().zip(&factor).map(|(v, f)| v * f).collect())
        .collect()
}

/// Each column of `cc` (a class over the picks) standardised: zero mean, unit sd (0 where the
/// sd is 0, as with a single pick).
pub(crate) fn standardised(cc: &[Vec<f32>]) -> Vec<Vec<f32>> {
    let k = cc.first().map_or(0, |r| r.len());
    let n = cc.len().max(1) as f64;
    let stats: Vec<(f64, f64)> = (0..k)
        .map(|j| {
            let mean = cc.iter().map(|r| r[j] as f64).sum::<f64>() / n;
            let var = cc.iter().map(|r| (r[j] as f64 - mean).powi(2)).sum::<f64>() / n;
            (mean, var.sqrt())
        })
        .collect();
    standardise_with(cc, &stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_keep_away_from_picks_and_faces_and_repeat_with_the_seed() {
        let picks = vec![[20.0, 20.0, 10.0], [40.0, 30.0, 12.0]];
        let a = background_centres([64, 48, 24], &picks, 100, 6.0, 4.0, 3);
        assert_eq!(a.len(), 100);
        for c in &a {
            for p in &picks {
                let d: f64 = (0..3).map(|i| (p[i] - c[i]).powi(2)).sum::<f64>().sqrt();
                assert!(d >= 6.0, "{c:?} is {d} from {p:?}");
            }
            assert!(
                c[0] >= 4.0 && c[0] <= 59.0 && c[2] >= 4.0 && c[2] <= 19.0,
                "{c:?}"
            );
        }
        assert_eq!(
            a,
            background_centres([64, 48, 24], &picks, 100, 6.0, 4.0, 3)
        );
        assert_ne!(
            a,
            background_centres([64, 48, 24], &picks, 100, 6.0, 4.0, 4)
        );
        // No room left: fewer places, no endless search.
        let crowd: Vec<[f64; 3]> = (0..8)
            .flat_map(|x| (0..8).map(move |y| [x as f64 * 2.0, y as f64 * 2.0, 2.0]))
            .collect();
        assert!(background_centres([16, 16, 4], &crowd, 10, 5.0, 0.0, 1).is_empty());
    }

    #[test]
    fn standardised_by_the_references_median_and_mad() {
        // Reference column 0: median 0.2, |deviations| 0.1, 0, 0.1, 0.3 → MAD 0.1.
        let reference = vec![
            vec![0.1, 1.0],
            vec![0.2, 1.0],
            vec![0.3, 1.0],
            vec![0.5, 1.0],
            vec![0.2, 1.0],
        ];
        let (z, scale) = robust_standardised(&[vec![0.6, 5.0], vec![0.2, 0.0]], &reference);
        let s = 1.4826 * 0.1;
        assert!(
            (scale[0] - s as f32).abs() < 1e-6 && scale[1] == 0.0,
            "{scale:?}"
        );
        assert!((z[0][0] - (0.4 / s) as f32).abs() < 1e-4, "{z:?}");
        assert!(z[1][0].abs() < 1e-6);
        assert_eq!(z[0][1], 0.0, "a constant reference gives 0");
    }

    #[test]
    fn z_scores_are_standardised_per_class() {
        let cc = vec![vec![0.1, 0.5], vec![0.3, 0.5], vec![0.5, 0.5]];
        let z = standardised(&cc);
        let col: Vec<f32> = z.iter().map(|r| r[0]).collect();
        assert!(col[1].abs() < 1e-6 && (col[2] + col[0]).abs() < 1e-6);
        let var: f32 = col.iter().map(|v| v * v).sum::<f32>() / 3.0;
        assert!((var - 1.0).abs() < 1e-5);
        assert!(z.iter().all(|r| r[1] == 0.0), "a constant class gets 0");
    }

    #[test]
    fn reference_scores_weigh_each_z_score_by_the_root_of_its_spread() {
        // Class 0 spreads 4x as much as class 1 at the reference places (MAD 0.2 against
        // 0.05), both around a median of 0.
        let reference: Vec<Vec<f32>> = [-0.2f32, 0.0, 0.2]
            .iter()
            .map(|&v| vec![v, v / 4.0])
            .collect();
        let s = [1.4826 * 0.2, 1.4826 * 0.05];
        let z = against_reference(&[vec![0.6, 0.2]], &reference, 0.5);
        // z-scores 0.6/s0 and 0.2/s1; weights √(s/S), S = √(s0 s1): √2 and 1/√2.
        let want = [0.6 / s[0] * 2f64.sqrt(), 0.2 / s[1] / 2f64.sqrt()];
        for k in 0..2 {
            assert!(
                (z[0][k] as f64 - want[k]).abs() < 1e-4,
                "{z:?} against {want:?}"
            );
        }
        // Equal spreads: the plain z-scores.
        let same: Vec<Vec<f32>> = [-0.2f32, 0.0, 0.2].iter().map(|&v| vec![v, v]).collect();
        let z = against_reference(&[vec![0.6, 0.2]], &same, 0.5);
        // Exponent 0: the z-scores as they are.
        let plain = against_reference(&[vec![0.6, 0.2]], &reference, 0.0);
        assert!((plain[0][1] as f64 - 0.2 / s[1]).abs() < 1e-3, "{plain:?}");
        assert!((z[0][0] as f64 - 0.6 / s[0]).abs() < 1e-4, "{z:?}");
    }
}
