//! Gaussian smoothing of a small box: a particle's extra B-factor ([`crate::appearance`]), the
//! classifier's test-time smoothing and the kernel of `tomopick-pick`'s resampling.

use ndarray::{Array3, Axis};

/// The normalised 1D Gaussian kernel of `sigma` voxels, radius ⌈3σ⌉.
pub fn gaussian_kernel(sigma: f64) -> Vec<f32> {
    let r = (3.0 * sigma).ceil() as i64;
    let w: Vec<f64> = (-r..=r)
        .map(|i| (-(i * i) as f64 / (2.0 * sigma * sigma)).exp())
        .collect();
    let s: f64 = w.iter().sum();
    w.iter().map(|v| (v / s) as f32).collect()
}

/// Smooths `v` in place with a separable Gaussian of `sigma` voxels (edges clamped, so a
/// constant box stays constant). `sigma <= 0` leaves it unchanged.
pub fn gaussian_smooth(v: &mut Array3<f32>, sigma: f64) {
    if sigma <= 0.0 {
        return;
    }
    let k = gaussian_kernel(sigma);
    let r = (k.len() / 2) as i64;
    for axis in 0..3 {
        let n = v.len_of(Axis(axis)) as i64;
        let mut line = vec![0f32; n as usize];
        for mut lane in v.lanes_mut(Axis(axis)) {
            for (i, out) in line.iter_mut().enumerate() {
                *out = k
                    .iter()
                    .enumerate()
                    .map(|(j, w)| w * lane[(i as i64 + j as i64 - r).clamp(0, n - 1) as usize])
                    .sum();
            }
            for (dst, src) in lane.iter_mut().zip(&line) {
                *dst = *src;
            }
        }
    }
}
