//! Template matching's filters and template banks: the band-pass, missing-wedge, CTF and
//! whitening weights of a box's half spectrum, and each class's templates rotated, filtered, cut
//! to the ball that holds the class and normalised.

use crate::template_ctf::TemplateCtf;
use crate::template_options::TemplateMatchOptions;
use ndarray::{Array2, Array3, Zip};
use rayon::prelude::*;
use tomopick_io::Rotation;
use tomopick_sim::fft::{Complex32, Fft3, freq_index};
use tomopick_sim::resample::place_rotated;

/// An `m`³ box's half spectrum `[kz, ky, kx]` (the layout of [`Fft3`]) of voxels `voxel_a` Å,
/// each value `f([kz, ky, kx])` of its spatial frequency (1/Å).
pub(crate) fn half_spectrum(m: usize, voxel_a: f64, f: impl Fn([f64; 3]) -> f32) -> Array3<f32> {
    let k = |i: usize| freq_index(i, m) as f64 / (m as f64 * voxel_a);
    Array3::from_shape_fn((m, m, m / 2 + 1), |(z, y, x)| {
        f([k(z), k(y), x as f64 / (m as f64 * voxel_a)])
    })
}

/// The band-pass (and wedge) weights of an `m`³ box's half spectrum `[kz, ky, kx]`, times
/// `shape` of the spatial frequency (1/Å) when given (the whitening), times the tilt series'
/// CTF as the templates take it when given (templates only: the boxes hold it already).
pub(crate) fn filter(
    m: usize,
    voxel_a: f64,
    o: &TemplateMatchOptions,
    shape: Option<&Whitening>,
    ctf: Option<&TemplateCtf>,
) -> Array3<f32> {
    let tan = o.tilt_max_deg.map(|t| t.to_radians().tan());
    let ctf = ctf.map(TemplateCtf::radial);
    half_spectrum(m, voxel_a, |[kz, ky, kx]| {
        let k2 = kz * kz + ky * ky + kx * kx;
        let band = (-2.0 * k2 * o.lowpass_a.powi(2)).exp()
            * (1.0 - (-2.0 * k2 * o.highpass_a.powi(2)).exp())
            * shape.map_or(1.0, |w| w.at(k2.sqrt()))
            * ctf.as_ref().map_or(1.0, |c| c(k2.sqrt()));
        let seen = tan.is_none_or(|t| kz.abs() <= kx.abs() * t + 1e-12);
        if seen { band as f32 } else { 0.0 }
    })
}

/// `v` band-passed by `weights` (the half spectrum of `fft`'s shape).
pub(crate) fn filtered(fft: &Fft3, v: &Array3<f32>, weights: &Array3<f32>) -> Array3<f32> {
    weighted_inverse(fft, fft.forward(v), weights)
}

/// The volume of the half spectrum `spec` (of `fft`'s shape) weighted by `weights`.
pub(crate) fn weighted_inverse(
    fft: &Fft3,
    mut spec: Array3<Complex32>,
    weights: &Array3<f32>,
) -> Array3<f32> {
    Zip::from(&mut spec).and(weights).for_each(|c, &w| *c *= w);
    fft.inverse_owned(spec)
}

/// Picks whose boxes measure the tomogram's power spectrum for the whitening (evenly spread).
pub(crate) const WHITENING_PICKS: usize = 200;

/// 1/√(mean power) of the tomogram's boxes against spatial frequency: the whitening filter.
pub(crate) struct Whitening {
    /// Spatial frequency (1/Å) per bin.
    step: f64,
    /// The weight at each bin's frequency.
    weight: Vec<f64>,
}

impl Whitening {
    /// From the spectra of `m`³ boxes of voxels `voxel_a` Å (half spectra, [`Fft3`]'s layout),
    /// averaged over spherical shells one frequency bin wide.
    pub(crate) fn measure(m: usize, voxel_a: f64, spectra: &[Array3<Complex32>]) -> Whitening {
        let bins = m + 1;
        let (mut power, mut count) = (vec![0f64; bins], vec![0usize; bins]);
        for spec in spectra {
            for ((z, y, x), c) in spec.indexed_iter() {
                let (fz, fy) = (freq_index(z, m) as f64, freq_index(y, m) as f64);
                let r = (fz * fz + fy * fy + (x * x) as f64).sqrt().round() as usize;
                power[r] += c.norm_sqr() as f64;
                count[r] += 1;
            }
        }
        let weight = power
            .iter()
            .zip(&count)
            .map(|(&p, &c)| if p > 0.0 { (c as f64 / p).sqrt() } else { 0.0 })
            .collect();
        Whitening {
            step: 1.0 / (m as f64 * voxel_a),
            weight,
        }
    }

    /// The weight at spatial frequency `k` (1/Å), linear between bins, the last bin's beyond.
    fn at(&self, k: f64) -> f64 {
        let t = k / self.step;
        let i = t.floor() as usize;
        match (self.weight.get(i), self.weight.get(i + 1)) {
            (Some(&a), Some(&b)) => a + (b - a) * (t - i as f64),
            (Some(&a), None) => a,
            _ => *self.weight.last().unwrap_or(&1.0),
        }
    }
}

/// Offsets (flat indices into an `n`³ box) of the voxels within `radius` of its centre.
pub(crate) fn ball(n: usize, radius: f64) -> Vec<usize> {
    let c = (n / 2) as f64;
    let mut out = Vec::new();
    for z in 0..n {
        for y in 0..n {
            for x in 0..n {
                let d2 = (x as f64 - c).powi(2) + (y as f64 - c).powi(2) + (z as f64 - c).powi(2);
                if d2 <= radius * radius {
                    out.push((z * n + y) * n + x);
                }
            }
        }
    }
    out
}

/// The values of `flat` at `idx`, zero-mean and unit-norm (all zero when constant).
pub(crate) fn normalised(flat: &[f32], idx: &[usize]) -> Vec<f32> {
    let mean = idx.iter().map(|&i| flat[i] as f64).sum::<f64>() / idx.len().max(1) as f64;
    let mut v: Vec<f32> = idx
        .iter()
        .map(|&i| (flat[i] as f64 - mean) as f32)
        .collect();
    let norm = v.iter().map(|&x| (x as f64).powi(2)).sum::<f64>().sqrt();
    let inv = if norm > 0.0 { (1.0 / norm) as f32 } else { 0.0 };
    v.iter_mut().for_each(|x| *x *= inv);
    v
}

/// One class: its box edge, its ball and its rotated, filtered, normalised templates (one row
/// each).
pub(crate) struct ClassBank {
    /// The box edge, voxels.
    pub(crate) n: usize,
    /// The ball's offsets in the box ([`ball`]).
    pub(crate) ball: Vec<usize>,
    /// One normalised template per orientation.
    pub(crate) rows: Array2<f32>,
}

/// The even box edge that holds a ball of `radius` voxels about voxel `n/2`.
pub(crate) fn box_edge(radius: f64) -> usize {
    2 * (radius.ceil() as usize + 1)
}

/// A class's bank: `template` at each of `rotations` in a box just holding its ball of
/// `radius`, band-passed (and given the tilt series' CTF), cut to the ball and normalised.
pub(crate) fn class_bank(
    template: &Array3<f32>,
    radius: f64,
    rotations: &[Rotation],
    voxel_a: f64,
    opts: &TemplateMatchOptions,
    whitening: Option<&Whitening>,
) -> ClassBank {
    let n = box_edge(radius);
    let fft = Fft3::new([n, n, n]);
    let weights = filter(n, voxel_a, opts, whitening, opts.ctf.as_ref());
    let ball = ball(n, radius);
    let c = (n / 2) as f64;
    let rows: Vec<Vec<f32>> = rotations
        .par_iter()
        .map(|rot| {
            let placed = place_rotated(
                &template.view(),
                rot,
                1.0,
                [c, c, c],
                [n, n, n],
                f64::INFINITY,
            );
            let f = filtered(&fft, &placed, &weights);
            normalised(f.as_slice().expect("standard layout"), &ball)
        })
        .collect();
    ClassBank {
        rows: Array2::from_shape_vec((rotations.len(), ball.len()), rows.concat())
            .expect("rows of the ball's length"),
        n,
        ball,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wedge_removes_what_the_tilts_did_not_see() {
        let o = TemplateMatchOptions {
            tilt_max_deg: Some(45.0),
            ..Default::default()
        };
        let f = filter(32, 10.0, &o, None, None);
        // kz = 6, kx = 2 (index order z, y, x): beyond 45°, unseen; the transpose is seen.
        assert_eq!(f[[6, 0, 2]], 0.0);
        assert!(f[[2, 0, 6]] > 0.0);
        assert_eq!(f[[0, 0, 0]], 0.0, "the high-pass removes the mean");
        let none = filter(
            32,
            10.0,
            &TemplateMatchOptions {
                tilt_max_deg: None,
                ..o
            },
            None,
            None,
        );
        assert!(none[[6, 0, 2]] > 0.0);
    }
}
