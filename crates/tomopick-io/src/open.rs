//! Opening a volume of any supported format by its path.

use crate::compressed::read_mrc_gz;
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
    /// Gzip-compressed MRC (`.mrc.gz`, `.map.gz`): read whole, not streamed.
    MrcGzip,
}

impl VolumeFormat {
    /// Guesses the format from the path: a folder or `.zarr` is OME-Zarr, `.tif(f)` is TIFF,
    /// `.gz` is gzip-compressed MRC, anything else is MRC.
    pub fn from_path(path: &Path) -> Self {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_lowercase();
        match ext.as_str() {
            "gz" => VolumeFormat::MrcGzip,
            "zarr" => VolumeFormat::OmeZarr,
            "tif" | "tiff" => VolumeFormat::Tiff,
            _ if path.is_dir() => VolumeFormat::OmeZarr,
            _ => VolumeFormat::Mrc,
        }
    }
}

/// Extensions of MRC-family volume files.
const MRC_EXTENSIONS: [&str; 6] = ["mrc", "rec", "map", "st", "ccp4", "mrcs"];

/// Whether `p` names a volume by its name: an MRC-family file (also gzip-compressed, as
/// `emd_3197.map.gz`), a TIFF stack, or an OME-Zarr folder.
pub fn is_volume_path(p: &Path) -> bool {
    let lower =
        |s: Option<&std::ffi::OsStr>| s.and_then(|e| e.to_str()).unwrap_or("").to_lowercase();
    let ext = lower(p.extension());
    if ext == "gz" {
        let inner = lower(Path::new(p.file_stem().unwrap_or_default()).extension());
        return MRC_EXTENSIONS.contains(&inner.as_str());
    }
    MRC_EXTENSIONS.contains(&ext.as_str())
        || matches!(ext.as_str(), "tif" | "tiff" | "zarr")
        || (p.is_dir() && p.join(".zattrs").exists())
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
        VolumeFormat::MrcGzip => read_mrc_gz(path, MrcReadOptions { voxel_size }),
    }
}
