//! Input and output for tomopick: volumes that carry their voxel size, particle lists in
//! the formats cryo-ET users exchange, and the unit types that keep Å and voxels apart.
//!
//! This crate never prints and never exits: every failure is an [`IoError`] that names
//! the file and the line or field.

pub mod atomic;
pub mod compressed;
pub mod error;
pub mod mrc_decode;
pub mod mrc_file;
pub mod ome_zarr;
pub mod open;
pub mod tiff_stack;
pub mod units;
pub mod volume;

pub use error::{IoError, Location, Result};
pub use mrc_file::{
    MrcHeaderInfo, MrcMode, MrcReadOptions, MrcVolumeFile, MrcWriteMode, read_header, read_mrc,
    write_mrc,
};
pub use open::{VolumeFormat, is_volume_path, open_volume};
pub use units::{PosAngstrom, PosVoxel, VoxelSize};
pub use volume::{Stats, StatsAcc, Volume};
pub mod lists;
pub mod particle;

pub use lists::{ListContext, ListFormat, read_particles, write_particles};
pub use particle::{Particle, Rotation};
