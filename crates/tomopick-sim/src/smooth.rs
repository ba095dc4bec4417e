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
///
/// Each line is copied into a buffer padded with its end values, then every output sums the
/// kernel's taps in order (the sums of a plain per-voxel loop, to the bit), a tap at a time over
/// the whole line so that the loop vectorises and strided lines are read once.
pub fn gaussian_smooth(v: &mut Array3<f32>, sigma: f64) {
    if sigma <= 0.0 {
        return;
    }
    let k = gaussian_kernel(sigma);
    let r = k.len() / 2;
    for axis in 0..3 {
        let n = v.len_of(Axis(axis));
        let mut padded = vec![0f32; n + 2 * r];
        let mut line = vec![0f32; n];
        for mut lane in v.lanes_mut(Axis(axis)) {
            for (i, p) in padded.iter_mut().enumerate() {
                *p = lane[i.saturating_sub(r).min(n - 1)];
            }
            // −0.0, the start of `Iterator::sum` for floats.
            line.fill(-0.0);
            for (j, w) in k.iter().enumerate() {
                for (out, x) in line.iter_mut().zip(&padded[j..j + n]) {
                    *out += w * x;
                }
            }
            for (dst, src) in lane.iter_mut().zip(&line) {
                *dst = *src;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plain per-voxel loop the buffered one replaced.
    fn reference(v: &mut Array3<f32>, sigma: f64) {
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

    #[test]
    fn the_buffered_smoothing_gives_the_plain_loops_bits() {
        let mut seed = 12345u64;
        for (shape, sigma) in [
            ((9, 7, 12), 0.4),
            ((5, 11, 6), 1.3),
            ((3, 4, 20), 2.9),
            ((1, 1, 2), 0.8),
        ] {
            let v = Array3::from_shape_fn(shape, |_| {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
                (seed >> 40) as f32 / (1u64 << 24) as f32 - 0.5
            });
            let (mut a, mut b) = (v.clone(), v);
            gaussian_smooth(&mut a, sigma);
            reference(&mut b, sigma);
            assert!(
                a.iter()
                    .zip(b.iter())
                    .all(|(x, y)| x.to_bits() == y.to_bits()),
                "{shape:?} σ {sigma}"
            );
        }
    }
}
