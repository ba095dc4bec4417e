//! RELION 5 `tomograms.star`: one row per tomogram of a project (name, reconstructed file,
//! size in unbinned pixels, tilt-series pixel size, binning, the microscope, and the STAR file
//! of its tilt series, whose tilt angles and defocus [`read_tilt_series_star`] reads).

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
    /// `rlnVoltage`, kV.
    pub voltage_kv: Option<f64>,
    /// `rlnSphericalAberration`, mm.
    pub cs_mm: Option<f64>,
    /// `rlnAmplitudeContrast` (fraction).
    pub amplitude_contrast: Option<f64>,
    /// `rlnTomoTiltSeriesStarFile`: the tilt series' own STAR file (one row per tilt image),
    /// resolved as `reconstruction` is.
    pub tilt_series_star: Option<PathBuf>,
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
        let in_range = |label: &str, lo: f64, hi: f64| -> Result<Option<f64>> {
            match block.number(path, r, label)? {
                Some(v) if !(lo..=hi).contains(&v) => Err(IoError::line(
                    path,
                    line,
                    format!("column {label}: {v} must be in [{lo}, {hi}]"),
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
            voltage_kv: positive("rlnVoltage")?,
            cs_mm: in_range("rlnSphericalAberration", 0.0, 10.0)?,
            amplitude_contrast: in_range("rlnAmplitudeContrast", 0.0, 0.5)?,
            tilt_series_star: block
                .text(r, "rlnTomoTiltSeriesStarFile")
                .map(|f| resolve(path, Path::new(f))),
        });
    }
    if out.is_empty() {
        return Err(IoError::file(path, "lists no tomograms"));
    }
    Ok(out)
}

/// What a tilt series' STAR file says about the tomogram reconstructed from it.
#[derive(Debug, Clone, PartialEq)]
pub struct TiltSeriesStar {
    /// Each tilt image's nominal stage tilt (`rlnTomoNominalStageTiltAngle`, else the aligned
    /// `rlnTomoYTilt`), degrees; empty when neither column is there.
    pub tilts_deg: Vec<f64>,
    /// Each tilt image's defocus, the mean of `rlnDefocusU` and `rlnDefocusV` (Å, underfocus
    /// positive, as CTFFIND gives them); empty when the CTF was not estimated.
    pub defocus_a: Vec<f64>,
}

impl TiltSeriesStar {
    /// The largest |tilt|, degrees.
    pub fn tilt_max_deg(&self) -> Option<f64> {
        self.tilts_deg.iter().map(|t| t.abs()).reduce(f64::max)
    }
    /// The mean defocus over the tilt images, Å.
    pub fn mean_defocus_a(&self) -> Option<f64> {
        (!self.defocus_a.is_empty())
            .then(|| self.defocus_a.iter().sum::<f64>() / self.defocus_a.len() as f64)
    }
}

/// Reads a RELION 5 tilt series' STAR file (`tilt_series/TS_01.star`, named by
/// `rlnTomoTiltSeriesStarFile`): the block called `name` (RELION names it after the tomogram),
/// or the file's only block. Tilts outside ±90° and defocus values that are not positive are
/// refused, naming the line.
pub fn read_tilt_series_star(path: &Path, name: &str) -> Result<TiltSeriesStar> {
    let text = super::read_text(path, "a RELION 5 tilt-series STAR file")?;
    let star = parse_star(path, &text)?;
    let block = match (star.block(name), star.blocks.as_slice()) {
        (Some(b), _) => b,
        (None, [only]) => only,
        _ => {
            return Err(IoError::file(
                path,
                format!("has no block data_{name} (the tomogram's name)"),
            ));
        }
    };
    let tilt_col = ["rlnTomoNominalStageTiltAngle", "rlnTomoYTilt"]
        .into_iter()
        .find(|l| block.col(l).is_some());
    let ctf = block.has_all(&["rlnDefocusU", "rlnDefocusV"]);
    let mut out = TiltSeriesStar {
        tilts_deg: Vec::new(),
        defocus_a: Vec::new(),
    };
    for r in 0..block.rows.len() {
        let line = block.rows[r].0;
        if let Some(l) = tilt_col {
            let t = block.number(path, r, l)?.unwrap_or_default();
            if !(t.is_finite() && t.abs() <= 90.0) {
                return Err(IoError::line(
                    path,
                    line,
                    format!("column {l}: {t}° is not a tilt angle (within ±90°)"),
                ));
            }
            out.tilts_deg.push(t);
        }
        if ctf {
            let mut d = 0.0;
            for l in ["rlnDefocusU", "rlnDefocusV"] {
                let v = block.number(path, r, l)?.unwrap_or_default();
                if !(v.is_finite() && v > 0.0) {
                    return Err(IoError::line(
                        path,
                        line,
                        format!("column {l}: {v} must be a positive defocus in Å (underfocus)"),
                    ));
                }
                d += v / 2.0;
            }
            out.defocus_a.push(d);
        }
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
