//! A tomogram to read boxes from: an MRC file read region by region (bounded memory), or any
//! other format loaded whole; seen on the grid of the model's voxel size when it differs.

use crate::Rescaler;
use crate::error::{PickError, Result};
use ndarray::Array3;
use std::path::Path;
use tomopick_io::{
    MrcReadOptions, MrcVolumeFile, Stats, StatsAcc, Volume, VolumeFormat, VoxelSize, open_volume,
};

/// Where boxes come from.
pub enum TomoSource {
    /// An MRC file, read region by region.
    Mrc(Box<MrcVolumeFile>),
    /// A volume in memory.
    Memory(Volume),
    /// Another source resampled block by block onto a grid of another voxel size.
    Rescaled(Box<TomoSource>, Rescaler),
}

/// A tomogram within this fraction of the model's voxel size is used as it is.
pub const VOXEL_SIZE_TOLERANCE: f64 = 0.10;

/// Voxel sizes further than this factor from the model's are refused rather than resampled
/// (a header that says 1 Å, IMOD's "unknown", is 10× off a 10 Å model).
pub const MAX_RESCALE_FACTOR: f64 = 4.0;

/// Largest relative difference between `vs` and `want` Å over the three axes.
pub fn voxel_size_mismatch(want: f64, vs: VoxelSize) -> f64 {
    vs.as_array()
        .iter()
        .map(|v| (v / want - 1.0).abs())
        .fold(0.0, f64::max)
}

impl TomoSource {
    /// Opens `path`; `voxel_size` overrides the header's.
    pub fn open(path: &Path, voxel_size: Option<VoxelSize>) -> Result<Self> {
        Ok(if VolumeFormat::from_path(path) == VolumeFormat::Mrc {
            TomoSource::Mrc(Box::new(MrcVolumeFile::open(
                path,
                MrcReadOptions { voxel_size },
            )?))
        } else {
            TomoSource::Memory(open_volume(path, voxel_size)?)
        })
    }

    /// Opens `path` whole in memory, whatever its format.
    pub fn load(path: &Path, voxel_size: Option<VoxelSize>) -> Result<Self> {
        Ok(TomoSource::Memory(open_volume(path, voxel_size)?))
    }

    /// How to see this tomogram on a grid of `want_a` Å voxels: as it is (`None`) when every
    /// axis is within [`VOXEL_SIZE_TOLERANCE`] of it, resampled when within
    /// [`MAX_RESCALE_FACTOR`], refused beyond. `path` names the file in the message.
    pub fn rescaler_for(&self, want_a: f64, path: &Path) -> Result<Option<Rescaler>> {
        let vs = self.voxel_size();
        if voxel_size_mismatch(want_a, vs) <= VOXEL_SIZE_TOLERANCE {
            return Ok(None);
        }
        let ok = |v: f64| (1.0 / MAX_RESCALE_FACTOR..=MAX_RESCALE_FACTOR).contains(&(v / want_a));
        if !vs.as_array().into_iter().all(ok) {
            return Err(PickError::input(
                path,
                format!(
                    "voxel size {}, but the model was trained at {want_a} Å: more than \
                     {MAX_RESCALE_FACTOR}× apart, so the header is probably wrong. Pass \
                     --voxel-size with the true value, or bin the tomogram nearer to {want_a} Å \
                     first (e.g. IMOD binvol)",
                    describe(vs)
                ),
            ));
        }
        Ok(Some(Rescaler::new(
            self.shape_xyz(),
            vs,
            VoxelSize::isotropic(want_a),
        )))
    }

    /// This tomogram resampled by `r` (from [`TomoSource::rescaler_for`]): a volume in memory
    /// at once, an MRC file block by block.
    pub fn rescaled(self, r: Rescaler) -> Self {
        match self {
            TomoSource::Memory(v) => TomoSource::Memory(r.volume(&v)),
            other => TomoSource::Rescaled(Box::new(other), r),
        }
    }

    /// This tomogram on a grid of `want_a` Å voxels (see [`TomoSource::rescaler_for`]), and when
    /// it was resampled, a sentence that says so (for the log).
    pub fn on_grid(self, want_a: f64, path: &Path) -> Result<(Self, Option<String>)> {
        Ok(match self.rescaler_for(want_a, path)? {
            Some(r) => {
                let note = self.rescale_note(&r);
                (self.rescaled(r), Some(note))
            }
            None => (self, None),
        })
    }

    /// What resampling by `r` does, in words.
    pub fn rescale_note(&self, r: &Rescaler) -> String {
        format!(
            "voxel size {}; resampled to the model's {} Å ({:?} → {:?} voxels, x y z); \
             positions stay in the tomogram's own frame",
            describe(self.voxel_size()),
            r.voxel_size().x,
            self.shape_xyz(),
            r.shape_xyz()
        )
    }

    /// Size in voxels `[x, y, z]`.
    pub fn shape_xyz(&self) -> [usize; 3] {
        match self {
            TomoSource::Mrc(f) => f.info().shape_xyz,
            TomoSource::Memory(v) => v.shape_xyz(),
            TomoSource::Rescaled(_, r) => r.shape_xyz(),
        }
    }

    /// Voxel size.
    pub fn voxel_size(&self) -> VoxelSize {
        match self {
            TomoSource::Mrc(f) => f.voxel_size(),
            TomoSource::Memory(v) => v.voxel_size,
            TomoSource::Rescaled(_, r) => r.voxel_size(),
        }
    }

    /// Statistics of every voxel, read in slabs of Z, one slab per core (the slabs' sums are
    /// merged in slab order, so the result does not depend on the core count).
    pub fn stats(&self) -> Result<Stats> {
        use rayon::prelude::*;
        let [nx, ny, nz] = self.shape_xyz();
        let slab = 16;
        let starts: Vec<usize> = (0..nz).step_by(slab).collect();
        let parts = starts
            .par_iter()
            .with_max_len(1)
            .map(|&z0| -> Result<StatsAcc> {
                let dz = slab.min(nz - z0);
                let mut acc = StatsAcc::default();
                let mut add = |v: ndarray::ArrayView3<f32>| v.iter().for_each(|&x| acc.push(x));
                match self {
                    // The slab as read or as held, without the copy that `block` makes.
                    TomoSource::Mrc(file) => {
                        add(file.read_region([0, 0, z0], [nx, ny, dz])?.data.view())
                    }
                    TomoSource::Memory(v) => add(v.data.slice(ndarray::s![z0..z0 + dz, .., ..])),
                    TomoSource::Rescaled(..) => {
                        add(self.block([0, 0, z0 as i64], [nx, ny, dz], |v| v)?.view())
                    }
                }
                Ok(acc)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(parts
            .into_iter()
            .fold(StatsAcc::default(), StatsAcc::merge)
            .finish())
    }

    /// The box at `origin` (voxels `[x, y, z]`, may cross the border) of `size`, `[z, y, x]`,
    /// each value mapped by `f`; voxels outside the volume are 0.
    pub fn block(
        &self,
        origin: [i64; 3],
        size: [usize; 3],
        f: impl Fn(f32) -> f32,
    ) -> Result<Array3<f32>> {
        match self {
            TomoSource::Mrc(file) => mrc_block(file, origin, size, f),
            TomoSource::Memory(v) => Ok(v.block(origin, size, f)),
            // Mapped after resampling, as a resampled volume in memory is.
            TomoSource::Rescaled(inner, r) => r.block(
                origin,
                size,
                |o, s| inner.block(o, s, std::convert::identity::<f32>),
                f,
            ),
        }
    }
}

/// A voxel size for messages: one number when isotropic.
pub fn describe(vs: VoxelSize) -> String {
    if vs.x == vs.y && vs.y == vs.z {
        format!("{} Å", vs.x)
    } else {
        format!("{}×{}×{} Å", vs.x, vs.y, vs.z)
    }
}

/// A box read from an MRC file, each value mapped by `f`; voxels outside the volume are 0.
fn mrc_block(
    file: &MrcVolumeFile,
    origin: [i64; 3],
    size: [usize; 3],
    f: impl Fn(f32) -> f32,
) -> Result<Array3<f32>> {
    let shape = file.info().shape_xyz;
    let lo: [i64; 3] = std::array::from_fn(|a| origin[a].clamp(0, shape[a] as i64));
    let hi: [i64; 3] =
        std::array::from_fn(|a| (origin[a] + size[a] as i64).clamp(0, shape[a] as i64));
    if (0..3).any(|a| hi[a] <= lo[a]) {
        return Ok(Array3::zeros((size[2], size[1], size[0])));
    }
    let region = file.read_region(
        lo.map(|v| v as usize),
        std::array::from_fn(|a| (hi[a] - lo[a]) as usize),
    )?;
    Ok(region.block(std::array::from_fn(|a| origin[a] - lo[a]), size, f))
}
