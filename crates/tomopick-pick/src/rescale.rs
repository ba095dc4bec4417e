//! Seeing a tomogram on a grid of another voxel size (the model's), block by block, so that a
//! tomogram binned differently from the model can be picked, streamed with bounded memory.
//!
//! Output voxel `i` along an axis lies at `i · out_vs` Å, the same place as input voxel
//! `i · out_vs / in_vs`: a position in Å means the same in both grids, so picks made on the
//! resampled grid are already in the tomogram's own frame. When the grid gets coarser, each axis
//! is first low-passed with a Gaussian of σ = 0.375 s input voxels, s being input voxels per
//! output voxel: its response falls to one half at the new grid's Nyquist frequency and to 6 % at
//! the old one's when s = 2 (binning by averaging, for comparison, keeps 71 % and 0 %). No filter
//! when the grid gets finer. Then each axis is linearly interpolated. Both steps clamp at
//! the volume's faces. Blocks are read with enough margin that every output voxel has the same
//! value whichever block computes it.

use crate::smooth::gaussian_kernel;
use ndarray::{Array3, Axis, s};
use tomopick_io::{Volume, VoxelSize};

/// A resampling from one grid to another of a different voxel size, over the same extent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rescaler {
    in_shape_xyz: [usize; 3],
    in_voxel_size: VoxelSize,
    out_voxel_size: VoxelSize,
    out_shape_xyz: [usize; 3],
}

impl Rescaler {
    /// From a volume of `in_shape_xyz` voxels of `in_voxel_size` to a grid of `out_voxel_size`
    /// that spans the same Å (its last voxel lies at or just inside the input's last).
    pub fn new(
        in_shape_xyz: [usize; 3],
        in_voxel_size: VoxelSize,
        out_voxel_size: VoxelSize,
    ) -> Self {
        let (vi, vo) = (in_voxel_size.as_array(), out_voxel_size.as_array());
        let out_shape_xyz = std::array::from_fn(|a| match in_shape_xyz[a] {
            0 => 0,
            n => ((n - 1) as f64 * vi[a] / vo[a] + 1e-9).floor() as usize + 1,
        });
        Rescaler {
            in_shape_xyz,
            in_voxel_size,
            out_voxel_size,
            out_shape_xyz,
        }
    }

    /// Size of the output grid in voxels `[x, y, z]`.
    pub fn shape_xyz(&self) -> [usize; 3] {
        self.out_shape_xyz
    }

    /// Voxel size of the output grid.
    pub fn voxel_size(&self) -> VoxelSize {
        self.out_voxel_size
    }

    /// Input voxels per output voxel, `[x, y, z]`.
    pub fn step(&self) -> [f64; 3] {
        let (vi, vo) = (
            self.in_voxel_size.as_array(),
            self.out_voxel_size.as_array(),
        );
        std::array::from_fn(|a| vo[a] / vi[a])
    }

    /// The anti-aliasing σ in input voxels, `[x, y, z]` (0 where the axis is upsampled).
    pub fn sigma_in_vox(&self) -> [f64; 3] {
        self.step().map(|s| if s > 1.0 { 0.375 * s } else { 0.0 })
    }

    /// The box of `size_xyz` output voxels at output voxel `origin_xyz`, as `[z, y, x]`, each
    /// value mapped by `f` after resampling; voxels outside the output grid (the box may cross
    /// the faces) are 0. `read(origin_xyz, size_xyz)` gives a box of input voxels `[z, y, x]`;
    /// it is asked only for boxes inside the input volume.
    pub fn block<E>(
        &self,
        origin_xyz: [i64; 3],
        size_xyz: [usize; 3],
        read: impl FnOnce([i64; 3], [usize; 3]) -> Result<Array3<f32>, E>,
        f: impl Fn(f32) -> f32,
    ) -> Result<Array3<f32>, E> {
        let mut out = Array3::zeros((size_xyz[2], size_xyz[1], size_xyz[0]));
        let n_out = self.out_shape_xyz.map(|n| n as i64);
        let lo: [i64; 3] = std::array::from_fn(|a| origin_xyz[a].clamp(0, n_out[a]));
        let hi: [i64; 3] =
            std::array::from_fn(|a| (origin_xyz[a] + size_xyz[a] as i64).clamp(0, n_out[a]));
        if (0..3).any(|a| hi[a] <= lo[a]) {
            return Ok(out);
        }
        let (step, sigma) = (self.step(), self.sigma_in_vox());
        // Input voxels the interpolation touches, widened by the filter's radius and one more.
        let (in_lo, in_hi): ([i64; 3], [i64; 3]) = {
            let r = |a: usize| (gaussian_kernel(sigma[a]).len() / 2) as i64 + 1;
            let first = |a: usize| (lo[a] as f64 * step[a]).floor() as i64 - r(a);
            let last = |a: usize| ((hi[a] - 1) as f64 * step[a]).floor() as i64 + 1 + r(a);
            (
                std::array::from_fn(|a| first(a).max(0)),
                std::array::from_fn(|a| (last(a) + 1).min(self.in_shape_xyz[a] as i64)),
            )
        };
        let mut v = read(
            in_lo,
            std::array::from_fn(|a| (in_hi[a] - in_lo[a]) as usize),
        )?;
        for a in 0..3 {
            let at = |j: usize| (lo[a] + j as i64) as f64 * step[a] - in_lo[a] as f64;
            let taps = axis_taps(
                v.len_of(Axis(2 - a)),
                (hi[a] - lo[a]) as usize,
                sigma[a],
                at,
            );
            v = apply_along(&v, 2 - a, &taps);
        }
        let off: [usize; 3] = std::array::from_fn(|a| (lo[a] - origin_xyz[a]) as usize);
        let n: [usize; 3] = std::array::from_fn(|a| (hi[a] - lo[a]) as usize);
        out.slice_mut(s![
            off[2]..off[2] + n[2],
            off[1]..off[1] + n[1],
            off[0]..off[0] + n[0]
        ])
        .zip_mut_with(&v, |o, &x| *o = f(x));
        Ok(out)
    }

    /// A whole volume on the output grid. Panics when `v` is not of this rescaler's input shape.
    pub fn volume(&self, v: &Volume) -> Volume {
        assert_eq!(v.shape_xyz(), self.in_shape_xyz, "volume of another shape");
        let data = self
            .block::<std::convert::Infallible>(
                [0; 3],
                self.out_shape_xyz,
                |o, s| Ok(v.block(o, s, |x| x)),
                |x| x,
            )
            .unwrap_or_else(|e| match e {});
        Volume::new(data, self.out_voxel_size)
    }
}

/// The weights that give each of `n_out` outputs along an axis of `n_in` inputs: the Gaussian
/// of `sigma` (none when 0), then linear interpolation at `at(j)` input voxels (clamped to the
/// axis); the filter clamps at the ends too. One pass does both.
fn axis_taps(
    n_in: usize,
    n_out: usize,
    sigma: f64,
    at: impl Fn(usize) -> f64,
) -> Vec<Vec<(usize, f32)>> {
    let kernel = if sigma > 0.0 {
        gaussian_kernel(sigma)
    } else {
        vec![1.0]
    };
    let r = (kernel.len() / 2) as i64;
    let last = n_in as i64 - 1;
    (0..n_out)
        .map(|j| {
            let t = at(j).clamp(0.0, last as f64);
            let i0 = t.floor() as i64;
            let f = (t - i0 as f64) as f32;
            let mut taps: Vec<(usize, f32)> = Vec::with_capacity(2 * kernel.len());
            for (i, w) in [(i0, 1.0 - f), ((i0 + 1).min(last), f)] {
                for (m, k) in kernel.iter().enumerate() {
                    let at = (i + m as i64 - r).clamp(0, last) as usize;
                    match taps.iter_mut().find(|(p, _)| *p == at) {
                        Some((_, sum)) => *sum += w * k,
                        None => taps.push((at, w * k)),
                    }
                }
            }
            taps
        })
        .collect()
}

/// `v` with array `axis` replaced by `taps.len()` weighted sums of its planes.
fn apply_along(v: &Array3<f32>, axis: usize, taps: &[Vec<(usize, f32)>]) -> Array3<f32> {
    let mut dim = v.raw_dim();
    dim[axis] = taps.len();
    let mut out = Array3::zeros(dim);
    if axis == 2 {
        // Along x, the contiguous axis: row by row.
        for (mut o, row) in out.lanes_mut(Axis(2)).into_iter().zip(v.lanes(Axis(2))) {
            for (dst, t) in o.iter_mut().zip(taps) {
                *dst = t.iter().map(|&(i, w)| w * row[i]).sum();
            }
        }
    } else {
        // Along y or z: whole planes at a time, each contiguous along x.
        for (j, t) in taps.iter().enumerate() {
            let mut o = out.index_axis_mut(Axis(axis), j);
            for &(i, w) in t {
                o.scaled_add(w, &v.index_axis(Axis(axis), i));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vol(shape_xyz: [usize; 3], vs: f64, f: impl Fn(f64, f64, f64) -> f32) -> Volume {
        let data =
            Array3::from_shape_fn((shape_xyz[2], shape_xyz[1], shape_xyz[0]), |(z, y, x)| {
                f(x as f64 * vs, y as f64 * vs, z as f64 * vs)
            });
        Volume::new(data, VoxelSize::isotropic(vs))
    }

    #[test]
    fn the_output_grid_spans_the_same_angstroms() {
        let r = Rescaler::new(
            [100, 64, 31],
            VoxelSize::isotropic(7.0),
            VoxelSize::isotropic(10.0),
        );
        // 99 × 7 = 693 Å → voxels 0..=69 at 10 Å; 63 × 7 = 441 → 0..=44; 30 × 7 = 210 → 0..=21.
        assert_eq!(r.shape_xyz(), [70, 45, 22]);
        assert_eq!(r.step(), [10.0 / 7.0; 3]);
        let up = Rescaler::new(
            [10, 10, 10],
            VoxelSize::isotropic(13.5),
            VoxelSize::isotropic(10.0),
        );
        assert_eq!(up.shape_xyz(), [13, 13, 13]);
        assert_eq!(up.sigma_in_vox(), [0.0; 3]);
    }

    #[test]
    fn a_constant_stays_constant_and_a_ramp_stays_a_ramp() {
        for vs_in in [6.0, 13.5] {
            let c = vol([40, 30, 20], vs_in, |_, _, _| 3.0);
            let r = Rescaler::new([40, 30, 20], c.voxel_size, VoxelSize::isotropic(10.0));
            let out = r.volume(&c);
            assert!(out.data.iter().all(|&v| (v - 3.0).abs() < 1e-5), "{vs_in}");
            // A ramp in Å is the same ramp on the new grid (away from the faces, where the
            // filter's clamping bends it).
            let ramp = vol([40, 30, 20], vs_in, |x, y, z| (x + 2.0 * y - z) as f32);
            let out = r.volume(&ramp);
            let [nx, ny, nz] = r.shape_xyz();
            for z in 3..nz - 3 {
                for y in 3..ny - 3 {
                    for x in 3..nx - 3 {
                        let want = (x as f64 + 2.0 * y as f64 - z as f64) * 10.0;
                        let got = out.data[[z, y, x]] as f64;
                        assert!(
                            (got - want).abs() < 1e-3 * want.abs().max(1.0),
                            "{vs_in}: {got} vs {want}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn a_blob_keeps_its_position_in_angstroms() {
        let centre = [123.0, 171.0, 97.0];
        for vs_in in [6.5, 8.0, 13.0, 16.0] {
            let blob = vol([48, 48, 36], vs_in, |x, y, z| {
                let d2 =
                    (x - centre[0]).powi(2) + (y - centre[1]).powi(2) + (z - centre[2]).powi(2);
                (-d2 / (2.0 * 30.0f64.powi(2))).exp() as f32
            });
            let r = Rescaler::new(
                blob.shape_xyz(),
                blob.voxel_size,
                VoxelSize::isotropic(10.0),
            );
            let out = r.volume(&blob);
            let (mut m, mut c) = (0.0, [0.0; 3]);
            for ((z, y, x), &v) in out.data.indexed_iter() {
                m += v as f64;
                for (a, i) in [x, y, z].into_iter().enumerate() {
                    c[a] += v as f64 * i as f64 * 10.0;
                }
            }
            for a in 0..3 {
                assert!(
                    (c[a] / m - centre[a]).abs() < 0.5,
                    "{vs_in}: axis {a}: {} Å",
                    c[a] / m
                );
            }
        }
    }

    #[test]
    fn blocks_agree_bit_for_bit_with_the_whole_volume() {
        let noisy = vol([53, 47, 29], 6.3, |x, y, z| {
            ((x * 0.37).sin() * (y * 0.11).cos() + (z * 0.71).sin()) as f32
        });
        for out_vs in [10.0, 4.2] {
            let r = Rescaler::new(
                noisy.shape_xyz(),
                noisy.voxel_size,
                VoxelSize::isotropic(out_vs),
            );
            let whole = r.volume(&noisy);
            let [nx, ny, nz] = r.shape_xyz().map(|n| n as i64);
            for origin in [
                [-3, -2, -5],
                [5, 7, 2],
                [nx - 6, ny - 9, nz - 4],
                [nx, 0, 0],
            ] {
                let size = [11, 9, 8];
                let b = r
                    .block::<()>(
                        origin,
                        size,
                        |o, s| {
                            assert!(
                                (0..3)
                                    .all(|a| o[a] >= 0
                                        && o[a] as usize + s[a] <= noisy.shape_xyz()[a])
                            );
                            Ok(noisy.block(o, s, |x| x))
                        },
                        |x| 2.0 * x - 1.0,
                    )
                    .unwrap();
                let want = whole.block(origin, size, |x| 2.0 * x - 1.0);
                assert_eq!(b, want, "{out_vs} Å, block at {origin:?}");
            }
        }
    }

    #[test]
    fn downsampling_filters_what_the_new_grid_cannot_hold_and_keeps_the_rest() {
        // A checkerboard along x at 5 Å (period 10 Å) is beyond the Nyquist limit of 10 Å voxels
        // (period 20 Å): sampling it without a filter would alias it into a constant of ±1.
        let checker = vol([64, 8, 8], 5.0, |x, _, _| {
            if (x / 5.0) as i64 % 2 == 0 { 1.0 } else { -1.0 }
        });
        let r = Rescaler::new(
            checker.shape_xyz(),
            checker.voxel_size,
            VoxelSize::isotropic(10.0),
        );
        let out = r.volume(&checker);
        let worst = out
            .data
            .slice(s![.., .., 2..30])
            .iter()
            .fold(0f32, |m, v| m.max(v.abs()));
        assert!(worst < 0.15, "aliased amplitude {worst}");
        // A cosine of period 40 Å (half the new Nyquist frequency) keeps most of its amplitude.
        let wave = vol([64, 8, 8], 5.0, |x, _, _| {
            (x * std::f64::consts::TAU / 40.0).cos() as f32
        });
        let out = r.volume(&wave);
        let kept = out
            .data
            .slice(s![.., .., 4..28])
            .iter()
            .fold(0f32, |m, v| m.max(v.abs()));
        assert!(kept > 0.8, "kept amplitude {kept}");
    }
}
