//! An in-memory volume that always carries its voxel size.

use crate::units::{PosAngstrom, VoxelSize};
use ndarray::Array3;

/// 1 / standard deviation, or 0 for a constant volume: the scale that standardises values
/// (with the mean subtracted) for the networks.
pub fn standard_scale(std: f64) -> f32 {
    if std > 0.0 { (1.0 / std) as f32 } else { 0.0 }
}

/// A 3D volume of `f32` values, indexed `[z, y, x]`, with its voxel size and origin.
#[derive(Debug, Clone, PartialEq)]
pub struct Volume {
    /// The values, indexed `[z, y, x]` (x fastest, as in MRC files).
    pub data: Array3<f32>,
    /// Å per voxel along each axis.
    pub voxel_size: VoxelSize,
    /// The header origin in Å (MRC `origin` field); informational, positions stay corner-based.
    pub origin_a: PosAngstrom,
}

impl Volume {
    /// A volume from data in `[z, y, x]` order and a voxel size.
    pub fn new(data: Array3<f32>, voxel_size: VoxelSize) -> Self {
        Volume {
            data,
            voxel_size,
            origin_a: PosAngstrom::default(),
        }
    }
    /// The shape as `[x, y, z]`.
    pub fn shape_xyz(&self) -> [usize; 3] {
        let s = self.data.shape();
        [s[2], s[1], s[0]]
    }
    /// The physical extent in Å as `[x, y, z]`.
    pub fn extent_a(&self) -> [f64; 3] {
        let s = self.shape_xyz();
        let v = self.voxel_size.as_array();
        [s[0] as f64 * v[0], s[1] as f64 * v[1], s[2] as f64 * v[2]]
    }
    /// The box of `size_xyz` voxels starting at voxel `origin_xyz` (which may lie outside the
    /// volume), as `[z, y, x]`, each value mapped by `f`; voxels outside the volume are 0.
    pub fn block(
        &self,
        origin_xyz: [i64; 3],
        size_xyz: [usize; 3],
        f: impl Fn(f32) -> f32,
    ) -> Array3<f32> {
        let (nz, ny, nx) = self.data.dim();
        let n = [nx as i64, ny as i64, nz as i64];
        let lo: Vec<i64> = (0..3).map(|a| origin_xyz[a].clamp(0, n[a])).collect();
        let hi: Vec<i64> = (0..3)
            .map(|a| (origin_xyz[a] + size_xyz[a] as i64).clamp(0, n[a]))
            .collect();
        let mut out = Array3::<f32>::zeros((size_xyz[2], size_xyz[1], size_xyz[0]));
        if (0..3).any(|a| hi[a] <= lo[a]) {
            return out;
        }
        let src = self.data.slice(ndarray::s![
            lo[2] as usize..hi[2] as usize,
            lo[1] as usize..hi[1] as usize,
            lo[0] as usize..hi[0] as usize
        ]);
        let off: Vec<usize> = (0..3).map(|a| (lo[a] - origin_xyz[a]) as usize).collect();
        out.slice_mut(ndarray::s![
            off[2]..off[2] + (hi[2] - lo[2]) as usize,
            off[1]..off[1] + (hi[1] - lo[1]) as usize,
            off[0]..off[0] + (hi[0] - lo[0]) as usize
        ])
        .zip_mut_with(&src, |o, &v| *o = f(v));
        out
    }

    /// Summary statistics over all values.
    pub fn stats(&self) -> Stats {
        // Copy only when the array is not contiguous (`unwrap_or` would copy every time).
        match self.data.as_slice_memory_order() {
            Some(values) => Stats::of(values),
            None => Stats::of(&self.data.iter().copied().collect::<Vec<_>>()),
        }
    }
}

/// Minimum, maximum, mean, RMS deviation, and the count of NaN/Inf values.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Stats {
    /// Smallest finite value.
    pub min: f64,
    /// Largest finite value.
    pub max: f64,
    /// Mean of the finite values.
    pub mean: f64,
    /// Standard deviation of the finite values (MRC `rms`).
    pub rms: f64,
    /// Number of NaN values.
    pub nan: u64,
    /// Number of ±Inf values.
    pub inf: u64,
}

impl Stats {
    /// Statistics of a slice, in one pass per chunk (parallel).
    pub fn of(values: &[f32]) -> Stats {
        Self::of_mapped(values, |v| v)
    }

    /// Statistics of `f(v)` over a slice, without materialising the mapped values.
    pub fn of_mapped(values: &[f32], f: impl Fn(f32) -> f32 + Sync) -> Stats {
        use rayon::prelude::*;
        values
            .par_chunks(1 << 16)
            .map(|c| {
                let mut a = StatsAcc::default();
                for &v in c {
                    a.push(f(v));
                }
                a
            })
            .reduce(StatsAcc::default, StatsAcc::merge)
            .finish()
    }
}

/// Running sums for [`Stats`], for values that arrive in pieces (slabs of a streamed file):
/// push each value, merge pieces in a fixed order, then finish.
#[derive(Debug, Clone, Copy)]
pub struct StatsAcc {
    min: f64,
    max: f64,
    n: f64,
    sum: f64,
    sum2: f64,
    nan: u64,
    inf: u64,
}

impl Default for StatsAcc {
    fn default() -> Self {
        StatsAcc {
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            n: 0.0,
            sum: 0.0,
            sum2: 0.0,
            nan: 0,
            inf: 0,
        }
    }
}

impl StatsAcc {
    /// Adds one value.
    #[inline]
    pub fn push(&mut self, v: f32) {
        if v.is_nan() {
            self.nan += 1;
        } else if v.is_infinite() {
            self.inf += 1;
        } else {
            let v = v as f64;
            self.min = self.min.min(v);
            self.max = self.max.max(v);
            self.n += 1.0;
            self.sum += v;
            self.sum2 += v * v;
        }
    }

    /// The sums of both pieces (`self` first).
    pub fn merge(self, b: StatsAcc) -> StatsAcc {
        StatsAcc {
            min: self.min.min(b.min),
            max: self.max.max(b.max),
            n: self.n + b.n,
            sum: self.sum + b.sum,
            sum2: self.sum2 + b.sum2,
            nan: self.nan + b.nan,
            inf: self.inf + b.inf,
        }
    }

    /// The statistics of every value pushed (zeros when none was finite).
    pub fn finish(self) -> Stats {
        let mean = if self.n > 0.0 { self.sum / self.n } else { 0.0 };
        let var = if self.n > 0.0 {
            (self.sum2 / self.n - mean * mean).max(0.0)
        } else {
            0.0
        };
        Stats {
            min: if self.n > 0.0 { self.min } else { 0.0 },
            max: if self.n > 0.0 { self.max } else { 0.0 },
            mean,
            rms: var.sqrt(),
            nan: self.nan,
            inf: self.inf,
        }
    }
}
