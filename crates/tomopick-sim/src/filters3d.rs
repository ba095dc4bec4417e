//! The filters of the fast 3D route on the half spectrum of a `[nz, ny, nx]` volume:
//! signal `H_s = CTF(|k|)·MTF(|k|)·W(k)` and noise `H_n = MTF(|k|)·G(|k|)·W(k)`, where `G` is
//! the optional noise correlation ([`noise_correlation`]).
//!
//! Missing wedge: tilt axis y, beam z; a frequency is measured iff |k_z| ≤ |k_x| tan α_max.
//! CTF and MTF depend on |k| only. For a cube, |k|² is an integer r² = ix² + iy² + iz² in units
//! of 1/(n·voxel)², so both are tabulated once per r²; other shapes use a fine table in |k|,
//! linearly interpolated.

use crate::ctf::pixel_mtf;
use crate::fft::{freq_index, half_weight};
use crate::imaging3d::Imaging3dParams;
use ndarray::Array3;

/// Steps of the fine |k| table for non-cubic shapes (up to √3 × Nyquist).
const FINE: usize = 1 << 16;

/// `(H_n, H_s)` for any bin of one shape, voxel size and parameter set, without storing a
/// volume of them.
pub struct BinFilters {
    shape: [usize; 3],
    /// `(MTF, CTF·MTF)` per integer r² (cubes) or per fine |k| step (other shapes).
    table: Vec<(f32, f32)>,
    cube: bool,
    k_top: f64,
    /// Measured (outside the wedge) per `(ix, iz)` of the half spectrum.
    measured: Vec<bool>,
}

impl BinFilters {
    /// Tabulates the filters for `shape_zyx` at `voxel_size_a` (Å).
    pub fn new(shape_zyx: [usize; 3], voxel_size_a: f64, p: &Imaging3dParams) -> Self {
        let [nz, ny, nx] = shape_zyx;
        let h = nx / 2 + 1;
        let cube = nz == ny && ny == nx;
        let ctf = p.ctf.curve();
        let k_top = 3f64.sqrt() * 0.5 / voxel_size_a * 1.001;
        let (len, k_of): (usize, Box<dyn Fn(usize) -> f64>) = if cube {
            let unit = 1.0 / (nx as f64 * voxel_size_a);
            (3 * h * h + 1, Box::new(move |r2| (r2 as f64).sqrt() * unit))
        } else {
            (FINE + 1, Box::new(move |i| i as f64 / FINE as f64 * k_top))
        };
        let mtf = mtf_table(len, &k_of, voxel_size_a, p.apply_mtf);
        let corr = noise_correlation(p.noise_correlation_a);
        let table = (0..len)
            .zip(mtf.iter())
            .map(|(i, m)| {
                let k = k_of(i);
                (
                    noise_transfer(*m as f64, p.noise_white_fraction) as f32 * corr(k),
                    m * ctf.value(k) as f32,
                )
            })
            .collect();
        let tan = p.tilt_max_deg.to_radians().tan();
        let mut measured = Vec::with_capacity(nz * h);
        for ix in 0..h {
            let kx = ix as f64 / (nx as f64 * voxel_size_a);
            for iz in 0..nz {
                let kz = freq_index(iz, nz) as f64 / (nz as f64 * voxel_size_a);
                measured.push(p.tilt_max_deg >= 90.0 || kz.abs() <= kx * tan + 1e-12);
            }
        }
        BinFilters {
            shape: shape_zyx,
            table,
            cube,
            k_top: k_top * voxel_size_a,
            measured,
        }
    }

    /// Fills `out` (length `nz`) with `(H_n, H_s)` along the z line `(ix, iy)`: the memory
    /// order of an x-major spectrum ([`crate::fft`]).
    pub fn z_line(&self, ix: usize, iy: usize, out: &mut [(f32, f32)]) {
        let [nz, ny, nx] = self.shape;
        let fy = freq_index(iy, ny);
        let measured = &self.measured[ix * nz..(ix + 1) * nz];
        if self.cube {
            let base = ix * ix + (fy * fy) as usize;
            for (iz, (o, m)) in out.iter_mut().zip(measured).enumerate() {
                let fz = freq_index(iz, nz);
                *o = if *m {
                    self.table[base + (fz * fz) as usize]
                } else {
                    (0.0, 0.0)
                };
            }
            return;
        }
        // |k|·voxel in cycles per voxel, then the fine table's index.
        let (kx, ky) = (ix as f64 / nx as f64, fy as f64 / ny as f64);
        let xy = kx * kx + ky * ky;
        for (iz, (o, m)) in out.iter_mut().zip(measured).enumerate() {
            if !*m {
                *o = (0.0, 0.0);
                continue;
            }
            let kz = freq_index(iz, nz) as f64 / nz as f64;
            let t = (kz * kz + xy).sqrt() / self.k_top * FINE as f64;
            let (i, w) = (t.floor() as usize, (t - t.floor()) as f32);
            let (a, b) = (self.table[i.min(FINE)], self.table[(i + 1).min(FINE)]);
            *o = (a.0 + (b.0 - a.0) * w, a.1 + (b.1 - a.1) * w);
        }
    }
}

/// The transfer `exp(−2π²σ²k²)` of a Gaussian of standard deviation `sigma_a` Å that correlates
/// the noise, at `k` in 1/Å (1 everywhere for `sigma_a` = 0).
pub fn noise_correlation(sigma_a: f64) -> impl Fn(f64) -> f32 {
    let c = 2.0 * std::f64::consts::PI.powi(2) * sigma_a * sigma_a;
    move |k: f64| (-c * k * k).exp() as f32
}

/// The noise's amplitude transfer at a frequency where the detector's MTF is `mtf`, when a share
/// `white` of its variance is white: `√((1 − white)·MTF² + white)`.
pub fn noise_transfer(mtf: f64, white: f64) -> f64 {
    ((1.0 - white) * mtf * mtf + white).sqrt()
}

/// Refuses a white share of the noise outside [0, 1] (both imaging routes).
pub fn check_noise_white_fraction(white: f64) -> crate::error::Result<()> {
    if (0.0..=1.0).contains(&white) {
        Ok(())
    } else {
        Err(crate::error::SimError::Parameter(format!(
            "noise_white_fraction = {white}: must be in [0, 1]"
        )))
    }
}

/// Refuses a noise correlation that is negative or not finite (both imaging routes).
pub fn check_noise_correlation(sigma_a: f64) -> crate::error::Result<()> {
    if sigma_a.is_finite() && sigma_a >= 0.0 {
        Ok(())
    } else {
        Err(crate::error::SimError::Parameter(format!(
            "noise_correlation_a = {sigma_a}: must be zero or positive"
        )))
    }
}

/// Length, last |k| (bits), voxel size (bits), MTF applied.
type MtfKey = (usize, u64, u64, bool);

thread_local! {
    /// The last MTF table made on this thread and its key: subtomograms of one generator all
    /// share one, and it costs a sine per entry.
    static MTF: std::cell::RefCell<(MtfKey, std::rc::Rc<Vec<f32>>)> =
        std::cell::RefCell::new(((0, 0, 0, false), std::rc::Rc::new(Vec::new())));
}

/// The pixel MTF (or 1) at `k_of(i)` for `i < len`, from this thread's cache when the last
/// table had the same key.
fn mtf_table(
    len: usize,
    k_of: &dyn Fn(usize) -> f64,
    voxel_size_a: f64,
    apply: bool,
) -> std::rc::Rc<Vec<f32>> {
    let key = (len, k_of(len - 1).to_bits(), voxel_size_a.to_bits(), apply);
    MTF.with(|cell| {
        let mut c = cell.borrow_mut();
        if c.0 != key {
            let t = (0..len)
                .map(|i| {
                    if apply {
                        pixel_mtf(k_of(i), voxel_size_a) as f32
                    } else {
                        1.0
                    }
                })
                .collect();
            *c = (key, std::rc::Rc::new(t));
        }
        c.1.clone()
    })
}

/// The signal and noise filters on the half spectrum of a `[nz, ny, nx]` volume.
pub struct Filters {
    /// CTF × MTF × wedge.
    pub signal: Array3<f32>,
    /// MTF × noise correlation × wedge.
    pub noise: Array3<f32>,
}

/// Both filters as half-spectrum volumes (for inspection and for sums over them).
pub fn filters(shape_zyx: [usize; 3], voxel_size_a: f64, p: &Imaging3dParams) -> Filters {
    let [nz, ny, nx] = shape_zyx;
    let h = nx / 2 + 1;
    let bins = BinFilters::new(shape_zyx, voxel_size_a, p);
    let mut signal = Array3::<f32>::zeros((nz, ny, h));
    let mut noise = Array3::<f32>::zeros((nz, ny, h));
    let mut line = vec![(0f32, 0f32); nz];
    for ix in 0..h {
        for iy in 0..ny {
            bins.z_line(ix, iy, &mut line);
            for (iz, (n, s)) in line.iter().enumerate() {
                noise[[iz, iy, ix]] = *n;
                signal[[iz, iy, ix]] = *s;
            }
        }
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
