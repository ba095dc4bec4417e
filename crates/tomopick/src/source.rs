//! A tomogram to read boxes from: an MRC file read region by region (bounded memory), or any
//! other format loaded whole.

use anyhow::Result;
use ndarray::Array3;
use std::path::Path;
use tomopick_io::{MrcReadOptions, MrcVolumeFile, Volume, VolumeFormat, VoxelSize, open_volume};

/// Where boxes come from.
pub enum TomoSource {
    /// An MRC file, read region by region.
    Mrc(Box<MrcVolumeFile>),
    /// A volume in memory.
    Memory(Volume),
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

    /// Size in voxels `[x, y, z]`.
    pub fn shape_xyz(&self) -> [usize; 3] {
        match self {
            TomoSource::Mrc(f) => f.info().shape_xyz,
            TomoSource::Memory(v) => v.shape_xyz(),
        }
    }

    /// Voxel size.
    pub fn voxel_size(&self) -> VoxelSize {
        match self {
            TomoSource::Mrc(f) => f.voxel_size(),
            TomoSource::Memory(v) => v.voxel_size,
        }
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
        }
    }
}

/// A box read from an MRC file, each value mapped by `f`; voxels outside the volume are 0.
pub fn mrc_block(
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
