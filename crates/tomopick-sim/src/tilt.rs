//! The tilt-series route: project the sample at each tilt about the y axis, image each
//! projection with its own CTF, MTF and noise, and reconstruct by weighted back-projection.
//!
//! - Projection is voxel-driven: each voxel of an xz row is spread linearly onto the detector
//!   coordinate `u = cos α·(x − c_x) − sin α·(z − c_z) + c_x`, which conserves the projected
//!   mass. Back-projection reads the same coordinate, so the two are adjoint.
//! - Weak-phase imaging: phase φ = σₑ·∫V dz, image contrast `c = F⁻¹[2·CTF·MTF·F(φ)]` with the
//!   CTF sign of [`crate::ctf`] (so intensity `I = 1 + c`), per-tilt defocus jitter and
//!   astigmatism `Δf(θ) = Δf + a·cos 2(θ − θₐ)`.
//! - Noise, either dose-driven (counts with mean `d·p²·I` per pixel, `d` the dose per tilt;
//!   Poisson below 50 counts, else its Gaussian limit), or Gaussian at a stated SNR per
//!   projection (variance ratio after the MTF, exact as in the 3D route).
//! - Optionally, each projection phase-flipped by the sign of its own CTF (CTF correction).
//! - WBP: a ramp |k_u| (apodised by a cosine to Nyquist, or another [`ReconFilter`]) along u on
//!   every projection, then back-projection; scaled by Δα so the result does not depend on the
//!   number of tilts.

use crate::ctf::{CtfParams, pixel_mtf, wavelength_a};
pub use crate::degradation::TiltDegradation;
use crate::degradation::{dose_ranks, shift_table};
use crate::error::{Result, SimError};
use crate::fft::{Fft3, freq_index, transpose};
use crate::imaging3d::{Imaging3dParams, filters, mean_square};
use crate::lowpass_noise::LowPassNoise;
use ndarray::{Array2, Array3, ArrayView3, Axis};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Poisson, StandardNormal};
use rayon::prelude::*;

/// How noise enters the projections.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NoiseModel {
    /// No noise.
    None,
    /// Total dose over the series in e⁻/Å², split evenly over the tilts.
    Dose(f64),
    /// Gaussian noise at this signal-to-noise variance ratio per projection.
    Snr(f64),
}

/// Acquisition parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TiltSeriesParams {
    /// First tilt, degrees.
    pub tilt_min_deg: f64,
    /// Last tilt, degrees.
    pub tilt_max_deg: f64,
    /// Step, degrees.
    pub tilt_step_deg: f64,
    /// The CTF at zero tilt (defocus Δf > 0 underfocus).
    pub ctf: CtfParams,
    /// Per-tilt defocus jitter (sd, Å).
    pub defocus_sd_a: f64,
    /// Astigmatism amplitude a in Å (Δf_u − Δf_v = 2a) and its angle in degrees.
    pub astigmatism_a: f64,
    /// Astigmatism angle θₐ in degrees.
    pub astigmatism_angle_deg: f64,
    /// Apply the pixel MTF.
    pub apply_mtf: bool,
    /// Noise.
    pub noise: NoiseModel,
    /// Standard deviation in Å of a Gaussian that correlates the noise of each projection
    /// ([`NoiseModel::Snr`] only; shot noise at a dose stays white). 0: white.
    pub noise_correlation_a: f64,
    /// Share of the noise variance that is white instead of passing the MTF
    /// ([`NoiseModel::Snr`] only; see [`crate::imaging3d::Imaging3dParams::noise_white_fraction`]).
    pub noise_white_fraction: f64,
    /// Phase-flip every projection (noisy image and clean contrast) by the sign of its own CTF,
    /// as CTF correction before reconstruction does (IMOD's `ctfphaseflip`): particles come out
    /// bright and without the CTF's alternating fringes.
    pub phase_flip: bool,
    /// Misalignment, dose damage and ice attenuation tilt by tilt (default: none).
    pub degradation: TiltDegradation,
    /// A share of the noise low-passed in each projection ([`NoiseModel::Snr`] only; default:
    /// none). See [`crate::lowpass_noise`].
    pub low_pass_noise: LowPassNoise,
}

/// The window on the ramp of weighted back-projection, as reconstruction programs offer them;
/// `f` = |k| / Nyquist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReconFilter {
    /// f · cos(πf/2): the apodised ramp (tomopick-sim's default).
    #[default]
    Cosine,
    /// f: the plain ramp, the most high-frequency noise.
    Ramp,
    /// f · sinc(f/2) (Shepp-Logan).
    SheppLogan,
    /// f · (0.54 + 0.46 cos πf).
    Hamming,
    /// f · (1 + cos πf) / 2.
    Hann,
}

impl ReconFilter {
    /// The filter's weight at |k| = `k` (1/Å) with Nyquist at `k_ny`.
    pub fn weight(self, k: f64, k_ny: f64) -> f64 {
        use std::f64::consts::{FRAC_PI_2, PI};
        let f = k / k_ny;
        match self {
            ReconFilter::Cosine => k / k_ny * (FRAC_PI_2 * k / k_ny).cos().max(0.0),
            ReconFilter::Ramp => f,
            ReconFilter::SheppLogan if f > 0.0 => f * (FRAC_PI_2 * f).sin() / (FRAC_PI_2 * f),
            ReconFilter::SheppLogan => 0.0,
            ReconFilter::Hamming => f * (0.54 + 0.46 * (PI * f).cos()),
            ReconFilter::Hann => f * 0.5 * (1.0 + (PI * f).cos()),
        }
    }
}

impl TiltSeriesParams {
    /// The tilt angles in degrees.
    pub fn angles_deg(&self) -> Vec<f64> {
        let n = ((self.tilt_max_deg - self.tilt_min_deg) / self.tilt_step_deg).round() as usize + 1;
        (0..n)
            .map(|i| self.tilt_min_deg + i as f64 * self.tilt_step_deg)
            .collect()
    }
    /// Refuses values outside their physical range.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(SimError::Parameter(m));
        for (name, t) in [
            ("tilt_min_deg", self.tilt_min_deg),
            ("tilt_max_deg", self.tilt_max_deg),
        ] {
            if t.is_nan() || t.abs() >= 90.0 {
                return bad(format!("{name} = {t}°: tilts must be within (−90°, 90°)"));
            }
        }
        if !(self.tilt_step_deg > 0.0 && self.tilt_max_deg >= self.tilt_min_deg) {
            return bad(format!(
                "tilt range {}..{} step {}: needs min ≤ max and a positive step",
                self.tilt_min_deg, self.tilt_max_deg, self.tilt_step_deg
            ));
        }
        match self.noise {
            NoiseModel::Dose(d) if d.is_nan() || d <= 0.0 => {
                return bad(format!("dose = {d} e/Å²: must be positive"));
            }
            NoiseModel::Snr(s) if s.is_nan() || s <= 0.0 => {
                return bad(format!("snr = {s}: must be positive"));
            }
            _ => {}
        }
        if !(self.defocus_sd_a >= 0.0 && self.ctf.voltage_kv > 0.0 && self.ctf.cs_mm >= 0.0) {
            return bad("CTF parameters out of range".into());
        }
        crate::filters3d::check_noise_correlation(self.noise_correlation_a)?;
        crate::filters3d::check_noise_white_fraction(self.noise_white_fraction)?;
        self.low_pass_noise.validate()?;
        if self.low_pass_noise.fraction > 0.0 && !matches!(self.noise, NoiseModel::Snr(_)) {
            return bad("low-passed noise needs noise at an SNR (not a dose, not none)".into());
        }
        self.degradation.validate()
    }
}

/// The interaction constant σₑ in rad/(V·Å) at `voltage_kv` (6.526e-4 at 300 kV).
pub fn interaction_constant(voltage_kv: f64) -> f64 {
    let v = voltage_kv * 1e3;
    let e0 = 510_998.95;
    2.0 * std::f64::consts::PI / (wavelength_a(voltage_kv) * v) * (e0 + v) / (2.0 * e0 + v)
}

/// Detector taps of each x of row `z` at a tilt: `(i0, w)` such that x lands between detector
/// pixels i0 and i0 + 1 with weights 1 − w and w (i0 may be −1; pixels off the detector are skipped).
fn taps(nx: usize, nz: usize, z: usize, alpha_deg: f64) -> Vec<(i64, f32)> {
    let (sa, ca) = alpha_deg.to_radians().sin_cos();
    let (cx, cz) = ((nx as f64 - 1.0) / 2.0, (nz as f64 - 1.0) / 2.0);
    (0..nx)
        .map(|x| {
            let u = ca * (x as f64 - cx) - sa * (z as f64 - cz) + cx;
            let u0 = u.floor();
            (u0 as i64, (u - u0) as f32)
        })
        .collect()
}

/// Projects `v` (`[z, y, x]`) at `alpha_deg`: a `[y, u]` image of ∫V dz in V·Å.
pub fn project(v: &ArrayView3<f32>, alpha_deg: f64, voxel_size_a: f64) -> Array2<f32> {
    let v = v.as_standard_layout();
    project_planes(Planes::of(&v), alpha_deg, voxel_size_a)
}

/// Volumes up to this many voxels are projected from one transposed copy (`[z, x, y]`, made
/// once per tilt series); larger ones transpose each z plane at each tilt instead of doubling
/// their memory.
const TRANSPOSED_COPY_MAX_VOXELS: usize = 1 << 26;

/// A volume's z planes, as they are (`[y, x]`) or transposed (`[x, y]`).
#[derive(Clone, Copy)]
enum Planes<'a> {
    Rows(&'a [f32], [usize; 3]),
    Transposed(&'a [f32], [usize; 3]),
}

impl<'a> Planes<'a> {
    fn of(v: &'a ndarray::CowArray<'_, f32, ndarray::Ix3>) -> Planes<'a> {
        let (nz, ny, nx) = v.dim();
        Planes::Rows(v.as_slice().expect("standard layout"), [nz, ny, nx])
    }

    /// The same volume as one transposed copy, when it is small enough to hold twice.
    fn transposed_copy(&self) -> Option<Vec<f32>> {
        let Planes::Rows(v, [nz, ny, nx]) = *self else {
            return None;
        };
        (nz * ny * nx <= TRANSPOSED_COPY_MAX_VOXELS).then(|| {
            let mut t = vec![0f32; nz * ny * nx];
            t.par_chunks_mut(ny * nx)
                .zip(v.par_chunks(ny * nx))
                .for_each(|(t, v)| transpose(v, ny, nx, t));
            t
        })
    }
}

/// Each z plane is read transposed (`[x, y]`), so that every x adds a whole column of y values
/// to two detector columns (vector arithmetic), in the same order as voxel by voxel: the same
/// sums to the bit.
fn project_planes(planes: Planes, alpha_deg: f64, voxel_size_a: f64) -> Array2<f32> {
    let (Planes::Rows(v, [nz, ny, nx]) | Planes::Transposed(v, [nz, ny, nx])) = planes;
    let mut out_t = vec![0f32; nx * ny]; // [u, y]
    let mut buf = Vec::new();
    let dz = voxel_size_a as f32;
    for z in 0..nz {
        let plane = &v[z * ny * nx..(z + 1) * ny * nx];
        let plane_t: &[f32] = match planes {
            Planes::Transposed(..) => plane,
            Planes::Rows(..) => {
                buf.resize(nx * ny, 0.0);
                transpose(plane, ny, nx, &mut buf);
                &buf
            }
        };
        for (x, (i0, w)) in taps(nx, nz, z, alpha_deg).into_iter().enumerate() {
            let col = &plane_t[x * ny..(x + 1) * ny];
            for (i, f) in [(i0, 1.0 - w), (i0 + 1, w)] {
                if i >= 0 && (i as usize) < nx {
                    let out = &mut out_t[i as usize * ny..(i as usize + 1) * ny];
                    for (o, &val) in out.iter_mut().zip(col) {
                        *o += val * f * dz;
                    }
                }
            }
        }
    }
    let mut p = vec![0f32; ny * nx];
    transpose(&out_t, nx, ny, &mut p);
    Array2::from_shape_vec((ny, nx), p).expect("ny × nx values")
}

/// Adds the back-projection of `p` (`[y, u]`) at `alpha_deg`, times `scale`, into `v`.
pub fn back_project_into(v: &mut Array3<f32>, p: &Array2<f32>, alpha_deg: f64, scale: f32) {
    let (nz, ny, nx) = v.dim();
    let mut acc = vec![0f32; nz * nx * ny];
    back_project_columns(&mut acc, &transposed(p), [nz, ny, nx], alpha_deg, scale);
    for (o, a) in v.iter_mut().zip(planes_untransposed(acc, ny, nx)) {
        *o += a;
    }
}

/// `p` (`[y, u]`) as `[u, y]`.
fn transposed(p: &Array2<f32>) -> Vec<f32> {
    let (ny, nx) = p.dim();
    let p = p.as_standard_layout();
    let mut pt = vec![0f32; nx * ny];
    transpose(p.as_slice().expect("standard layout"), ny, nx, &mut pt);
    pt
}

/// Adds the back-projection of `pt` (`[u, y]`) into `acc`, a `[z, x, y]` volume: every voxel
/// column along y reads two whole detector columns.
fn back_project_columns(
    acc: &mut [f32],
    pt: &[f32],
    [nz, ny, nx]: [usize; 3],
    alpha_deg: f64,
    scale: f32,
) {
    acc.par_chunks_mut(nx * ny)
        .enumerate()
        .for_each(|(z, plane)| {
            for (col, (i0, w)) in plane.chunks_exact_mut(ny).zip(taps(nx, nz, z, alpha_deg)) {
                let column = |i: i64| {
                    (i >= 0 && (i as usize) < nx)
                        .then(|| &pt[i as usize * ny..(i as usize + 1) * ny])
                };
                match (column(i0), column(i0 + 1)) {
                    (Some(a), Some(b)) => {
                        for ((o, &a), &b) in col.iter_mut().zip(a).zip(b) {
                            *o += scale * (a * (1.0 - w) + b * w);
                        }
                    }
                    (a, b) => {
                        for (y, o) in col.iter_mut().enumerate() {
                            let (a, b) = (a.map_or(0.0, |c| c[y]), b.map_or(0.0, |c| c[y]));
                            *o += scale * (a * (1.0 - w) + b * w);
                        }
                    }
                }
            }
        });
}

/// A `[z, x, y]` volume as `[z, y, x]`, plane by plane in place.
fn planes_untransposed(mut acc: Vec<f32>, ny: usize, nx: usize) -> Vec<f32> {
    acc.par_chunks_mut(nx * ny).for_each(|plane| {
        let t = plane.to_vec();
        transpose(&t, nx, ny, plane);
    });
    acc
}

/// `(kx, ky)` in 1/Å at every frequency of the real 2D spectrum of a `[ny, nx]` image, in the
/// spectrum's order.
fn spectrum_frequencies(
    [ny, nx]: [usize; 2],
    voxel_size_a: f64,
) -> impl Iterator<Item = (f64, f64)> {
    (0..ny)
        .flat_map(move |iy| (0..nx / 2 + 1).map(move |ix| (iy, ix)))
        .map(move |(iy, ix)| {
            let kx = ix as f64 / (nx as f64 * voxel_size_a);
            let ky = freq_index(iy, ny) as f64 / (ny as f64 * voxel_size_a);
            (kx, ky)
        })
}

/// `h(kx, ky)` at every frequency of the real 2D spectrum of a `[ny, nx]` image, in the
/// spectrum's order: a filter that every tilt shares is evaluated once.
fn filter_table(shape: [usize; 2], voxel_size_a: f64, h: impl Fn(f64, f64) -> f64) -> Vec<f32> {
    spectrum_frequencies(shape, voxel_size_a)
        .map(|(kx, ky)| h(kx, ky) as f32)
        .collect()
}

/// Multiplies the 2D spectrum of `img` by a [`filter_table`] (real) or a [`shift_table`]
/// (complex).
fn filter_2d_by<W: Copy>(fft: &Fft3, img: &Array2<f32>, table: &[W]) -> Array2<f32>
where
    crate::fft::Complex32: std::ops::MulAssign<W>,
{
    let vol = img.clone().insert_axis(Axis(0));
    let mut spec = fft.forward(&vol);
    for (c, &w) in spec.iter_mut().zip(table) {
        *c *= w;
    }
    fft.inverse(&spec).index_axis_move(Axis(0), 0)
}

/// One frequency of a projection's real spectrum, what does not change from tilt to tilt.
struct Frequency {
    /// |k|, 1/Å.
    k: f64,
    /// The astigmatic change of defocus in this direction, Å.
    astigmatism_a: f64,
    /// The detector's MTF (1 without it).
    mtf: f64,
}

/// One imaged projection and the clean contrast it came from.
pub struct Projection {
    /// Tilt angle in degrees.
    pub angle_deg: f64,
    /// The noisy image (contrast, mean ≈ 0).
    pub image: Array2<f32>,
    /// The noise-free contrast.
    pub clean: Array2<f32>,
}

/// Projects and images the tilt series of `potential`.
pub fn tilt_series(
    potential: &Array3<f32>,
    voxel_size_a: f64,
    p: &TiltSeriesParams,
    seed: u64,
) -> Result<Vec<Projection>> {
    p.validate()?;
    let (_, ny, nx) = potential.dim();
    let angles = p.angles_deg();
    let sigma_e = interaction_constant(p.ctf.voltage_kv);
    let fft = Fft3::new([1, ny, nx]);
    let view = potential.as_standard_layout();
    let rows = Planes::of(&view);
    let copy = rows.transposed_copy();
    let planes = match &copy {
        Some(t) => Planes::Transposed(t, [potential.dim().0, ny, nx]),
        None => rows,
    };
    let n_tilts = angles.len();
    // Mean |MTF|² over the full 2D spectrum, the same for every tilt: white noise of variance σ²
    // leaves the MTF with variance σ²·noise_power (used for the SNR noise model).
    let flat = Imaging3dParams {
        ctf: p.ctf,
        apply_mtf: p.apply_mtf,
        tilt_max_deg: 90.0,
        snr: None,
        noise_correlation_a: p.noise_correlation_a,
        noise_white_fraction: p.noise_white_fraction,
    };
    let corr = crate::filters3d::noise_correlation(p.noise_correlation_a);
    let noise_power = mean_square(&filters([1, ny, nx], voxel_size_a, &flat).noise, nx);
    let mtf = |k: f64| {
        if p.apply_mtf {
            pixel_mtf(k, voxel_size_a)
        } else {
            1.0
        }
    };
    // What every tilt shares, evaluated once per frequency: |k|, the astigmatic defocus change
    // a·cos 2(θ − θₐ), the MTF, and the noise's colour.
    let (astig, theta_a) = (p.astigmatism_a, p.astigmatism_angle_deg.to_radians());
    let frequencies: Vec<Frequency> = spectrum_frequencies([ny, nx], voxel_size_a)
        .map(|(kx, ky)| {
            let k = (kx * kx + ky * ky).sqrt();
            Frequency {
                k,
                astigmatism_a: astig * (2.0 * (ky.atan2(kx) - theta_a)).cos(),
                mtf: mtf(k),
            }
        })
        .collect();
    let noise_filter: Vec<f32> = frequencies
        .iter()
        .map(|f| {
            (crate::filters3d::noise_transfer(f.mtf, p.noise_white_fraction) * corr(f.k) as f64)
                as f32
        })
        .collect();
    let noise_filter = if p.low_pass_noise.fraction > 0.0 {
        let k: Vec<f64> = frequencies.iter().map(|f| f.k).collect();
        let weight: Vec<f64> = (0..ny)
            .flat_map(|_| (0..nx / 2 + 1).map(|ix| crate::fft::half_weight(ix, nx)))
            .collect();
        p.low_pass_noise
            .apply(&noise_filter, &k, &weight, voxel_size_a)
    } else {
        noise_filter
    };
    let ranks = dose_ranks(&angles);
    let deg = p.degradation;
    Ok(angles
        .par_iter()
        .enumerate()
        .map(|(i, &alpha)| {
            let mut rng = ChaCha8Rng::seed_from_u64(crate::subtomo::mix_seed(seed, i as u64));
            let mut proj = project_planes(planes, alpha, voxel_size_a);
            let defocus = p.ctf.defocus_a + p.defocus_sd_a * rng.sample::<f64, _>(StandardNormal);
            if deg.misalignment_sd_px > 0.0 {
                // Drawn only when asked for, so that series without it keep their bits.
                let sd_a = deg.misalignment_sd_px * voxel_size_a;
                let dx = sd_a * rng.sample::<f64, _>(StandardNormal);
                let dy = sd_a * rng.sample::<f64, _>(StandardNormal);
                let table = shift_table(spectrum_frequencies([ny, nx], voxel_size_a), dx, dy);
                proj = filter_2d_by(&fft, &proj, &table);
            }
            // This tilt's CTF at every frequency (its defocus, the series' astigmatism).
            let ctf_values: Vec<f64> = frequencies
                .iter()
                .map(|f| {
                    let local = CtfParams {
                        defocus_a: defocus + f.astigmatism_a,
                        ..p.ctf
                    };
                    local.value(f.k)
                })
                .collect();
            let clean_filter: Vec<f32> = ctf_values
                .iter()
                .zip(&frequencies)
                .map(|(c, f)| (2.0 * sigma_e * c * f.mtf * deg.damage(ranks[i], f.k)) as f32)
                .collect();
            // The thicker ice at this tilt: fewer electrons, so less signal against the noise.
            let ice = deg.snr_factor(alpha);
            let clean = filter_2d_by(&fft, &proj, &clean_filter);
            let image = match p.noise {
                NoiseModel::None => clean.clone(),
                NoiseModel::Dose(total) => {
                    let mean = total / n_tilts as f64 * voxel_size_a * voxel_size_a * ice;
                    clean.mapv(|c| {
                        let lambda = (mean * (1.0 + c as f64)).max(0.0);
                        let k = if lambda < 50.0 {
                            Poisson::new(lambda.max(1e-9))
                                .map(|d| d.sample(&mut rng))
                                .unwrap_or(0.0)
                        } else {
                            lambda + lambda.sqrt() * rng.sample::<f64, _>(StandardNormal)
                        };
                        (k / mean - 1.0) as f32
                    })
                }
                NoiseModel::Snr(snr) => {
                    let n = (ny * nx) as f64;
                    let mean_c = clean.iter().map(|&v| v as f64).sum::<f64>() / n;
                    let var_c = clean
                        .iter()
                        .map(|&v| (v as f64 - mean_c).powi(2))
                        .sum::<f64>()
                        / n;
                    let sigma = (var_c / (snr * ice) / noise_power).sqrt();
                    let white = Array2::from_shape_simple_fn((ny, nx), || {
                        (sigma * rng.sample::<f64, _>(StandardNormal)) as f32
                    });
                    let noise = filter_2d_by(&fft, &white, &noise_filter);
                    &clean + &noise
                }
            };
            let (image, clean) = if p.phase_flip {
                let signs: Vec<f32> = ctf_values
                    .iter()
                    .map(|&c| if c < 0.0 { -1.0 } else { 1.0 })
                    .collect();
                let flip = |img: &Array2<f32>| filter_2d_by(&fft, img, &signs);
                (flip(&image), flip(&clean))
            } else {
                (image, clean)
            };
            Projection {
                angle_deg: alpha,
                image,
                clean,
            }
        })
        .collect())
}

/// Weighted back-projection of `projections` into a `[nz, ny, nx]` volume, the ramp apodised
/// by a cosine ([`ReconFilter::Cosine`]).
pub fn wbp(projections: &[Projection], shape_zyx: [usize; 3], voxel_size_a: f64) -> Array3<f32> {
    wbp_filtered(projections, shape_zyx, voxel_size_a, ReconFilter::Cosine)
}

/// Weighted back-projection of `projections` into a `[nz, ny, nx]` volume with `filter`.
pub fn wbp_filtered(
    projections: &[Projection],
    shape_zyx: [usize; 3],
    voxel_size_a: f64,
    filter: ReconFilter,
) -> Array3<f32> {
    let [nz, ny, nx] = shape_zyx;
    let fft = Fft3::new([1, ny, nx]);
    let step = if projections.len() > 1 {
        (projections[1].angle_deg - projections[0].angle_deg)
            .abs()
            .to_radians()
    } else {
        1.0
    };
    let k_ny = 0.5 / voxel_size_a;
    // Summed as [z, x, y] (the tilts in order, as voxel by voxel), then put back plane by plane.
    let mut acc = vec![0f32; nz * nx * ny];
    let weights = filter_table([ny, nx], voxel_size_a, |kx, _| {
        filter.weight(kx.abs(), k_ny)
    });
    for p in projections {
        let weighted = filter_2d_by(&fft, &p.image, &weights);
        back_project_columns(
            &mut acc,
            &transposed(&weighted),
            shape_zyx,
            p.angle_deg,
            step as f32,
        );
    }
    Array3::from_shape_vec((nz, ny, nx), planes_untransposed(acc, ny, nx))
        .expect("nz × ny × nx values")
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{ShapeBuilder, s};

    /// Multiplies the 2D spectrum of `img` (`[y, x]`) by `h(kx, ky)` (1/Å).
    fn filter_2d(
        fft: &Fft3,
        img: &Array2<f32>,
        voxel_size_a: f64,
        h: impl Fn(f64, f64) -> f64,
    ) -> Array2<f32> {
        let (ny, nx) = img.dim();
        filter_2d_by(fft, img, &filter_table([ny, nx], voxel_size_a, h))
    }

    /// Projection voxel by voxel (the form the column code must equal to the bit).
    fn project_by_voxel(v: &Array3<f32>, alpha_deg: f64, voxel_size_a: f64) -> Array2<f32> {
        let (nz, ny, nx) = v.dim();
        let mut p = Array2::<f32>::zeros((ny, nx));
        let dz = voxel_size_a as f32;
        for z in 0..nz {
            let t = taps(nx, nz, z, alpha_deg);
            for y in 0..ny {
                for (x, &(i0, w)) in t.iter().enumerate() {
                    let val = v[[z, y, x]];
                    if i0 >= 0 && (i0 as usize) < nx {
                        p[[y, i0 as usize]] += val * (1.0 - w) * dz;
                    }
                    if i0 + 1 >= 0 && ((i0 + 1) as usize) < nx {
                        p[[y, (i0 + 1) as usize]] += val * w * dz;
                    }
                }
            }
        }
        p
    }

    /// Back-projection voxel by voxel.
    fn back_project_by_voxel(v: &mut Array3<f32>, p: &Array2<f32>, alpha_deg: f64, scale: f32) {
        let (nz, ny, nx) = v.dim();
        for z in 0..nz {
            let t = taps(nx, nz, z, alpha_deg);
            for y in 0..ny {
                for (x, &(i0, w)) in t.iter().enumerate() {
                    let at = |i: i64| {
                        if i >= 0 && (i as usize) < nx {
                            p[[y, i as usize]]
                        } else {
                            0.0
                        }
                    };
                    v[[z, y, x]] += scale * (at(i0) * (1.0 - w) + at(i0 + 1) * w);
                }
            }
        }
    }

    fn volume() -> Array3<f32> {
        // Zeros (skipped voxels), negative zeros and a signed pattern; x ≠ y ≠ z extents.
        Array3::from_shape_fn((9, 13, 17), |(z, y, x)| match (z + 2 * y + 3 * x) % 7 {
            0 => 0.0,
            1 => -0.0,
            k => ((k as f32) - 3.5) * (1.0 + 0.1 * z as f32) / (1.0 + y as f32),
        })
    }

    #[test]
    fn column_projection_equals_voxel_by_voxel_to_the_bit() {
        let v = volume();
        let view = v.view();
        let rows = v.as_standard_layout();
        let copy = Planes::of(&rows).transposed_copy().unwrap();
        for alpha in [-75.0, -33.3, -2.0, 0.0, 7.5, 41.0, 60.0, 89.0] {
            let want = project_by_voxel(&v, alpha, 10.0).mapv(f32::to_bits);
            assert_eq!(
                project(&view, alpha, 10.0).mapv(f32::to_bits),
                want,
                "{alpha}°"
            );
            let t = project_planes(Planes::Transposed(&copy, [9, 13, 17]), alpha, 10.0);
            assert_eq!(t.mapv(f32::to_bits), want, "{alpha}°, transposed copy");
            // A view that is not in standard layout reads the same.
            let mut f = Array3::<f32>::zeros(v.dim().f());
            f.assign(&v);
            assert_eq!(project(&f.view(), alpha, 10.0).mapv(f32::to_bits), want);
        }
    }

    #[test]
    fn column_back_projection_and_wbp_equal_voxel_by_voxel_to_the_bit() {
        let v = volume();
        let p = v.slice(s![3, .., ..]).to_owned();
        let mut want = Array3::<f32>::from_elem((5, 13, 17), 0.25);
        let mut got = want.clone();
        for (alpha, scale) in [(-60.0, 0.5), (0.0, 1.0), (23.0, 0.05)] {
            back_project_by_voxel(&mut want, &p, alpha, scale);
            back_project_into(&mut got, &p, alpha, scale);
            assert_eq!(got.mapv(f32::to_bits), want.mapv(f32::to_bits), "{alpha}°");
        }
        // WBP: the tilts summed in order, as voxel by voxel from zero.
        let angles = [-40.0, -20.0, 0.0, 20.0, 40.0];
        let projections: Vec<Projection> = angles
            .iter()
            .map(|&a| Projection {
                angle_deg: a,
                image: project(&v.view(), a, 10.0),
                clean: Array2::zeros((13, 17)),
            })
            .collect();
        let fft = Fft3::new([1, 13, 17]);
        let mut want = Array3::<f32>::zeros((9, 13, 17));
        for pr in &projections {
            let k_ny = 0.05;
            let weighted = filter_2d(&fft, &pr.image, 10.0, |kx, _| {
                let k = kx.abs();
                k / k_ny * (std::f64::consts::FRAC_PI_2 * k / k_ny).cos().max(0.0)
            });
            back_project_by_voxel(
                &mut want,
                &weighted,
                pr.angle_deg,
                20f64.to_radians() as f32,
            );
        }
        let got = wbp(&projections, [9, 13, 17], 10.0);
        assert_eq!(got.mapv(f32::to_bits), want.mapv(f32::to_bits));
    }
}
