//! Reference places for template matching's z-scores: each class's correlation standardised
//! against what that class's template scores at the tomogram's empty places, rather than over
//! the picks.
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
pub(crate) fn standardise_with(cc: &[Vec<f32>], stats: &[(f64, f64)]) -> Vec<Vec<f32>> {
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
pub(crate) fn robust_standardised(
    cc: &[Vec<f32>],
    reference: &[Vec<f32>],
) -> (Vec<Vec<f32>>, Vec<f32>) {
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
}
