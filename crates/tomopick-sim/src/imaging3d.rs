//! The fast 3D imaging route (the domain-randomisation paper's): filter the potential by a
//! 3D CTF × MTF × missing-wedge mask, and add noise at an exact SNR.
//!
//! - Signal filter `H_s = CTF(|k|)·MTF(|k|)·W(k)`; noise filter `H_n = MTF(|k|)·W(k)`: shot
//!   noise is white at the detector, so it sees the MTF and the wedge but not the CTF.
//! - SNR is the variance ratio var(signal out) / var(noise out). White noise of variance σ²
//!   leaves the filter with variance σ²·mean|H_n|², so σ² = var(S)/(SNR·mean|H_n|²) gives the
//!   asked-for SNR in expectation; var(S) comes from the spectrum (Parseval), no extra FFT.
//! - Missing wedge: tilt axis y, beam z; a frequency is measured iff |k_z| ≤ |k_x| tan α_max
//!   (the filters are in [`crate::filters3d`]).

use crate::ctf::CtfParams;
use crate::error::{Result, SimError};
use crate::fft::{Fft3, x_major_slice};
pub use crate::filters3d::{BinFilters, Filters, filters, mean_square};
use crate::subtomo::mix_seed;
use ndarray::Array3;
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
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
    /// Standard deviation in Å of a Gaussian that correlates the noise between neighbouring
    /// voxels (0: white at the detector). Real noise is not white (detector cross-talk,
    /// interpolation, binning), and other simulators colour theirs; the SNR stays exact.
    pub noise_correlation_a: f64,
    /// Share of the noise variance that is white at the detector instead of passing its MTF
    /// (0: all through the MTF, as shot noise at an integrating detector's scintillator; 1: none,
    /// as a counting detector's, which the back-projection's ramp then lifts at high frequencies).
    /// The SNR stays exact.
    pub noise_white_fraction: f64,
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
        crate::filters3d::check_noise_correlation(self.noise_correlation_a)?;
        crate::filters3d::check_noise_white_fraction(self.noise_white_fraction)?;
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
///
/// One sweep over the spectrum applies `H_s` and sums the signal variance (Parseval) and
/// mean |H_n|²; a second adds the noise spectrum, drawn directly (see [`add_white_noise`]).
/// Both run over kx planes of the x-major spectrum ([`crate::fft`]).
pub fn image_3d<R: Rng + ?Sized>(
    fft: &Fft3,
    potential: &Array3<f32>,
    voxel_size_a: f64,
    p: &Imaging3dParams,
    want_clean: bool,
    rng: &mut R,
) -> Result<Imaged> {
    p.validate()?;
    let mut run = |spec: &mut Array3<Complex32>| {
        image_in(spec, fft, potential, voxel_size_a, p, want_clean, rng)
    };
    if potential.len() >= 1 << 18 {
        return Ok(run(&mut Array3::zeros((0, 0, 0))));
    }
    // Small volumes are made by the thousand on each thread: reuse one spectrum buffer.
    Ok(SPECTRUM.with(|s| run(&mut s.borrow_mut())))
}

thread_local! {
    static SPECTRUM: std::cell::RefCell<Array3<Complex32>> =
        std::cell::RefCell::new(Array3::zeros((0, 0, 0)));
}

/// [`image_3d`] with `spec` as the spectrum's buffer.
fn image_in<R: Rng + ?Sized>(
    spec: &mut Array3<Complex32>,
    fft: &Fft3,
    potential: &Array3<f32>,
    voxel_size_a: f64,
    p: &Imaging3dParams,
    want_clean: bool,
    rng: &mut R,
) -> Imaged {
    let (nz, ny, nx) = potential.dim();
    let bins = BinFilters::new([nz, ny, nx], voxel_size_a, p);
    fft.forward_into(potential, spec);
    let n = (nz * ny * nx) as f64;
    let (sum_sq, noise_ms) = for_each_kx_plane(spec, |ix, plane, line| {
        let (mut s, mut m) = (0.0, 0.0);
        for (iy, zs) in plane.chunks_exact_mut(nz).enumerate() {
            bins.z_line(ix, iy, line);
            let (mut s_line, mut m_line) = (0f32, 0f32);
            for (c, (hn, hs)) in zs.iter_mut().zip(line.iter()) {
                *c *= *hs;
                s_line += c.norm_sqr();
                m_line += hn * hn;
            }
            s += s_line as f64;
            m += m_line as f64;
        }
        // Bins 0 < kx < N/2 stand for themselves and their mirror images.
        let w = if ix == 0 || 2 * ix == nx { 1.0 } else { 2.0 };
        (w * s, w * m)
    });
    let mean = spec[[0, 0, 0]].re as f64 / n;
    let signal_variance = sum_sq / (n * n) - mean * mean;
    let clean = want_clean.then(|| fft.inverse(spec));
    let mut noise_variance = 0.0;
    if let Some(snr) = p.snr {
        let target = signal_variance / snr;
        let sigma = (target / (noise_ms / n)).sqrt();
        add_white_noise(spec, nx, sigma, &bins, rng.next_u64());
        noise_variance = target;
    }
    Imaged {
        image: fft.inverse_overwriting(spec),
        clean,
        signal_variance,
        noise_variance,
    }
}

/// Runs `f(kx, plane, line buffer)` on each kx plane (`[ky][kz]`, contiguous) of an x-major
/// half spectrum (in parallel for big volumes) and returns the sum of its results.
fn for_each_kx_plane<F>(spec: &mut Array3<Complex32>, f: F) -> (f64, f64)
where
    F: Fn(usize, &mut [Complex32], &mut [(f32, f32)]) -> (f64, f64) + Sync,
{
    let (nz, ny, _) = spec.dim();
    let big = spec.len() >= 1 << 17;
    let data = x_major_slice(spec);
    let add = |a: (f64, f64), b: (f64, f64)| (a.0 + b.0, a.1 + b.1);
    if big {
        data.par_chunks_mut(ny * nz)
            .enumerate()
            .map_init(
                || vec![(0f32, 0f32); nz],
                |line, (ix, plane)| f(ix, plane, line),
            )
            .reduce(|| (0.0, 0.0), add)
    } else {
        let mut line = vec![(0f32, 0f32); nz];
        data.chunks_exact_mut(ny * nz)
            .enumerate()
            .fold((0.0, 0.0), |acc, (ix, plane)| {
                add(acc, f(ix, plane, &mut line))
            })
    }
}

/// Adds the half spectrum of real white noise of variance `sigma²`, filtered by `H_n`, to the
/// x-major `spec` (of a volume `nx` wide), drawn directly instead of transforming real-space
/// noise.
///
/// Each bin gets independent real and imaginary parts with E|E|² = N σ²; on the planes kx = 0
/// and kx = N/2, where the half spectrum holds both k and −k, E(−k) = conj(E(k)) and the
/// self-conjugate bins are real, so the result is the spectrum of real noise. The parts are
/// uniform, not Gaussian: every real-space voxel is a weighted sum of all N bins, so it is
/// Gaussian to within O(1/N) (the central limit theorem; tested: excess kurtosis ≈ 0), and
/// a uniform costs a fifth of a normal draw. Bins inside the missing wedge draw nothing.
/// Plane kx draws from its own stream of `seed`, so big volumes run in parallel and the bits
/// do not depend on the thread count.
pub fn add_white_noise(
    spec: &mut Array3<Complex32>,
    nx: usize,
    sigma: f64,
    bins: &BinFilters,
    seed: u64,
) {
    let (nz, ny, _) = spec.dim();
    let n = (nz * ny * nx) as f64;
    // Uniform on [−a, a] has variance a²/3.
    let half = (3.0 * sigma * sigma * n / 2.0).sqrt() as f32;
    let full = (3.0 * sigma * sigma * n).sqrt() as f32;
    for_each_kx_plane(spec, |ix, plane, line| {
        let mut rng = ChaCha8Rng::seed_from_u64(mix_seed(seed, ix as u64));
        if ix != 0 && 2 * ix != nx {
            for (iy, zs) in plane.chunks_exact_mut(nz).enumerate() {
                bins.z_line(ix, iy, line);
                for (c, (hn, _)) in zs.iter_mut().zip(line.iter()) {
                    if *hn != 0.0 {
                        let (re, im) = uniform_pair(&mut rng);
                        *c += Complex32::new(re, im) * (half * *hn);
                    }
                }
            }
            return (0.0, 0.0);
        }
        // A self-conjugate plane: bin (ky, kz) and its partner (−ky, −kz) share one draw.
        let mut partner = vec![(0f32, 0f32); nz];
        for iy in 0..ny {
            let py = (ny - iy) % ny;
            bins.z_line(ix, iy, line);
            bins.z_line(ix, py, &mut partner);
            for iz in 0..nz {
                let pz = (nz - iz) % nz;
                if (py, pz) < (iy, iz) {
                    continue;
                }
                let (re, im) = uniform_pair(&mut rng);
                if (py, pz) == (iy, iz) {
                    plane[iy * nz + iz].re += full * line[iz].0 * re;
                    continue;
                }
                let e = Complex32::new(re, im) * half;
                plane[iy * nz + iz] += e * line[iz].0;
                plane[py * nz + pz] += e.conj() * partner[pz].0;
            }
        }
        (0.0, 0.0)
    });
}

/// Two independent uniforms on [−1, 1) from one 64-bit draw.
#[inline]
fn uniform_pair(rng: &mut ChaCha8Rng) -> (f32, f32) {
    let u = rng.next_u64();
    const SCALE: f32 = 1.0 / (1u64 << 31) as f32;
    (
        (u as u32 as i32) as f32 * SCALE,
        ((u >> 32) as u32 as i32) as f32 * SCALE,
    )
}
