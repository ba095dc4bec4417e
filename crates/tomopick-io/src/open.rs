//! Opening a volume of any supported format by its path.

use crate::error::{IoError, Result};
use crate::mrc_file::{MrcReadOptions, read_mrc};
use crate::ome_zarr::read_ome_zarr;
use crate::tiff_stack::read_tiff_stack;
use crate::units::VoxelSize;
use crate::volume::Volume;
use std::path::Path;

/// Volume file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VolumeFormat {
    /// MRC/CCP4 (`.mrc`, `.rec`, `.map`, `.st`, `.ccp4`).
    Mrc,
    /// Multi-page TIFF (`.tif`, `.tiff`).
    Tiff,
    /// OME-Zarr folder (`.zarr`).
    OmeZarr,
}

impl VolumeFormat {
    /// Guesses the format from the path: a folder or `.zarr` is OME-Zarr, `.tif(f)` is TIFF,
    /// anything else is MRC.
    pub fn from_path(path: &Path) -> Self {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_lowercase();
        match ext.as_str() {
            "zarr" => VolumeFormat::OmeZarr,
            "tif" | "tiff" => VolumeFormat::Tiff,
            _ if path.is_dir() => VolumeFormat::OmeZarr,
            _ => VolumeFormat::Mrc,
        }
    }
}

/// Opens a whole volume. `voxel_size` overrides the file's (and is required for TIFF);
/// for OME-Zarr it chooses the scale level nearest to it.
pub fn open_volume(path: &Path, voxel_size: Option<VoxelSize>) -> Result<Volume> {
    if !path.exists() {
        return Err(IoError::os(
            path,
            std::io::Error::from(std::io::ErrorKind::NotFound),
        ));
    }
    match VolumeFormat::from_path(path) {
        VolumeFormat::Mrc => read_mrc(path, MrcReadOptions { voxel_size }),
        VolumeFormat::Tiff => read_tiff_stack(path, voxel_size),
        VolumeFormat::OmeZarr => read_ome_zarr(path, voxel_size.map(|v| v.x)),
    }
}
