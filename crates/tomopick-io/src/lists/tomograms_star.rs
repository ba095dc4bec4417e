//! RELION 5 `tomograms.star`: one row per tomogram of a project (name, reconstructed file,
//! size in unbinned pixels, tilt-series pixel size, binning).

use super::star::parse_star;
use crate::error::{IoError, Result};
use crate::units::VoxelSize;
use std::path::{Path, PathBuf};

/// One tomogram of a RELION 5 project.
#[derive(Debug, Clone, PartialEq)]
pub struct RelionTomogram {
    /// `rlnTomoName`.
    pub name: String,
    /// `rlnTomoReconstructedTomogram`, resolved against the project folder when it exists
    /// there (see [`read_tomograms_star`]); `None` when the column is missing.
    pub reconstruction: Option<PathBuf>,
    /// `rlnTomoSizeX/Y/Z`: the tomogram's size in unbinned pixels.
    pub size_unbinned_xyz: Option<[usize; 3]>,
    /// `rlnTomoTiltSeriesPixelSize`, Å.
    pub pixel_size_a: Option<f64>,
    /// `rlnTomoTomogramBinning` (1 when missing).
    pub binning: f64,
}

impl RelionTomogram {
    /// Voxel size of the reconstructed tomogram: pixel size × binning.
    pub fn voxel_size(&self) -> Option<VoxelSize> {
        self.pixel_size_a
            .map(|p| VoxelSize::isotropic(p * self.binning))
    }
    /// Size of the reconstructed tomogram in its own voxels (unbinned size / binning, rounded).
    pub fn size_xyz(&self) -> Option<[usize; 3]> {
        self.size_unbinned_xyz
            .map(|s| s.map(|n| (n as f64 / self.binning).round() as usize))
    }
}

const SIZE: [&str; 3] = ["rlnTomoSizeX", "rlnTomoSizeY", "rlnTomoSizeZ"];

/// Reads a RELION 5 `tomograms.star` (the block with `rlnTomoName`, normally `global`).
///
/// RELION writes file names relative to the project folder, which is usually two levels above
/// the STAR file (`Tomograms/job006/tomograms.star`). A relative name is resolved against the
/// current folder, then against each folder above the STAR file, and the first that exists is
/// taken (the current folder's when none does, so a missing file is reported by name).
pub fn read_tomograms_star(path: &Path) -> Result<Vec<RelionTomogram>> {
    let text = super::read_text(path, "a RELION 5 tomograms.star")?;
    let star = parse_star(path, &text)?;
    let block = star
        .block("global")
        .filter(|b| b.col("rlnTomoName").is_some())
        .or_else(|| star.blocks.iter().find(|b| b.col("rlnTomoName").is_some()))
        .ok_or_else(|| {
            IoError::field(
                path,
                "rlnTomoName",
                "no block has an rlnTomoName column; expected a RELION 5 tomograms.star",
            )
        })?;
    let mut out = Vec::with_capacity(block.rows.len());
    for r in 0..block.rows.len() {
        let line = block.rows[r].0;
        let positive = |label: &str| -> Result<Option<f64>> {
            match block.number(path, r, label)? {
                Some(v) if !(v.is_finite() && v > 0.0) => Err(IoError::line(
                    path,
                    line,
                    format!("column {label}: {v} must be a positive number"),
                )),
                v => Ok(v),
            }
        };
        let size = if block.has_all(&SIZE) {
            let mut s = [0usize; 3];
            for (k, l) in SIZE.iter().enumerate() {
                s[k] = positive(l)?.unwrap_or(1.0).round() as usize;
            }
            Some(s)
        } else {
            None
        };
        out.push(RelionTomogram {
            name: block.text(r, "rlnTomoName").unwrap_or_default().to_string(),
            reconstruction: block
                .text(r, "rlnTomoReconstructedTomogram")
                .map(|f| resolve(path, Path::new(f))),
            size_unbinned_xyz: size,
            pixel_size_a: positive("rlnTomoTiltSeriesPixelSize")?,
            binning: positive("rlnTomoTomogramBinning")?.unwrap_or(1.0),
        });
    }
    if out.is_empty() {
        return Err(IoError::file(path, "lists no tomograms"));
    }
    Ok(out)
}

/// `file` as RELION means it, relative to the project folder (see [`read_tomograms_star`]).
fn resolve(star: &Path, file: &Path) -> PathBuf {
    if file.is_absolute() || file.exists() {
        return file.to_path_buf();
    }
    let dir = star.parent().unwrap_or(Path::new("."));
    dir.ancestors()
        .map(|a| a.join(file))
        .find(|p| p.exists())
        .unwrap_or_else(|| file.to_path_buf())
}

/// Writes a RELION 5 `optimisation_set.star` naming a particle file and the project's
/// `tomograms.star` (the input `relion_tomo` extraction and refinement take), paths as given.
pub fn write_optimisation_set(path: &Path, particles: &Path, tomograms: &Path) -> Result<()> {
    let row = vec![
        particles.to_string_lossy().to_string(),
        tomograms.to_string_lossy().to_string(),
    ];
    crate::atomic::write_atomic(path, |w| {
        use std::io::Write;
        writeln!(w, "# version 50001 (written by tomopick)")?;
        super::star::write_loop(
            w,
            "optimisation_set",
            &["rlnTomoParticlesFile", "rlnTomoTomogramsFile"],
            std::slice::from_ref(&row),
        )
    })
}
