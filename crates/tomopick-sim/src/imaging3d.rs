//! The fast 3D imaging route (the domain-randomisation paper's): filter the potential by a
//! 3D CTF × MTF × missing-wedge mask, and add noise at an exact SNR.
//!
//! - Signal filter `H_s = CTF(|k|)·MTF(|k|)·W(k)`; noise filter `H_n = MTF(|k|)·W(k)`: shot
//!   noise is white at the detector, so it sees the MTF and the wedge but not the CTF.
//! - SNR is the variance ratio var(signal out) / var(noise out). White noise of variance σ²
//!   leaves the filter with variance σ²·mean|H_n|², so σ² = var(S)/(SNR·mean|H_n|²) gives the
//!   asked-for SNR in expectation; var(S) comes from the spectrum (Parseval), no extra FFT.
//! - Missing wedge: tilt axis y, beam z; a frequency is measured iff |k_z| ≤ |k_x| tan α_max.

use crate::ctf::{CtfParams, pixel_mtf};
use crate::error::{Result, SimError};
use crate::fft::{Fft3, freq_index, half_weight};
use ndarray::{Array3, Zip};
use rand::Rng;
use rand_distr::StandardNormal;
use rustfft::num_complex::Complex32;

/// Parameters of the fast 3D route.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Imaging3dParams {
    /// The CTF.
    pub ctf: CtfParams,
    /// Apply the ideal-pixel MTF.
    pub apply_mtf: bool,
    /// Largest tilt angle α_max in degrees (90 = no missing wedge).
    pub tilt_max_deg: f64,
    /// Signal-to-noise variance ratio; `None` gives a noise-free image.
    pub snr: Option<f64>,
}

impl Imaging3dParams {
    /// Refuses values outside their physical range, naming the parameter.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(SimError::Parameter(m));
        if !(self.tilt_max_deg > 0.0 && self.tilt_max_deg <= 90.0) {
            return bad(format!(
                "tilt_max = {}°: must be in (0, 90]",
                self.tilt_max_deg
            ));
        }
        if let Some(s) = self.snr
            && !(s.is_finite() && s > 0.0)
        {
            return bad(format!("snr = {s}: must be positive"));
        }
        let c = &self.ctf;
        if !(c.voltage_kv > 0.0
            && c.cs_mm >= 0.0
            && (0.0..1.0).contains(&c.amplitude_contrast)
            && c.defocus_a.is_finite()
            && c.b_factor_a2 >= 0.0)
        {
            return bad(format!("CTF parameters out of range: {c:?}"));
        }
        Ok(())
    }
}

/// The signal and noise filters on the half spectrum of a `[nz, ny, nx]` volume.
pub struct Filters {
    /// CTF × MTF × wedge.
    pub signal: Array3<f32>,
    /// MTF × wedge.
    pub noise: Array3<f32>,
}

/// Builds the filters for one shape, voxel size and parameter set.
///
/// CTF and MTF depend on |k| only. For a cube, |k|² is an integer r² = ix² + iy² + iz² in
/// units of 1/(n·voxel)², so both are tabulated once per r² instead of per bin.
pub fn filters(shape_zyx: [usize; 3], voxel_size_a: f64, p: &Imaging3dParams) -> Filters {
    let [nz, ny, nx] = shape_zyx;
    let h = nx / 2 + 1;
    let tan = p.tilt_max_deg.to_radians().tan();
    let cube = nz == ny && ny == nx;
    let radial = |k: f64| -> (f32, f32) {
        let mtf = if p.apply_mtf {
            pixel_mtf(k, voxel_size_a)
        } else {
            1.0
        };
        (mtf as f32, (mtf * p.ctf.value(k)) as f32)
    };
    let table: Vec<(f32, f32)> = if cube {
        let r2max = 3 * (nx / 2 + 1) * (nx / 2 + 1);
        (0..=r2max)
            .map(|r2| radial((r2 as f64).sqrt() / (nx as f64 * voxel_size_a)))
            .collect()
    } else {
        Vec::new()
    };
    // Other shapes: a fine table in |k| (FINE steps up to √3 × Nyquist), linearly interpolated.
    const FINE: usize = 1 << 16;
    let k_top = 3f64.sqrt() * 0.5 / voxel_size_a * 1.001;
    let fine: Vec<(f32, f32)> = if cube {
        Vec::new()
    } else {
        (0..=FINE)
            .map(|i| radial(i as f64 / FINE as f64 * k_top))
            .collect()
    };
    let mut signal = Array3::<f32>::zeros((nz, ny, h));
    let mut noise = Array3::<f32>::zeros((nz, ny, h));
    let zip = Zip::indexed(&mut signal).and(&mut noise);
    let cell = |(iz, iy, ix): (usize, usize, usize), s: &mut f32, n: &mut f32| {
        let (fx, fy, fz) = (ix as i64, freq_index(iy, ny), freq_index(iz, nz));
        let kx = fx as f64 / (nx as f64 * voxel_size_a);
        let kz = fz as f64 / (nz as f64 * voxel_size_a);
        let measured = p.tilt_max_deg >= 90.0 || kz.abs() <= kx.abs() * tan + 1e-12;
        if !measured {
            return;
        }
        let (m, c) = if cube {
            table[(fx * fx + fy * fy + fz * fz) as usize]
        } else {
            let ky = fy as f64 / (ny as f64 * voxel_size_a);
            let t = (kx * kx + ky * ky + kz * kz).sqrt() / k_top * FINE as f64;
            let (i, w) = (t.floor() as usize, (t - t.floor()) as f32);
            let (a, b) = (fine[i.min(FINE)], fine[(i + 1).min(FINE)]);
            (a.0 + (b.0 - a.0) * w, a.1 + (b.1 - a.1) * w)
        };
        *n = m;
        *s = c;
    };
    if nz * ny * h >= 1 << 17 {
        zip.par_for_each(cell)
    } else {
        zip.for_each(cell)
    }
    Filters { signal, noise }
}

/// Mean of |H|² over the full spectrum, from the half spectrum.
pub fn mean_square(filter: &Array3<f32>, nx: usize) -> f64 {
    let total: f64 = filter
        .indexed_iter()
        .map(|((_, _, ix), v)| half_weight(ix, nx) * (*v as f64).powi(2))
        .sum();
    let (nz, ny, _) = filter.dim();
    total / (nz * ny * nx) as f64
}

/// Variance of the real-space image of a half spectrum (Parseval).
fn variance_of(spec: &Array3<Complex32>, nx: usize) -> f64 {
    let (nz, ny, _) = spec.dim();
    let n = (nz * ny * nx) as f64;
    let sum_sq: f64 = spec
        .indexed_iter()
        .map(|((_, _, ix), c)| half_weight(ix, nx) * c.norm_sqr() as f64)
        .sum::<f64>()
        / n;
    let mean = spec[[0, 0, 0]].re as f64 / n;
    sum_sq / n - mean * mean
}

/// The half spectrum of real white Gaussian noise of variance `sigma²` on a `[nz, ny, nx]` grid,
/// drawn directly: each bin is complex Gaussian with E|E|² = N σ², and on the planes x = 0 and
/// x = N/2, where the half spectrum holds both k and −k, the bins obey E(−k) = conj(E(k)) and
/// the self-conjugate bins are real. This is the spectrum of real noise, without its FFT.
pub fn white_noise_spectrum<R: Rng + ?Sized>(
    shape_zyx: [usize; 3],
    sigma: f64,
    rng: &mut R,
) -> Array3<Complex32> {
    let [nz, ny, nx] = shape_zyx;
    let h = nx / 2 + 1;
    let n = (nz * ny * nx) as f64;
    let half = (sigma * (n / 2.0).sqrt()) as f32;
    let full = (sigma * n.sqrt()) as f32;
    let mut out = Array3::from_shape_simple_fn((nz, ny, h), || {
        Complex32::new(
            half * rng.sample::<f32, _>(StandardNormal),
            half * rng.sample::<f32, _>(StandardNormal),
        )
    });
    let mut planes = vec![0];
    if nx % 2 == 0 {
        planes.push(nx / 2);
    }
    for ix in planes {
        for iz in 0..nz {
            for iy in 0..ny {
                let (pz, py) = ((nz - iz) % nz, (ny - iy) % ny);
                if (pz, py) == (iz, iy) {
                    out[[iz, iy, ix]] =
                        Complex32::new(full * rng.sample::<f32, _>(StandardNormal), 0.0);
                } else if (pz, py) < (iz, iy) {
                    out[[iz, iy, ix]] = out[[pz, py, ix]].conj();
                }
            }
        }
    }
    out
}

/// The result of imaging one volume.
pub struct Imaged {
    /// The image with noise (or without, when no SNR was given).
    pub image: Array3<f32>,
    /// The noise-free image, when asked for.
    pub clean: Option<Array3<f32>>,
    /// Variance of the noise-free image.
    pub signal_variance: f64,
    /// Variance of the noise that was added (expected value).
    pub noise_variance: f64,
}

/// Images `potential` (indexed `[z, y, x]`) by the fast 3D route.
pub fn image_3d<R: Rng + ?Sized>(
    fft: &Fft3,
    potential: &Array3<f32>,
    voxel_size_a: f64,
    p: &Imaging3dParams,
    want_clean: bool,
    rng: &mut R,
) -> Result<Imaged> {
    p.validate()?;
    let (nz, ny, nx) = potential.dim();
    let f = filters([nz, ny, nx], voxel_size_a, p);
    let mut spec = fft.forward(potential);
    Zip::from(&mut spec)
        .and(&f.signal)
        .for_each(|c, h| *c *= *h);
    let signal_variance = variance_of(&spec, nx);
    let clean = want_clean.then(|| fft.inverse(&spec));
    let mut noise_variance = 0.0;
    if let Some(snr) = p.snr {
        let target = signal_variance / snr;
        let sigma = (target / mean_square(&f.noise, nx)).sqrt();
        let nspec = white_noise_spectrum([nz, ny, nx], sigma, rng);
        Zip::from(&mut spec)
            .and(&nspec)
            .and(&f.noise)
            .for_each(|s, e, h| *s += *e * *h);
        noise_variance = target;
    }
    Ok(Imaged {
        image: fft.inverse(&spec),
        clean,
        signal_variance,
        noise_variance,
    })
}
