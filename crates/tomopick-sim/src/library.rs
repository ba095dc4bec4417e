//! The particle classes tomopick ships: the 13 SHREC 2021 classes and apoferritin, embedded in
//! the binary so that simulation works on a machine without this repository.
//!
//! Atomic models become potentials with [`potential_map`]; the three density maps (4cr2, 4v94,
//! 5mrc, at 10 Å) are resampled to the voxel size and scaled so that the mean over the voxels
//! above 15 % of their maximum is the protein–ice contrast of [`MAP_CONTRAST_V`].

use crate::error::{Result, SimError};
use crate::potential::{PotentialOptions, potential_map};
use crate::resample::rescale;
use crate::structure::parse_structure_bytes;
use std::io::Read;
use std::path::Path;
use tomopick_io::{MrcReadOptions, Volume, read_mrc};

macro_rules! shipped {
    ($($name:literal => $file:literal),* $(,)?) => {
        /// `(class name, file name, gzipped bytes)` of every shipped structure.
        pub const SHIPPED: &[(&str, &str, &[u8])] = &[
            $(($name, $file, include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/structures/", $file)))),*
        ];
    };
}

shipped! {
    "1bxn" => "pdb/1bxn.pdb.gz", "1qvr" => "pdb/1qvr.pdb.gz", "1s3x" => "pdb/1s3x.pdb.gz",
    "1u6g" => "pdb/1u6g.pdb.gz", "2cg9" => "pdb/2cg9.pdb.gz", "3cf3" => "pdb/3cf3.pdb.gz",
    "3d2f" => "pdb/3d2f.pdb.gz", "3gl1" => "pdb/3gl1.pdb.gz", "3h84" => "pdb/3h84.pdb.gz",
    "3qm1" => "pdb/3qm1.pdb.gz", "6z6u" => "pdb/6z6u.pdb.gz",
    "4cr2" => "maps_10A/4cr2.mrc.gz", "4v94" => "maps_10A/4v94.mrc.gz", "5mrc" => "maps_10A/5mrc.mrc.gz",
}

/// The 13 SHREC 2021 particle classes (vesicles and fiducials are distractors, not classes).
pub const SHREC2021_CLASSES: [&str; 13] = [
    "1bxn", "1qvr", "1s3x", "1u6g", "2cg9", "3cf3", "3d2f", "3gl1", "3h84", "3qm1", "4cr2", "4v94",
    "5mrc",
];

/// Protein–ice contrast in volts given to density maps (Peng: 7.9 − 4.53 V).
pub const MAP_CONTRAST_V: f64 = 3.4;

/// Names of all shipped classes.
pub fn shipped_names() -> Vec<&'static str> {
    SHIPPED.iter().map(|s| s.0).collect()
}

/// The potential of a shipped class at `opts.voxel_size_a`.
pub fn shipped_potential(name: &str, opts: &PotentialOptions) -> Result<Volume> {
    let (_, file, bytes) = SHIPPED.iter().find(|s| s.0 == name).ok_or_else(|| {
        SimError::Parameter(format!(
            "unknown class '{name}'; shipped classes: {}",
            shipped_names().join(", ")
        ))
    })?;
    if file.ends_with(".mrc.gz") {
        let mut raw = Vec::new();
        flate2::read::GzDecoder::new(*bytes)
            .read_to_end(&mut raw)
            .map_err(|e| SimError::Parameter(format!("{file}: {e}")))?;
        // The MRC reader maps files, so the embedded map goes through a temporary file.
        let tmp = tempfile::Builder::new()
            .suffix(".mrc")
            .tempfile()
            .map_err(|e| tomopick_io::IoError::os(Path::new(file), e))?;
        std::fs::write(tmp.path(), &raw).map_err(|e| tomopick_io::IoError::os(tmp.path(), e))?;
        let map = read_mrc(tmp.path(), MrcReadOptions::default())?;
        return Ok(density_as_potential(&map, opts.voxel_size_a));
    }
    let s = parse_structure_bytes(Path::new(file), bytes)?;
    potential_map(&s.assembly_atoms(None)?, opts)
}

/// Scales a density map (arbitrary units, positive = protein) to volts of contrast against ice
/// and resamples it to `voxel_size_a`.
pub fn density_as_potential(map: &Volume, voxel_size_a: f64) -> Volume {
    let max = map.data.iter().cloned().fold(f32::MIN, f32::max);
    let cut = 0.15 * max;
    let inside: Vec<f64> = map
        .data
        .iter()
        .filter(|&&v| v > cut)
        .map(|&v| v as f64)
        .collect();
    let mean = inside.iter().sum::<f64>() / inside.len().max(1) as f64;
    let scale = if mean > 0.0 {
        MAP_CONTRAST_V / mean
    } else {
        0.0
    };
    let scaled = Volume::new(
        map.data.mapv(|v| (v.max(0.0) as f64 * scale) as f32),
        map.voxel_size,
    );
    rescale(&scaled, voxel_size_a)
}
