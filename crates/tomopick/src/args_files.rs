//! Arguments of the commands on files: info, validate, convert, evaluate.

use crate::args::positive_angstrom;
use clap::Args;
use std::path::PathBuf;

/// Units shared by commands that read particle lists.
#[derive(Args, Clone, Default)]
pub struct UnitArgs {
    /// Voxel size of the tomogram in Å (overrides the file header).
    #[arg(long, value_name = "Å", value_parser = positive_angstrom)]
    pub voxel_size: Option<f64>,
    /// The tomogram is binned by this factor relative to the pixels of the input list's coordinates.
    #[arg(long, value_name = "FACTOR")]
    pub binning: Option<f64>,
    /// A tomogram to take the voxel size and size from (read from its header only).
    #[arg(long, value_name = "MRC")]
    pub tomogram: Option<PathBuf>,
    /// Tomogram size in voxels, X,Y,Z (for RELION 5 centred coordinates).
    #[arg(long, value_name = "X,Y,Z", value_delimiter = ',')]
    pub tomo_size: Option<Vec<usize>>,
    /// A RELION 5 project's tomograms.star: each particle's tomogram (rlnTomoName) gives the
    /// centre of its RELION 5 centred coordinates, so tomograms of different sizes can share a file.
    #[arg(long, value_name = "STAR")]
    pub tomograms: Option<PathBuf>,
}

#[derive(Args)]
pub struct InfoArgs {
    /// The file.
    pub file: PathBuf,
    #[command(flatten)]
    pub units: UnitArgs,
    /// Input list format when the extension does not tell (csv, relion4, relion5, copick, shrec, imod, points).
    #[arg(long)]
    pub format: Option<String>,
}

#[derive(Args)]
pub struct ConvertArgs {
    /// Input particle list or volume.
    pub input: PathBuf,
    /// Output file (or folder for copick with several classes/runs).
    pub output: PathBuf,
    /// Input list format (default: from the extension).
    #[arg(long)]
    pub from: Option<String>,
    /// Output list format (default: from the extension): csv, relion4, relion5, copick, shrec.
    #[arg(long)]
    pub to: Option<String>,
    #[command(flatten)]
    pub units: UnitArgs,
    /// Binning of the tomogram relative to the output list's pixels (default 1).
    #[arg(long, value_name = "FACTOR")]
    pub out_binning: Option<f64>,
    /// Data type when writing a volume: float32, int8 or float16.
    #[arg(long, default_value = "float32")]
    pub mode: String,
}

#[derive(Args)]
pub struct EvaluateArgs {
    /// Picks to score (any list format).
    #[arg(long)]
    pub picks: PathBuf,
    /// Ground truth (any list format, e.g. SHREC particle_locations.txt).
    #[arg(long)]
    pub truth: PathBuf,
    /// SHREC occupancy mask (labels are 1-based line numbers of the truth file).
    #[arg(long, value_name = "MRC")]
    pub occupancy: Option<PathBuf>,
    /// Class table TOML with [radius_a] (Å) and optional [weight].
    #[arg(long, value_name = "TOML")]
    pub classes: Option<PathBuf>,
    /// One radius in Å for every class (instead of, or as fallback to, --classes).
    #[arg(long, value_name = "Å")]
    pub radius: Option<f64>,
    /// Beta of the F-beta score.
    #[arg(long, default_value_t = 4.0)]
    pub beta: f64,
    /// CZII: a pick matches within this fraction of the class radius.
    #[arg(long, default_value_t = 0.5)]
    pub threshold: f64,
    #[command(flatten)]
    pub units: UnitArgs,
    /// Folder for report.json and report.md.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}
