//! Conformational and compositional variation of one particle (issue 14): no two copies of a
//! complex in a cell are the same shape, and some lack a subunit. Two voxel-level operations on
//! a box holding one particle's density, each seeded so that the same seed gives the same bits:
//! a smooth random displacement field (the particle bends a little, as a whole and in its parts)
//! and a missing piece (the density inside a ball around a random point of the particle erased:
//! a subunit absent where the ball reaches the surface, a hollow where it lies inside, or a thin
//! rim left where it nearly fills a part; a randomisation of the density, not a model of which
//! subunits a complex can lose). Both work on any class, from an atomic model or from a map.

use crate::resample::trilinear;
use crate::smooth::gaussian_smooth;
use ndarray::{Array3, Zip};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

/// Resamples `v` through a smooth random displacement field: each component Gaussian white noise
/// smoothed over `length_vox` voxels and scaled so that the displacement's root mean square over
/// the box is `rms_vox` voxels; the output at x is `v` at x − d(x) (trilinear, zero outside).
/// `rms_vox <= 0` leaves it unchanged.
pub fn warp(v: &mut Array3<f32>, rms_vox: f64, length_vox: f64, seed: u64) {
    if rms_vox <= 0.0 || v.is_empty() {
        return;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let dim = v.dim();
    let fields: Vec<Array3<f32>> = (0..3)
        .map(|_| {
            let mut f = Array3::from_shape_simple_fn(dim, || rng.sample::<f32, _>(StandardNormal));
            gaussian_smooth(&mut f, length_vox.max(0.5));
            let n = f.len() as f64;
            let mean = f.iter().map(|&x| x as f64).sum::<f64>() / n;
            let var = f.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / n;
            // Each component carries a third of the mean square displacement.
            let k = (rms_vox / 3f64.sqrt() / var.sqrt().max(1e-12)) as f32;
            f.mapv_inplace(|x| (x - mean as f32) * k);
            f
        })
        .collect();
    let src = v.clone();
    let src = src.view();
    Zip::indexed(v).for_each(|(z, y, x), out| {
        *out = trilinear(
            &src,
            x as f64 - fields[2][[z, y, x]] as f64,
            y as f64 - fields[1][[z, y, x]] as f64,
            z as f64 - fields[0][[z, y, x]] as f64,
        );
    });
}

/// Erases a piece of the particle in `v`: a ball centred on a voxel drawn uniformly among those
/// above `cut` (the particle), its radius such that it would hold `fraction` of that many voxels,
/// with a soft edge one voxel wide. `fraction <= 0`, or no voxel above `cut`, leaves it
/// unchanged.
pub fn erase_piece(v: &mut Array3<f32>, cut: f32, fraction: f64, seed: u64) {
    if fraction <= 0.0 {
        return;
    }
    let inside: Vec<(usize, usize, usize)> = v
        .indexed_iter()
        .filter(|(_, x)| **x > cut)
        .map(|(i, _)| i)
        .collect();
    if inside.is_empty() {
        return;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let c = inside[rng.random_range(0..inside.len())];
    let radius =
        (3.0 * fraction.min(1.0) * inside.len() as f64 / (4.0 * std::f64::consts::PI)).cbrt();
    Zip::indexed(v).for_each(|(z, y, x), out| {
        let r = ((z as f64 - c.0 as f64).powi(2)
            + (y as f64 - c.1 as f64).powi(2)
            + (x as f64 - c.2 as f64).powi(2))
        .sqrt();
        // 1 inside r − 0.5, 0 beyond r + 0.5, linear between.
        let keep = (r - radius + 0.5).clamp(0.0, 1.0);
        *out *= keep as f32;
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An elongated blob (a rod along x), so that a warp visibly moves its edges.
    fn rod() -> Array3<f32> {
        Array3::from_shape_fn((24, 24, 32), |(z, y, x)| {
            let r2 = (z as f64 - 11.5).powi(2) + (y as f64 - 11.5).powi(2);
            let along = ((x as f64 - 15.5) / 10.0).powi(2);
            (4.0 * (-(r2 / 8.0) - along * 2.0).exp()) as f32
        })
    }

    #[test]
    fn a_warp_moves_density_by_about_its_rms_and_keeps_most_of_its_mass() {
        let v0 = rod();
        let norm = v0.mapv(|d| d * d).sum().sqrt();
        let mut changes = Vec::new();
        for rms in [0.5, 1.5] {
            let mut v = v0.clone();
            warp(&mut v, rms, 4.0, 7);
            // Local compression and stretching change the mass a little, never much.
            let m0 = v0.sum();
            assert!((v.sum() - m0).abs() / m0 < 0.15, "mass {m0} -> {}", v.sum());
            changes.push((&v - &v0).mapv(|d| d * d).sum().sqrt() / norm);
        }
        assert!(
            changes[0] > 0.01 && changes[0] < 0.1,
            "rms 0.5: {}",
            changes[0]
        );
        assert!(
            changes[1] > 2.0 * changes[0] && changes[1] < 0.3,
            "rms 1.5: {}",
            changes[1]
        );
    }

    #[test]
    fn no_warp_changes_nothing_and_a_seed_gives_the_same_bits() {
        let v0 = rod();
        let mut v = v0.clone();
        warp(&mut v, 0.0, 4.0, 1);
        assert_eq!(v, v0);
        let (mut a, mut b, mut c) = (v0.clone(), v0.clone(), v0.clone());
        warp(&mut a, 1.0, 3.0, 11);
        warp(&mut b, 1.0, 3.0, 11);
        warp(&mut c, 1.0, 3.0, 12);
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn an_erased_piece_removes_about_its_fraction_from_one_place() {
        let v0 = rod();
        let cut = 0.5;
        let n0 = v0.iter().filter(|&&x| x > cut).count();
        let mut removed = Vec::new();
        for seed in 0..20 {
            let mut v = v0.clone();
            erase_piece(&mut v, cut, 0.2, seed);
            // The share of the particle's (positive) density removed.
            let mass = |a: &Array3<f32>| a.iter().map(|&x| x.max(0.0) as f64).sum::<f64>();
            let share = 1.0 - mass(&v) / mass(&v0);
            // Only ever removes, and never everything.
            assert!(
                v.iter()
                    .zip(v0.iter())
                    .all(|(a, b)| a.abs() <= b.abs() + 1e-6)
            );
            let n = v.iter().filter(|&&x| x > cut).count();
            assert!(n < n0 && n > n0 / 2, "seed {seed}: {n0} -> {n} voxels");
            removed.push(share);
        }
        let mean = removed.iter().sum::<f64>() / removed.len() as f64;
        // A ball centred in the particle, partly outside it near the edge: 5-30 % of the mass.
        assert!(mean > 0.05 && mean < 0.3, "mean share removed {mean}");
        let mut v = v0.clone();
        erase_piece(&mut v, cut, 0.0, 3);
        assert_eq!(v, v0);
    }
}
