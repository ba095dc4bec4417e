//! Particle lists in the formats cryo-ET users exchange, all converted to [`Particle`]
//! (positions in Å from the centre of voxel 0).
//!
//! | format | unit in the file | needs |
//! |---|---|---|
//! | tomopick CSV `class,x,y,z,score` | Å | — |
//! | RELION 3.1/4 STAR (`rlnCoordinateX/Y/Z`) | pixels | a pixel size (optics block, or `voxel_size / binning`) |
//! | RELION 5 STAR (`rlnCenteredCoordinateX/Y/ZAngst`) | Å from the tomogram centre | the tomogram size and voxel size |
//! | copick picks JSON | Å | — |
//! | SHREC `particle_locations.txt` | voxels | the voxel size |
//! | IMOD `.mod` (read only) | pixels | the voxel size |
//! | plain points (x y z tables, TARDIS CSV, STOPGAP STAR; read only) | pixels (TARDIS: Å) | the voxel size |

pub mod copick;
pub mod copick_project;
pub mod csv_list;
pub mod imod;
pub mod points;
pub mod relion;
pub mod shrec;
pub mod star;
pub mod tomograms_star;

use crate::error::{IoError, Result};
use crate::particle::Particle;
use crate::units::VoxelSize;
use std::path::Path;

/// Particle list formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListFormat {
    /// tomopick CSV.
    Csv,
    /// RELION 3.1/4 particle STAR, pixel coordinates.
    Relion4,
    /// RELION 5 particle STAR, centred Å coordinates.
    Relion5,
    /// copick picks JSON (a file, or a folder of them).
    Copick,
    /// SHREC `particle_locations.txt`.
    Shrec,
    /// IMOD point model (read only).
    ImodMod,
    /// Plain point tables, TARDIS CSV and STOPGAP STAR (read only).
    Points,
}

impl ListFormat {
    /// Parses a format name as given on the command line.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name.to_lowercase().as_str() {
            "csv" => ListFormat::Csv,
            "star" | "relion" | "relion4" | "relion3" => ListFormat::Relion4,
            "relion5" => ListFormat::Relion5,
            "copick" | "json" => ListFormat::Copick,
            "shrec" | "txt" => ListFormat::Shrec,
            "mod" | "imod" => ListFormat::ImodMod,
            "points" | "tardis" | "stopgap" => ListFormat::Points,
            _ => return None,
        })
    }
    /// Guesses the format from a file name. A `.star` file is RELION 3.1/4 unless it holds
    /// centred coordinates (the reader detects that).
    pub fn from_path(path: &Path) -> Option<Self> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_lowercase();
        match ext.as_str() {
            "csv" => Some(ListFormat::Csv),
            "star" => Some(ListFormat::Relion4),
            "json" => Some(ListFormat::Copick),
            "txt" => Some(ListFormat::Shrec),
            "mod" => Some(ListFormat::ImodMod),
            "" if path.is_dir() => Some(ListFormat::Copick),
            _ => None,
        }
    }
    /// The file extension written for this format (copick: one JSON file).
    pub fn extension(self) -> &'static str {
        match self {
            ListFormat::Csv | ListFormat::Points => "csv",
            ListFormat::Relion4 | ListFormat::Relion5 => "star",
            ListFormat::Copick => "json",
            ListFormat::Shrec => "txt",
            ListFormat::ImodMod => "mod",
        }
    }
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            ListFormat::Csv => "csv",
            ListFormat::Relion4 => "relion4",
            ListFormat::Relion5 => "relion5",
            ListFormat::Copick => "copick",
            ListFormat::Shrec => "shrec",
            ListFormat::ImodMod => "imod",
            ListFormat::Points => "points",
        }
    }
}

/// What a format needs to convert between its units and Å.
#[derive(Debug, Clone, Default)]
pub struct ListContext {
    /// Voxel size of the tomogram the particles belong to.
    pub voxel_size: Option<VoxelSize>,
    /// Binning of the tomogram relative to the pixel grid of pixel-based files: a file
    /// pixel is `voxel_size / binning`. 1 when the file uses the tomogram's own voxels.
    pub binning: Option<f64>,
    /// Tomogram size in voxels `[x, y, z]` (for RELION 5 centred coordinates).
    pub tomo_shape_xyz: Option<[usize; 3]>,
    /// Every class in a fixed order (a model's): STAR files number classes by their place in
    /// it (1-based) and list them all in comments, so numbers agree between the tomograms of a
    /// dataset. Classes not in it follow, sorted. `None`: the classes present, sorted.
    pub classes: Option<Vec<String>>,
    /// The tomograms of a RELION 5 project (`tomograms.star`): RELION 5 centred coordinates of a
    /// particle whose `rlnTomoName` is listed are relative to that tomogram's centre
    /// (size × pixel size / 2), whatever `tomo_shape_xyz` says.
    pub relion_tomograms: Option<Vec<tomograms_star::RelionTomogram>>,
}

impl ListContext {
    /// The size of one file pixel, if a voxel size was given.
    pub fn pixel_size(&self) -> Option<VoxelSize> {
        let b = self.binning.unwrap_or(1.0);
        self.voxel_size.map(|v| v.binned(1.0 / b))
    }
    /// The file pixel size, or an error that says what to pass.
    pub fn require_pixel_size(&self, path: &Path, what: &str) -> Result<VoxelSize> {
        self.pixel_size().ok_or_else(|| {
            IoError::Units(format!(
                "{}: {what} are in pixels and no pixel size is known; pass --voxel-size (and --binning if the coordinates refer to unbinned data)",
                path.display()
            ))
        })
    }
}

/// Reads a particle list. `format` overrides the guess from the file name.
pub fn read_particles(
    path: &Path,
    format: Option<ListFormat>,
    ctx: &ListContext,
) -> Result<Vec<Particle>> {
    let format = format.or_else(|| ListFormat::from_path(path)).ok_or_else(|| {
        IoError::file(path, "cannot tell the particle list format from the file name; pass --format (csv, relion4, relion5, copick, shrec, imod, points)")
    })?;
    if !path.exists() {
        return Err(IoError::os(
            path,
            std::io::Error::from(std::io::ErrorKind::NotFound),
        ));
    }
    match format {
        ListFormat::Csv => csv_list::read_csv(path),
        ListFormat::Relion4 | ListFormat::Relion5 => relion::read_star(path, ctx),
        ListFormat::Copick => copick::read_copick(path),
        ListFormat::Shrec => shrec::read_shrec(path, ctx),
        ListFormat::ImodMod => imod::read_mod(path, ctx),
        ListFormat::Points => points::read_points(path, ctx),
    }
}

/// Writes a particle list atomically (nothing is left behind on error).
pub fn write_particles(
    path: &Path,
    format: ListFormat,
    particles: &[Particle],
    ctx: &ListContext,
) -> Result<()> {
    match format {
        ListFormat::Csv => csv_list::write_csv(path, particles),
        ListFormat::Relion4 => relion::write_relion4(path, particles, ctx),
        ListFormat::Relion5 => relion::write_relion5(path, particles, ctx),
        ListFormat::Copick => copick::write_copick(path, particles),
        ListFormat::Shrec => shrec::write_shrec(path, particles, ctx),
        ListFormat::ImodMod | ListFormat::Points => Err(IoError::Units(format!(
            "{}: writing IMOD models or plain point tables is not supported; write csv, relion4, relion5, copick or shrec",
            path.display()
        ))),
    }
}

/// Reads a whole text file, refusing an empty one with a clear message.
pub(crate) fn read_text(path: &Path, what: &str) -> Result<String> {
    let text = std::fs::read_to_string(path).map_err(|e| IoError::os(path, e))?;
    if text.trim().is_empty() {
        return Err(IoError::file(
            path,
            format!("the file is empty; expected {what}"),
        ));
    }
    Ok(text)
}

/// Formats a number compactly but exactly enough for Å or degrees (6 decimals, trailing
/// zeros dropped), as every text list writes it.
pub fn num(v: f64) -> String {
    let s = format!("{v:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.into() }
}
