//! Command-line arguments.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Find and identify particles in cryo-electron tomograms.
#[derive(Parser)]
#[command(name = "tomopick", version, about, long_about = None)]
pub struct Cli {
    /// More log output (-v debug, -vv trace).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Only errors.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Show what a tomogram (MRC, TIFF, OME-Zarr) or particle list holds.
    #[command(
        after_help = "Examples:\n  tomopick info tomo.mrc\n  tomopick info picks.star\n  tomopick info tomo.zarr --voxel-size 10"
    )]
    Info(InfoArgs),
    /// Check a tomogram: header against file size, voxel size, NaN/Inf values. Exits 1 on problems.
    #[command(after_help = "Example:\n  tomopick validate tomo.mrc")]
    Validate(InfoArgs),
    /// Convert particle lists between formats, or volumes to MRC.
    #[command(
        after_help = "Examples:\n  tomopick convert particles.star picks_dir/ --to copick\n  tomopick convert picks.json particles.star --voxel-size 10 --out-binning 4\n  tomopick convert run_data.star picks.csv --tomogram tomo.mrc\n  tomopick convert tomo.zarr tomo.mrc --voxel-size 10\n  tomopick convert mask.mrc mask_int8.mrc --mode int8\n\nUnits: positions are Å internally. Pixel-based files (RELION 3/4, SHREC, IMOD) need the\npixel size: from --voxel-size (the tomogram's) divided by --binning (how much the tomogram is\nbinned relative to the file's pixels), or from the STAR file itself; conflicting sizes are refused."
    )]
    Convert(ConvertArgs),
    /// Score picks against ground truth with the SHREC and CZII metrics.
    #[command(
        after_help = "Examples:\n  tomopick evaluate --picks picks.csv --truth particle_locations.txt --occupancy occupancy_mask.mrc --voxel-size 10 --classes classes.toml\n  tomopick evaluate --picks picks.csv --truth truth.csv --radius 60 --tomogram tomo.mrc -o report/"
    )]
    Evaluate(EvaluateArgs),
    /// Fit the detector's pick thresholds (one per class) on annotated tomograms and write the
    /// model with them.
    #[command(
        after_help = "Examples:\n  tomopick calibrate val00/ val01/ val02/ -o detector_calibrated.bpk\n  tomopick calibrate my_annotated/*/ --model runs/det/model.bpk --single -o det.bpk\n\nEach folder holds a tomogram (reconstruction.mrc, or --tomogram-name), its truth (particles.csv\nin Å or SHREC particle_locations.txt in voxels) and occupancy_mask.mrc (label k = particle k), as\n`tomopick simulate tomogram` and scripts/foreign_suite.sh write them. Each tomogram is picked\nonce at 0.10; the thresholds (grid 0.10-0.95 by 0.05, 0.97, 0.99) maximise the mean\nclass-agnostic SHREC F1 over the folders, each folder counting once (name one twice to weight\nit twice; it is picked once). Fit on tomograms like the ones you will pick and check on\nothers: the default thresholds, fitted on our simulator's tomograms, cost F1 on another\nsimulator's; refitted on that simulator's validation tomograms they raised F1 on its test\ntomograms (BENCHMARKS.md)."
    )]
    Calibrate(CalibrateArgs),
    /// Classify and segment a box around each pick with the subtomogram classifier.
    #[command(
        after_help = "Examples:\n  tomopick classify tomo.mrc --picks picks.csv -o classified.csv\n  tomopick classify tomo.mrc --picks picks.star --model runs/cls1/model.bpk -o classified.star --masks masks/\n  tomopick classify tomo.mrc --picks picks.csv -o classified.csv --labels labels.mrc\n\nEach box (the model's size, 40³ by default) is centred on the pick; boxes crossing the border\nare padded with their mean (or skipped with --skip-border), and both are counted.\nA tomogram at another voxel size is resampled to the model's, as in `tomopick pick`."
    )]
    Classify(ClassifyArgs),
    /// Score a classifier on tomograms with ground truth (classification accuracy, pixel
    /// accuracy, mIoU, confusion).
    #[command(
        name = "evaluate-classifier",
        after_help = "Examples:\n  tomopick simulate tomogram --seed 77 --shape 256,256,128 --particles 300 -o t77/\n  tomopick evaluate-classifier t77/ --model runs/cls1/model.bpk -o report/\n\nBoxes are cut at the true positions; each particle's true mask is its occupancy label."
    )]
    EvaluateClassifier(EvaluateClassifierArgs),
    /// Simulate data from atomic models: labelled subtomograms, or crowded tomograms with ground truth.
    #[command(subcommand)]
    Simulate(SimulateCommand),
    /// Simulate a small tomogram, pick it with the default model and score the picks.
    #[command(
        after_help = "Examples:\n  tomopick demo                      # writes tomopick-demo/\n  tomopick demo --seed 7 -o demo7/\n\nOutput: tomogram.mrc, picks.csv, picks.star, truth.csv, report.md and report.json (SHREC and\nCZII metrics, F1), preview_picks.png and preview_truth.png (central XY and XZ slices)."
    )]
    Demo(DemoArgs),
    /// Find particles in a tomogram with the detector.
    #[command(
        after_help = "Examples:\n  tomopick pick tomo.mrc -o picks.csv                    # the embedded default model\n  tomopick pick tomo.mrc --model runs/det1/model.bpk -o picks.star --preview picks.png\n  tomopick pick tomo.mrc -o picks.json --threshold 0.3\n\nA tomogram whose voxel size is more than 10 % from the model's (the default model: 10 Å) is\nresampled to it on the fly, up to 4× either way (further, the header is probably wrong: pass\n--voxel-size). Positions are written in the tomogram's own frame and pixels.\nMRC files are streamed tile by tile unless --preview needs the whole volume.\nOutput: any list format (.csv, .star = RELION 4 pixels, .json = copick, .txt = SHREC).\n\nA dataset (several tomograms, a folder, a manifest or a RELION 5 tomograms.star):\n  tomopick pick tomograms/ -o picks/                   # picks/<name>.star for each tomogram\n  tomopick pick Tomograms/job006/tomograms.star -o picks/ --format relion5\n  tomopick pick manifest.csv -o picks/ --format csv\nA tomogram whose output exists is skipped (rerun the same command after a stop; --overwrite\nto redo), one that fails is reported and the rest still run (exit status 1 if any failed).\nSTAR class numbers follow the model's class order in every file (picks/classes.csv)."
    )]
    Pick(PickArgs),
    /// Train a network on simulated data made on the fly.
    #[command(subcommand)]
    Train(TrainCommand),
}

#[derive(Subcommand)]
pub enum TrainCommand {
    /// Train the particle detector.
    #[command(
        after_help = "Examples:\n  tomopick train detector --config configs/detector_shrec10a_stage1.toml -o runs/det1\n  tomopick train detector -o runs/det1 --resume              # continue after a stop\n  tomopick train detector -o runs/det1 --resume --steps 9000 # continue for longer\n\nThe run folder gets train.toml (the config), checkpoint/ (weights, Adam state, step), curve.csv\n(loss per step, validation F1) and, at the end, model.bpk for `tomopick pick --model`.\nResuming gives the same losses as a run that never stopped."
    )]
    Detector(TrainRunArgs),
    /// Train the subtomogram classifier/segmenter (second stage).
    #[command(
        after_help = "Examples:\n  tomopick train classifier --config configs/classifier_shrec10a.toml -o runs/cls1\n  tomopick train classifier -o runs/cls1 --resume\n\nThe run folder gets train.toml, checkpoint/, curve.csv and curve.png (losses, batch and\nvalidation accuracy, validation mIoU) and, at the end, model.bpk for `tomopick classify --model`.\nResuming gives the same losses as a run that never stopped."
    )]
    Classifier(TrainRunArgs),
}

/// A training run's folder and length.
#[derive(Args)]
pub struct TrainRunArgs {
    /// Training config (TOML); not needed with --resume.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Run folder.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Continue the run in the folder from its last checkpoint.
    #[arg(long)]
    pub resume: bool,
    /// Train until this step (overrides the config's `steps`).
    #[arg(long)]
    pub steps: Option<u64>,
}

#[derive(Subcommand)]
pub enum SimulateCommand {
    /// Write N labelled, domain-randomised subtomograms with their masks.
    #[command(
        after_help = "Examples:\n  tomopick simulate subtomograms -n 100 --seed 1 -o subtomos/\n  tomopick simulate subtomograms --preset fixed --classes 1bxn,4v94 -n 20 -o fixed/\n  tomopick simulate subtomograms --config randomization.toml -n 1000 -o train/\n\nOutput: subtomo_NNNNNN.mrc (float32), mask_NNNNNN.mrc (int8, 1 = particle), labels.csv\n(class, RELION angles, shift in Å, imaging parameters), and config.toml with the seed.\nThe same seed gives the same files, bit for bit."
    )]
    Subtomograms(SubtomoArgs),
    /// Write one crowded tomogram with its ground truth (SHREC layout).
    #[command(
        after_help = "Examples:\n  tomopick simulate tomogram --seed 1 -o tomo01/                       # SHREC-like: 512×512×200 at 10 Å\n  tomopick simulate tomogram --shape 200,200,100 --particles 150 --classes 1bxn,4v94,3cf3 -o small/\n  tomopick simulate tomogram --config tomogram.toml --seed 7 -o t7/\n\nOutput: reconstruction.mrc, noise_free.mrc, class_mask.mrc (int8: class index + 1, 100 gold,\n101 membrane), occupancy_mask.mrc (particle number = line of particle_locations.txt),\nparticle_locations.txt (SHREC: class x y z Z1 X Z2, voxels), particles.csv (Å), distractors.csv,\nclasses.toml (radii for `tomopick evaluate`), config.toml (the resolved config and seed)."
    )]
    Tomogram(TomogramArgs),
}

#[derive(Args)]
pub struct TomogramArgs {
    /// Random seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output folder (must not exist yet).
    #[arg(short, long)]
    pub output: PathBuf,
    /// A TOML tomogram config (default: SHREC-like).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Comma-separated classes: shipped names (1bxn, 4v94, …), `name=file.pdb[:assembly]`, or a
    /// PDB/mmCIF/MRC path (default: the 13 SHREC 2021 classes).
    #[arg(long, value_delimiter = ',')]
    pub classes: Option<Vec<String>>,
    /// Size in voxels, X,Y,Z.
    #[arg(long, value_delimiter = ',')]
    pub shape: Option<Vec<usize>>,
    /// Number of particles.
    #[arg(long)]
    pub particles: Option<usize>,
    /// Voxel size in Å.
    #[arg(long, value_parser = positive_angstrom)]
    pub voxel_size: Option<f64>,
    /// Imaging route: tilt (tilt series + WBP) or fast (3D filter).
    #[arg(long)]
    pub route: Option<String>,
}

#[derive(Args)]
pub struct SubtomoArgs {
    /// Number of subtomograms.
    #[arg(short, default_value_t = 100)]
    pub n: usize,
    /// Random seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output folder (must not exist yet).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Randomisation preset: randomized or fixed (the paper's baseline).
    #[arg(long, default_value = "randomized")]
    pub preset: String,
    /// A TOML randomisation config (overrides --preset).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Comma-separated classes: shipped names, `name=file.pdb[:assembly]`, or a PDB/mmCIF/MRC
    /// path (default: the 13 SHREC 2021 classes).
    #[arg(long, value_delimiter = ',')]
    pub classes: Option<Vec<String>>,
    /// Box edge in voxels.
    #[arg(long = "box")]
    pub box_size: Option<usize>,
    /// Voxel size in Å.
    #[arg(long, value_parser = positive_angstrom)]
    pub voxel_size: Option<f64>,
}

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

#[derive(Args)]
pub struct CalibrateArgs {
    /// Annotated folders (tomogram, particles.csv or particle_locations.txt, occupancy_mask.mrc).
    #[arg(required = true)]
    pub folders: Vec<PathBuf>,
    /// The detector model to calibrate (default: the embedded model).
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
    /// A detector model file (default: the embedded model).
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
    /// Run the subtomogram classifier on each pick and keep its class (second stage).
    #[arg(long)]
    pub refine_classes: bool,
    /// Classifier model for --refine-classes (default: the embedded classifier).
    #[arg(long, value_name = "BPK")]
    pub classifier: Option<PathBuf>,
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
    /// A detector model file (default: the embedded model).
    #[arg(long)]
    pub model: Option<std::path::PathBuf>,
}

/// Parses a voxel size: a finite positive number of Å.
fn positive_angstrom(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!("'{text}' is not a positive number of Å")),
    }
}
