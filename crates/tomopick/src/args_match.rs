//! Arguments of `tomopick match-templates`.

use crate::args::positive_angstrom;
use clap::Args;
use std::path::PathBuf;

#[derive(Args)]
pub struct MatchTemplatesArgs {
    /// The tomogram (MRC, TIFF stack, OME-Zarr).
    pub tomogram: PathBuf,
    /// Particle positions (any list format; pixel formats use the tomogram's voxel size).
    #[arg(long)]
    pub picks: PathBuf,
    /// Output: .csv gets every class's correlation and z-score; other list formats get class
    /// and z-score.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Comma-separated classes to simulate templates for: shipped names,
    /// `name=file.pdb[:assembly]`, or PDB/mmCIF/MRC paths (default: the 13 SHREC 2021 classes).
    #[arg(long, value_delimiter = ',', conflicts_with = "templates")]
    pub classes: Option<Vec<String>>,
    /// Template maps instead (MRC, protein positive, the tomogram's voxel size; the class is
    /// the file name), or one folder of them.
    #[arg(long, num_args = 1.., value_name = "MRC")]
    pub templates: Option<Vec<PathBuf>>,
    /// Largest tilt of the tilt series in degrees (the missing wedge; 90: none).
    #[arg(long, default_value_t = 60.0, value_name = "DEG")]
    pub tilt_max: f64,
    /// Orientations tried per class.
    #[arg(long, default_value_t = 1500)]
    pub rotations: usize,
    /// Seed of the orientations.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Low-pass cut-off, Å.
    #[arg(long, default_value_t = tomopick_pick::template_match::DEFAULT_LOWPASS_A, value_name = "Å")]
    pub lowpass: f64,
    /// High-pass cut-off, Å.
    #[arg(long, default_value_t = 150.0, value_name = "Å")]
    pub highpass: f64,
    /// Shifts of up to this many voxels around each pick are tried.
    #[arg(long, default_value_t = 1, value_name = "VOXELS")]
    pub shift: usize,
    /// Orientations re-scored at every shift: the best this many at the pick's centre (0: every
    /// orientation at every shift, slower).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub refine: usize,
    /// Whiten: weight boxes and templates by 1/√(the boxes' mean power) at each frequency (the
    /// matched filter for the tomogram's own noise spectrum).
    #[arg(long)]
    pub whiten: bool,
    /// Places of the tomogram, away from the picks, against which each class's scores are
    /// standardised (0: standardise over the picks, which assumes the sample holds its classes
    /// in about equal numbers).
    #[arg(long, default_value_t = tomopick_pick::template_match::DEFAULT_BACKGROUND, value_name = "N")]
    pub background: usize,
    /// With --background: each class's z-score at a pick is weighted by (its spread at the
    /// places / the classes' mean spread) to this power before the highest names the pick (0:
    /// plain z-scores, which favour large templates; 1: correlation less its median there,
    /// which favours small ones; 0.5 named the most on the foreign suite's validation part).
    #[arg(long, default_value_t = tomopick_pick::template_match::DEFAULT_NAMING_EXPONENT, value_name = "E", allow_hyphen_values = true)]
    pub naming_exponent: f64,
    /// Protein's contrast: dark, bright, or auto (read from the picks).
    #[arg(long, default_value = "auto")]
    pub protein: String,
    /// Voxel size in Å (overrides the header).
    #[arg(long, value_name = "Å", value_parser = positive_angstrom)]
    pub voxel_size: Option<f64>,
}
