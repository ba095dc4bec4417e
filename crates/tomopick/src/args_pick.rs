//! Arguments of the commands that run the models: pick, classify, calibrate, evaluate-classifier, demo.

use crate::args::positive_angstrom;
use crate::args_match::CtfArgs;
use clap::Args;
use std::path::PathBuf;

#[derive(Args)]
pub struct CalibrateArgs {
    /// Annotated folders (tomogram, particles.csv or particle_locations.txt, occupancy_mask.mrc).
    #[arg(required = true)]
    pub folders: Vec<PathBuf>,
    /// The detector model to calibrate (default: the embedded model; `fast`: the embedded fast one).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// The tomogram's file name inside each folder.
    #[arg(long, default_value = "reconstruction.mrc")]
    pub tomogram_name: String,
    /// One threshold for every class instead of one per class.
    #[arg(long)]
    pub single: bool,
    /// The calibrated model file to write.
    #[arg(short, long)]
    pub output: PathBuf,
}

#[derive(Args)]
pub struct PickArgs {
    /// The tomogram (MRC, .mrc.gz, TIFF stack, OME-Zarr); or a dataset: several tomograms,
    /// folders, a manifest (.txt/.lst: one path per line; .csv: a `tomogram` column, optional
    /// `name` and `voxel_size`), a RELION 5 tomograms.star, or a copick project config (.json:
    /// its runs are picked and the picks written back into the project).
    #[arg(required = true, num_args = 1.., value_name = "TOMOGRAM")]
    pub inputs: Vec<PathBuf>,
    /// Output particle list; for a dataset, a folder that gets one list per tomogram,
    /// classes.csv and summary.csv.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Dataset: pick again the tomograms whose output exists (default: skip them, so a stopped
    /// run resumes where it stopped).
    #[arg(long)]
    pub overwrite: bool,
    /// Dataset: pick only part I of N (0-based; contiguous chunks of the dataset's tomograms), as
    /// one task of a Slurm job array does.
    #[arg(long, value_name = "I/N")]
    pub part: Option<String>,
    /// Dataset: write a Slurm job-array script that picks the dataset in `--slurm-tasks` parts
    /// (this same command with `--part`), instead of picking; submit it with `sbatch`.
    #[arg(long, value_name = "SCRIPT")]
    pub slurm: Option<PathBuf>,
    /// Slurm: array tasks (each picks a contiguous chunk of the tomograms).
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub slurm_tasks: usize,
    /// Slurm: at most this many tasks run at once (the array's `%` throttle).
    #[arg(long, default_value_t = 4, value_name = "K")]
    pub slurm_throttle: usize,
    /// Slurm: CPUs per task.
    #[arg(long, default_value_t = 2, value_name = "C")]
    pub slurm_cpus: usize,
    /// Slurm: memory per task (sbatch --mem syntax).
    #[arg(long, default_value = "8G", value_name = "MEM")]
    pub slurm_mem: String,
    /// Slurm: time limit per task (sbatch --time syntax).
    #[arg(long, default_value = "04:00:00", value_name = "TIME")]
    pub slurm_time: String,
    /// Slurm: partition (default: the cluster's).
    #[arg(long, value_name = "NAME")]
    pub slurm_partition: Option<String>,
    /// copick project: the tomogram type to pick in each run.
    #[arg(long, default_value = "wbp", value_name = "TYPE")]
    pub copick_tomo_type: String,
    /// copick project: the voxel spacing of the tomograms to pick, Å (default: the model's).
    #[arg(long, value_name = "Å", value_parser = positive_angstrom)]
    pub copick_voxel_spacing: Option<f64>,
    /// copick project: the user id the picks are written under.
    #[arg(long, default_value = "tomopick", value_name = "ID")]
    pub copick_user: String,
    /// copick project: the session id the picks are written under.
    #[arg(long, default_value = "0", value_name = "ID")]
    pub copick_session: String,
    /// A detector model file (default: the embedded model), or `fast` for the embedded fast
    /// model (3.6× faster, a little less accurate).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Output list format when the extension does not tell (for a dataset: of each list,
    /// default star = RELION 4 pixels): csv, relion4 (star), relion5, copick (json), shrec (txt).
    #[arg(long)]
    pub format: Option<String>,
    /// One confidence threshold for every class (default: the model's own per-class thresholds,
    /// calibrated at the end of its training).
    #[arg(long)]
    pub threshold: Option<f64>,
    /// Largest tile edge in voxels.
    #[arg(long, default_value_t = 192)]
    pub tile: usize,
    /// Voxel size in Å (overrides the header).
    #[arg(long, value_name = "Å", value_parser = positive_angstrom)]
    pub voxel_size: Option<f64>,
    /// Write a PNG of the central slices with the picks.
    #[arg(long, value_name = "PNG")]
    pub preview: Option<PathBuf>,
    /// Write every class's score at each pick to this CSV (one row per pick, in the list's
    /// order): the detector's probability of each class (`p_<class>`), and with
    /// --match-templates each class's correlation (`cc_<class>`) and z-score (`z_<class>`).
    #[arg(long, value_name = "CSV")]
    pub class_scores: Option<PathBuf>,
    /// The classes your sample holds, when you know them (the model's names, comma-separated,
    /// e.g. 4v94,1bxn): every pick is named the most probable of these (by the detector, and by
    /// --refine-classes or --match-templates when given). Default: any of the model's classes.
    #[arg(long, value_delimiter = ',', value_name = "CLASS,...")]
    pub classes: Vec<String>,
    /// Run the subtomogram classifier on each pick; a class it gives at least 70 % replaces the
    /// detector's (second stage; no pick is dropped).
    #[arg(long)]
    pub refine_classes: bool,
    /// Classifier model for --refine-classes (default: the embedded classifier).
    #[arg(long, value_name = "BPK")]
    pub classifier: Option<PathBuf>,
    /// Name each pick's class by template matching (as `tomopick match-templates` does, with
    /// templates of the model's classes); the score stays the detector's.
    #[arg(long, conflicts_with = "refine_classes")]
    pub match_templates: bool,
    /// --match-templates: the tilt series' largest tilt in degrees (the missing wedge; 90:
    /// none). Default: 60, or for a dataset each tomogram's own where the dataset states it (a
    /// RELION 5 project's tilt-series STAR files, a CSV manifest's tilt_max column).
    #[arg(long, value_name = "DEG")]
    pub tilt_max: Option<f64>,
    /// --match-templates: orientations tried per class (fewer: faster, less accurate).
    #[arg(long, default_value_t = tomopick_pick::template_match::DEFAULT_ROTATIONS, value_name = "N")]
    pub template_rotations: usize,
    #[command(flatten)]
    pub ctf: CtfArgs,
    #[command(flatten)]
    pub hand: crate::args_match::HandArgs,
}

#[derive(Args)]
pub struct ClassifyArgs {
    /// The tomogram (MRC, TIFF stack, OME-Zarr).
    pub tomogram: PathBuf,
    /// Particle positions (any list format; pixel formats use the tomogram's voxel size).
    #[arg(long)]
    pub picks: PathBuf,
    /// Output: .csv gets every class probability; other list formats get class and probability.
    #[arg(short, long)]
    pub output: PathBuf,
    /// A classifier model file (default: the embedded classifier).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Write each particle's mask (its box, int8, 1 = particle) as MRC into this folder.
    #[arg(long, value_name = "DIR")]
    pub masks: Option<PathBuf>,
    /// Write one label volume the tomogram's size (int8: class index + 1 where a mask is set; on
    /// the model's grid when the tomogram was resampled).
    #[arg(long, value_name = "MRC")]
    pub labels: Option<PathBuf>,
    /// Skip picks whose box crosses the border (default: pad the box with its mean).
    #[arg(long)]
    pub skip_border: bool,
    /// Gaussian smoothing sigma in voxels (default: the model's).
    #[arg(long, value_name = "VOXELS")]
    pub smooth: Option<f64>,
    /// Voxel size in Å (overrides the header).
    #[arg(long, value_name = "Å", value_parser = positive_angstrom)]
    pub voxel_size: Option<f64>,
}

#[derive(Args)]
pub struct EvaluateClassifierArgs {
    /// Simulated or annotated tomogram folders in the SHREC layout (reconstruction.mrc,
    /// class_mask.mrc, occupancy_mask.mrc, particle_locations.txt or particles.csv).
    #[arg(required = true)]
    pub folders: Vec<PathBuf>,
    /// A classifier model file (default: the embedded classifier).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Membrane boxes per tomogram, centred on random membrane voxels (label 101), when the
    /// model has a membrane class.
    #[arg(long, default_value_t = 40)]
    pub membrane_boxes: usize,
    /// Seed for choosing the membrane boxes.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Gaussian smoothing sigma in voxels (default: the model's).
    #[arg(long, value_name = "VOXELS")]
    pub smooth: Option<f64>,
    /// Folder for report.json and report.md.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

#[derive(Args)]
pub struct DemoArgs {
    /// Report folder (must not exist yet).
    #[arg(short, long, default_value = "tomopick-demo")]
    pub output: PathBuf,
    /// Simulation seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Tomogram edge in voxels (X and Y; Z is half).
    #[arg(long, default_value_t = 256)]
    pub size: usize,
    /// Particles in the tomogram.
    #[arg(long, default_value_t = 300)]
    pub particles: usize,
    /// A detector model file (default: the embedded model; `fast`: the embedded fast one).
    #[arg(long)]
    pub model: Option<std::path::PathBuf>,
}
