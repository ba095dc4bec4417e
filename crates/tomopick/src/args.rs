//! Command-line arguments.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

pub use crate::args_files::*;
pub use crate::args_pick::*;

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
    /// Name each pick's class by template matching: each class's template at many
    /// orientations against the box around the pick.
    #[command(
        name = "match-templates",
        after_help = "Examples:\n  tomopick match-templates tomo.mrc --picks picks.csv --tilt-max 60 -o matched.csv\n  tomopick match-templates tomo.mrc --picks picks.star --classes 4v94,1bxn,my=complex.cif -o matched.star\n  tomopick match-templates tomo.mrc --picks picks.csv --templates templates/ -o matched.csv\n\nTemplates are simulated from the atomic models at the tomogram's voxel size (or read with\n--templates; `tomopick simulate template` writes them). Box and templates are band-passed\n(--lowpass, --highpass) and the templates get the missing wedge of --tilt-max. A class's score\nis its best correlation over orientations and shifts, standardised against the same template\nat --background places of the tomogram away from the picks; the pick takes the class of\nhighest standardised score. On other simulators' tomograms this\nnames more particles right than `classify` (BENCHMARKS.md)."
    )]
    MatchTemplates(crate::args_match::MatchTemplatesArgs),
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
        after_help = "Examples:\n  tomopick pick tomo.mrc -o picks.csv                    # the embedded default model\n  tomopick pick tomo.mrc -o picks.csv --model fast       # the embedded fast model (3.6x faster)\n  tomopick pick tomo.mrc --model runs/det1/model.bpk -o picks.star --preview picks.png\n  tomopick pick tomo.mrc -o picks.json --threshold 0.3\n\nA tomogram whose voxel size is more than 10 % from the model's (the default model: 10 Å) is\nresampled to it on the fly, up to 4× either way (further, the header is probably wrong: pass\n--voxel-size). Positions are written in the tomogram's own frame and pixels.\nMRC files are streamed tile by tile unless --preview needs the whole volume.\nOutput: any list format (.csv, .star = RELION 4 pixels, .json = copick, .txt = SHREC).\n\nA dataset (several tomograms, a folder, a manifest or a RELION 5 tomograms.star):\n  tomopick pick tomograms/ -o picks/                   # picks/<name>.star for each tomogram\n  tomopick pick Tomograms/job006/tomograms.star -o picks/ --format relion5\n  tomopick pick manifest.csv -o picks/ --format csv\nA tomogram whose output exists is skipped (rerun the same command after a stop; --overwrite\nto redo), one that fails is reported and the rest still run (exit status 1 if any failed).\nSTAR class numbers follow the model's class order in every file (picks/classes.csv).\n\nTomograms unlike the simulations (other noise, reconstruction, optics): `tomopick adapt` a few\nof them first and pick with the adapted model (--model RUN/model.bpk)."
    )]
    Pick(Box<PickArgs>),
    /// Adapt the detector to your tomograms without labels: pick them, fine-tune on those
    /// picks mixed with simulated cubes, write the adapted model.
    #[command(
        after_help = "Examples:\n  tomopick adapt TS_01.mrc TS_02.mrc TS_03.mrc -o adapted/\n  tomopick pick tomograms/ --model adapted/model.bpk -o picks/\n  tomopick adapt TS_01.mrc -o adapted/             # after a stop: continues the run (same tomograms and options)\n  tomopick adapt TS_01.mrc TS_02.mrc --match-templates --tilt-max 60 -o adapted_tm/\n  tomopick adapt TS_01.mrc TS_02.mrc --labels TS_01.star TS_02.star -o tuned/\n  tomopick adapt TS_01.mrc TS_02.mrc --classes 4v94,1bxn,3cf3 -o adapted3/   # a sample of known composition\n\nSelf-training: the model picks the tomograms as `tomopick pick` would; those picks become\ntheir labels; the model is fine-tuned for --steps steps (8 cubes of 64³ each, half cut from\nthe tomograms, half simulated as the shipped model's training); the adapted model carries one\npick threshold for all classes (0.6; 0.5 with --match-templates). Give a few tomograms that represent a data set (all of them\nare held in memory while training), then pick the whole set with the adapted model.\nOn another simulator's tomograms this raised class-agnostic F1 on all ten test tomograms\n(0.560 -> 0.590 from the default; BENCHMARKS.md, \"Adapting the stage-26 default\"). With --match-templates\nthe labels' classes come from template matching and the adapted detector learns those names\n(test-part macro F1 0.263 -> 0.297 from the default, 0.318 -> 0.368 at SNR >= 0.2; plain adapt\n0.265 and 0.322) at no cost per pick.\n200 steps take about 2.7 minutes on 2 cores.\nWith --labels (picks of those tomograms from another program or by hand, classes named as\nthe model names them; unlabelled particles count as background) the model is fine-tuned on\nthem instead of its own picks.\n\nThe folder gets base.bpk, labels/, adapt.toml, options.toml, training/ (checkpoints, curve)\nand model.bpk."
    )]
    Adapt(AdaptArgs),
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

/// `tomopick adapt`.
#[derive(Args)]
pub struct AdaptArgs {
    /// The tomograms to adapt to (MRC, TIFF, OME-Zarr).
    #[arg(required = true)]
    pub tomograms: Vec<PathBuf>,
    /// The run folder (the adapted model is its model.bpk).
    #[arg(short, long)]
    pub output: PathBuf,
    /// The detector to adapt (default: the embedded model; `fast`: the embedded fast one).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Fine-tuning steps.
    #[arg(long, default_value_t = 200)]
    pub steps: u64,
    /// Seed of the training cubes.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Share of the cubes cut from the tomograms (the rest simulated).
    #[arg(long, default_value_t = 0.5)]
    pub user_fraction: f64,
    /// Voxel size in Å, when the headers' are wrong.
    #[arg(long, value_name = "Å", value_parser = positive_angstrom)]
    pub voxel_size: Option<f64>,
    /// Name the labels' classes by template matching (as `pick --match-templates`): the adapted
    /// model learns template matching's names (slower: minutes per tomogram).
    #[arg(long)]
    pub match_templates: bool,
    /// --match-templates: the tilt series' largest tilt in degrees (the missing wedge; 90: none).
    #[arg(long, default_value_t = tomopick_pick::template_match::DEFAULT_TILT_MAX, value_name = "DEG")]
    pub tilt_max: f64,
    /// --match-templates: orientations tried per class.
    #[arg(long, default_value_t = tomopick_pick::template_match::DEFAULT_ROTATIONS, value_name = "N")]
    pub template_rotations: usize,
    #[command(flatten)]
    pub ctf: crate::args_match::CtfArgs,
    #[command(flatten)]
    pub hand: crate::args_match::HandArgs,
    /// The tomograms' own labels, one list per tomogram in the same order (any list format,
    /// the model's class names): fine-tune on them instead of the model's picks.
    #[arg(long, num_args = 1.., value_name = "LIST")]
    pub labels: Vec<PathBuf>,
    /// The classes your sample holds (the model's names, comma-separated, e.g. 4v94,1bxn), as
    /// `pick --classes`: the labels are named among these, so the adapted model learns them.
    #[arg(long, value_delimiter = ',', value_name = "CLASS,...")]
    pub classes: Vec<String>,
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
        after_help = "Examples:\n  tomopick simulate tomogram --seed 1 -o tomo01/                       # SHREC-like: 512×512×200 at 10 Å\n  tomopick simulate tomogram --shape 200,200,100 --particles 150 --classes 1bxn,4v94,3cf3 -o small/\n  tomopick simulate tomogram --config tomogram.toml --seed 7 -o t7/\n\nOutput: reconstruction.mrc, noise_free.mrc (the sample's potential in volts before imaging, as\nSHREC's grand model; not a noise-free reconstruction: simulate again at a huge SNR with the\nsame seed for that), class_mask.mrc (int8: class index + 1, 100 gold,\n101 membrane), occupancy_mask.mrc (particle number = line of particle_locations.txt),\nparticle_locations.txt (SHREC: class x y z Z1 X Z2, voxels), particles.csv (Å), distractors.csv,\nclasses.toml (radii for `tomopick evaluate`), config.toml (the resolved config and seed)."
    )]
    Tomogram(TomogramArgs),
    /// Write each class's noise-free potential as a template (for template matching).
    #[command(
        after_help = "Examples:\n  tomopick simulate template -o templates/                       # the 13 SHREC 2021 classes at 10 Å\n  tomopick simulate template --classes 4v94,my=complex.cif --voxel-size 13.48 --box 48 -o t/\n\nOutput: NAME.mrc per class (float32, volts over ice, protein positive: invert it for\ntomograms where protein is dark), the structure's centroid at voxel (N/2, N/2, N/2)."
    )]
    Template(TemplateArgs),
}

#[derive(Args)]
pub struct TemplateArgs {
    /// Output folder (must not exist yet).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Comma-separated classes: shipped names, `name=file.pdb[:assembly]`, or a PDB/mmCIF/MRC
    /// path (default: the 13 SHREC 2021 classes).
    #[arg(long, value_delimiter = ',')]
    pub classes: Option<Vec<String>>,
    /// Voxel size in Å.
    #[arg(long, default_value_t = 10.0, value_parser = positive_angstrom)]
    pub voxel_size: f64,
    /// B-factor in Å² added to every atom (blurs the template).
    #[arg(long, default_value_t = 0.0)]
    pub b_factor: f64,
    /// Pad or crop each template to a cube of this edge in voxels.
    #[arg(long = "box")]
    pub box_size: Option<usize>,
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

/// Parses a voxel size: a finite positive number of Å.
pub fn positive_angstrom(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!("'{text}' is not a positive number of Å")),
    }
}
