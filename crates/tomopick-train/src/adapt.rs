//! Adapting the detector to the user's own tomograms, without labels (self-training).
//!
//! A detector trained on simulations sees fewer particles in tomograms that look unlike them
//! (other noise, other reconstruction, other optics): it is less sure of them, and the faint
//! ones fall under its threshold. `adapt` picks the user's tomograms with the model as it is,
//! takes those picks as their labels, and fine-tunes the model for a few hundred steps on cubes
//! cut from the tomograms mixed with simulated ones (the shipped model's last recipe, so that it
//! keeps what it learned). The adapted model then picks those tomograms, and others recorded the
//! same way, with one threshold ([`ADAPTED_THRESHOLD`], chosen on the foreign suite's validation
//! part; BENCHMARKS.md, "Self-training on each tomogram"). With template matching naming the
//! labels' classes ([`AdaptRequest::templates`]) the adapted detector learns those names. With
//! labels the user gives ([`AdaptRequest::labels`]: picks from another program or by hand) it
//! fine-tunes on those instead of its own picks.
//!
//! The run folder holds `base.bpk` (the model adapted from), `labels/NN_name.csv` (the labels),
//! `tomograms/` (tomograms resampled to the model's voxel size, when they needed it),
//! `adapt.toml` (the fine-tuning config), `training/` (the training run: checkpoints, curve) and
//! `model.bpk`, the adapted model, and `options.toml` (the options it was started with). A
//! stopped run resumes from its last checkpoint, with the same tomograms and options (more
//! `--steps` continue it further).

use crate::adapt_labels::read_labels;
use crate::error::{Result, TrainError};
use crate::run::{TrainEvent, TrainRun};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use tomopick_io::atomic::write_atomic;
use tomopick_io::mrc_file::{MrcWriteMode, write_mrc};
use tomopick_io::{
    IoError, ListContext, ListFormat, Volume, VoxelSize, open_volume, write_particles,
};
use tomopick_nn::user_data::UserTomogram;
use tomopick_nn::{DetectorModel, TrainDetectorConfig, inference_device};
use tomopick_pick::{
    PickOptions, PickRequest, TemplateMatchOptions, TomoSource, load_raw_detector,
    model_pick_options, pick_source, sample_classes,
};

/// The simulated half of the fine-tuning: stage 21's recipe, the shipped detector's (stage 23)
/// but for its wider samples around each tilt-series cube (stage 23's own recipe there adapted
/// no better on the foreign suite's validation part, 0.555 against 0.553, and the wider samples
/// cost a tenth of the speed: BENCHMARKS.md, "Adapting the stage-23 default"); `adapt` sets the
/// network, classes, steps, schedule and data itself and drops its validation tomogram.
pub const ADAPT_RECIPE: &str =
    include_str!("../../../configs/detector_shrec10a_stage21_milder_lowpass_noise.toml");

/// The pick threshold an adapted model carries: one for all classes (the adapted network's
/// scores are no longer those its per-class thresholds were fitted to). The best common
/// threshold of the stage-26 default's adapted models on the foreign suite's validation part
/// (0.65 for the stage-23 default's, 0.7 for the stage-17 and stage-21 defaults'; BENCHMARKS.md,
/// "Adapting the stage-26 default: its threshold").
pub const ADAPTED_THRESHOLD: f64 = 0.6;

/// The same with labels named by template matching ([`AdaptRequest::templates`]): the best
/// common threshold on the suite's validation part for that model.
pub const ADAPTED_THRESHOLD_TEMPLATES: f64 = 0.5;

/// What to adapt, to what, and where.
#[derive(Debug, Clone)]
pub struct AdaptRequest {
    /// The user's tomograms (MRC, TIFF, OME-Zarr), a few that represent the data set.
    pub tomograms: Vec<PathBuf>,
    /// The detector to adapt; `None`: the embedded default.
    pub model: Option<PathBuf>,
    /// The run folder.
    pub output: PathBuf,
    /// Fine-tuning steps (8 cubes of 64³ each).
    pub steps: u64,
    /// Seed of the cube stream.
    pub seed: u64,
    /// Share of the cubes cut from the tomograms (the rest simulated).
    pub user_fraction: f64,
    /// Overrides the tomograms' header voxel size.
    pub voxel_size: Option<VoxelSize>,
    /// Name the labels' classes by template matching (as `pick --match-templates`), so that
    /// the adapted detector learns template matching's names for the tomograms' particles.
    pub templates: Option<TemplateMatchOptions>,
    /// The tomograms' own labels, one list per tomogram in the same order (any list format;
    /// the model's classes): fine-tuning on them instead of the model's picks. Empty:
    /// self-training.
    pub labels: Vec<PathBuf>,
    /// The classes the sample holds (the model's names), as `pick --classes`: each label is
    /// named the most probable of these, so the adapted detector learns to name them. Empty:
    /// any of the model's classes.
    pub classes: Vec<String>,
    /// Set from another thread (Ctrl-C in Python) to stop: while labelling, before the next
    /// tile; while training, after the current step (resumable).
    pub cancel: Option<Arc<AtomicBool>>,
}

impl AdaptRequest {
    /// A request with the defaults: 200 steps, seed 1, half the cubes from the tomograms.
    pub fn new(tomograms: Vec<PathBuf>, output: PathBuf) -> Self {
        AdaptRequest {
            tomograms,
            model: None,
            output,
            steps: 200,
            seed: 1,
            user_fraction: 0.5,
            voxel_size: None,
            templates: None,
            labels: Vec::new(),
            classes: Vec::new(),
            cancel: None,
        }
    }

    fn check(&self) -> Result<()> {
        if self.tomograms.is_empty() {
            return Err(TrainError::Run("no tomograms to adapt to".into()));
        }
        if self.steps == 0 {
            return Err(TrainError::Run(
                "--steps 0: adapt needs at least one step".into(),
            ));
        }
        if !(self.user_fraction > 0.0 && self.user_fraction <= 1.0) {
            return Err(TrainError::Run(format!(
                "--user-fraction {}: must be in (0, 1]",
                self.user_fraction
            )));
        }
        if let Some(o) = &self.templates {
            tomopick_pick::template_match::check_options(o, Path::new("--match-templates"))?;
        }
        if !self.labels.is_empty() {
            if self.labels.len() != self.tomograms.len() {
                return Err(TrainError::Run(format!(
                    "--labels: {} lists for {} tomograms; give one per tomogram, in the same order",
                    self.labels.len(),
                    self.tomograms.len()
                )));
            }
            if self.templates.is_some() {
                return Err(TrainError::Run(
                    "--labels with --match-templates: given labels name their own classes; use one"
                        .into(),
                ));
            }
            if !self.classes.is_empty() {
                return Err(TrainError::Run(
                    "--labels with --classes: given labels name their own classes; use one".into(),
                ));
            }
        }
        Ok(())
    }

    /// The pick threshold the adapted model carries.
    pub fn threshold(&self) -> f64 {
        match self.templates {
            Some(_) => ADAPTED_THRESHOLD_TEMPLATES,
            None => ADAPTED_THRESHOLD,
        }
    }
}

/// Adapts (or resumes adapting) the detector as the module says; returns the adapted model's
/// path (`OUTPUT/model.bpk`). `events` hears the labelling and the training.
pub fn adapt_detector(req: &AdaptRequest, events: &mut dyn FnMut(TrainEvent)) -> Result<PathBuf> {
    req.check()?;
    let out = &req.output;
    let training = out.join("training");
    let run = if training.join("train.toml").is_file() {
        check_same_tomograms(req)?;
        check_same_options(req)?;
        TrainRun {
            config: None,
            output: training.clone(),
            resume: true,
            steps: Some(req.steps),
            cancel: req.cancel.clone(),
        }
    } else {
        let config = prepare(req, events)?;
        if training.exists() {
            // A run stopped before it wrote its config: nothing in it to keep.
            std::fs::remove_dir_all(&training).map_err(|e| IoError::os(&training, e))?;
        }
        TrainRun {
            config: Some(config),
            output: training.clone(),
            resume: false,
            steps: None,
            cancel: req.cancel.clone(),
        }
    };
    let trained = crate::train_detector(&run, events)?;
    let device = inference_device();
    let mut model = DetectorModel::load(&trained, &device)?;
    let threshold = req.threshold();
    model.config.pick_threshold = threshold;
    model.config.class_thresholds = Vec::new();
    let path = out.join("model.bpk");
    model.save(&path)?;
    events(TrainEvent::Note(format!(
        "wrote the adapted model {} (pick threshold {threshold})",
        path.display()
    )));
    Ok(path)
}

/// Labels the tomograms with the model's picks and writes the fine-tuning config; returns its
/// path.
fn prepare(req: &AdaptRequest, events: &mut dyn FnMut(TrainEvent)) -> Result<PathBuf> {
    let out = &req.output;
    if out.exists()
        && !out.join("base.bpk").is_file()
        && std::fs::read_dir(out)
            .map_err(|e| IoError::os(out, e))?
            .next()
            .is_some()
    {
        return Err(TrainError::Run(format!(
            "{}: the folder exists and is not empty, and is not an adapt run",
            out.display()
        )));
    }
    let base = load_raw_detector(req.model.as_deref())?;
    // Checked before anything is written.
    let sample = match req.classes.is_empty() {
        true => None,
        false => Some(sample_classes(&base, &req.classes)?),
    };
    // Every tomogram is opened, and given labels are read and checked, before anything is
    // written, so that a missing or broken input leaves no folder behind; the tomograms stay open
    // for the loop below (an MRC header each, other formats whole, as training holds them).
    let mut opened = Vec::with_capacity(req.tomograms.len());
    for (i, tomo) in req.tomograms.iter().enumerate() {
        let source = TomoSource::open(tomo, req.voxel_size)?;
        let listed = match req.labels.get(i) {
            Some(list) => Some(read_labels(list, tomo, &source, &base.config.classes)?),
            None => None,
        };
        let rescaler = source.rescaler_for(base.config.voxel_size_a, tomo)?;
        opened.push((source, rescaler, listed));
    }
    for dir in [out.join("labels"), out.join("tomograms")] {
        std::fs::create_dir_all(&dir).map_err(|e| IoError::os(&dir, e))?;
    }
    let base_path = out.join("base.bpk");
    base.save(&base_path)?;
    let record = out.join(OPTIONS_FILE);
    let text = toml::to_string(&options_record(req)?)
        .map_err(|e| TrainError::Run(format!("{}: cannot be written: {e}", record.display())))?;
    write_atomic(&record, |f| {
        use std::io::Write;
        f.write_all(text.as_bytes())
    })?;
    let mc = base.config.clone();
    let model = base.into_inference();
    let pick_req = PickRequest {
        detector: &model,
        classifier: None,
        options: PickOptions {
            classes: sample,
            ..model_pick_options(&model, None)
        },
        voxel_size: req.voxel_size,
        keep_volume: false,
        cancel: req.cancel.as_deref(),
        templates: req.templates,
    };
    let mut user_data = Vec::with_capacity(req.tomograms.len());
    let mut total = 0;
    for (i, (tomo, (source, rescaler, listed))) in req.tomograms.iter().zip(opened).enumerate() {
        let name = label_name(i, tomo);
        let (particles, grid, from) = match listed {
            Some(particles) => {
                let grid = match rescaler {
                    Some(r) => Some(r.volume(&whole(source, tomo, req.voxel_size)?)),
                    None => None,
                };
                (
                    particles,
                    grid,
                    format!("labels from {}", req.labels[i].display()),
                )
            }
            None => {
                // A tomogram to resample is picked from memory, so that its resampled grid is
                // there to train on.
                let resample = rescaler.is_some();
                let source = match source {
                    TomoSource::Mrc(_) if resample => TomoSource::load(tomo, req.voxel_size)?,
                    s => s,
                };
                let picked = pick_source(source, tomo, &pick_req, |_, _| {})?;
                let hand = picked
                    .hand_note()
                    .map_or(String::new(), |h| format!("; {h}"));
                let grid = match (picked.source, resample) {
                    (TomoSource::Memory(vol), true) => Some(vol),
                    _ => None,
                };
                (picked.picks, grid, format!("picks as its labels{hand}"))
            }
        };
        let labels = out.join("labels").join(format!("{name}.csv"));
        write_particles(
            &labels,
            ListFormat::Csv,
            &particles,
            &ListContext::default(),
        )?;
        total += particles.len();
        events(TrainEvent::Note(format!(
            "{}: {} {from} ({})",
            tomo.display(),
            particles.len(),
            labels.display()
        )));
        let (tomogram, voxel_size_a) = match grid {
            Some(vol) => {
                let path = out.join("tomograms").join(format!("{name}.mrc"));
                write_mrc(&path, &vol, MrcWriteMode::Float32)?;
                (path, None)
            }
            None => (absolute(tomo)?, req.voxel_size.map(|v| v.x)),
        };
        user_data.push(UserTomogram {
            tomogram,
            picks: labels,
            voxel_size_a,
            binning: None,
        });
    }
    if total == 0 {
        return Err(TrainError::Run(
            "the model found no particles in these tomograms, so there is nothing to adapt to; \
             check the voxel size and the contrast (pick --threshold lower shows candidates)"
                .into(),
        ));
    }
    let mut cfg = TrainDetectorConfig::from_toml_str(ADAPT_RECIPE, "adapt recipe")?;
    cfg.architecture = mc.architecture;
    cfg.classes = mc.classes.clone();
    cfg.voxel_size_a = mc.voxel_size_a;
    cfg.anchors = mc.anchors_vox.len();
    cfg.steps = req.steps;
    cfg.lr_decay_steps = Vec::new();
    cfg.seed = req.seed;
    cfg.checkpoint_every = cfg.checkpoint_every.min(req.steps);
    cfg.validate_every = 0;
    cfg.validation = None;
    cfg.calibration = None;
    cfg.init_model = Some(absolute(&base_path)?);
    cfg.user_data = user_data;
    cfg.user_fraction = req.user_fraction;
    let text = toml::to_string(&cfg)
        .map_err(|e| TrainError::Run(format!("the fine-tuning config cannot be written: {e}")))?;
    let path = out.join("adapt.toml");
    write_atomic(&path, |f| {
        use std::io::Write;
        f.write_all(text.as_bytes())
    })?;
    Ok(path)
}

/// Refuses to continue a run with other tomograms than it was labelled with (a resume reads
/// its saved config, so other tomograms would be ignored without a word).
fn check_same_tomograms(req: &AdaptRequest) -> Result<()> {
    let labels = req.output.join("labels");
    let mut had: Vec<String> = std::fs::read_dir(&labels)
        .map_err(|e| IoError::os(&labels, e))?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.strip_suffix(".csv").map(str::to_string)
        })
        .collect();
    had.sort();
    let given: Vec<String> = req
        .tomograms
        .iter()
        .enumerate()
        .map(|(i, t)| label_name(i, t))
        .collect();
    if had != given {
        return Err(TrainError::Run(format!(
            "{}: this run was adapted to other tomograms ({}); give the same ones to continue it, \
             or another folder",
            req.output.display(),
            had.join(", ")
        )));
    }
    Ok(())
}

/// The run folder's record of the options that shape the run (all but `--steps`).
const OPTIONS_FILE: &str = "options.toml";

/// The options that shape a run, by their CLI names: a resume with others would silently keep
/// the saved ones (the saved config, labels and base model), so it is refused instead.
fn options_record(req: &AdaptRequest) -> Result<BTreeMap<String, String>> {
    let mut m = BTreeMap::new();
    let model = match &req.model {
        Some(p) => absolute(p)?.display().to_string(),
        None => "the embedded default".to_string(),
    };
    m.insert("--model".into(), model);
    m.insert("--seed".into(), req.seed.to_string());
    m.insert("--user-fraction".into(), req.user_fraction.to_string());
    let vs = req.voxel_size.map_or("from the header".to_string(), |v| {
        format!("{} {} {}", v.x, v.y, v.z)
    });
    m.insert("--voxel-size".into(), vs);
    let tm = req.templates.as_ref().map_or("off".to_string(), |o| {
        let tilt = o
            .tilt_max_deg
            .map_or("none".to_string(), |t| format!("{t}°"));
        format!(
            "{} rotations, tilt max {tilt}, seed {}",
            o.rotations, o.seed
        )
    });
    m.insert("--match-templates".into(), tm);
    let labels = if req.labels.is_empty() {
        "the model's own picks".to_string()
    } else {
        let paths: Result<Vec<String>> = req
            .labels
            .iter()
            .map(|p| Ok(absolute(p)?.display().to_string()))
            .collect();
        paths?.join(", ")
    };
    m.insert("--labels".into(), labels);
    let classes = match req.classes.is_empty() {
        true => "all of the model's".to_string(),
        false => req.classes.join(","),
    };
    m.insert("--classes".into(), classes);
    Ok(m)
}

/// Refuses to continue a run with other options than it was started with (runs from before
/// the record existed are not checked).
fn check_same_options(req: &AdaptRequest) -> Result<()> {
    let path = req.output.join(OPTIONS_FILE);
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(());
    };
    let saved: BTreeMap<String, String> =
        toml::from_str(&text).map_err(|e| TrainError::Run(format!("{}: {e}", path.display())))?;
    for (key, now) in options_record(req)? {
        match saved.get(&key) {
            Some(was) if *was != now => {
                return Err(TrainError::Run(format!(
                    "{}: this run was started with {key} {was} (now {now}); give the same \
                     options to continue it, or another folder",
                    req.output.display()
                )));
            }
            _ => {}
        }
    }
    Ok(())
}

/// The name of tomogram `i`'s labels (and resampled grid) in the run folder: its position and
/// its name as `pick` gives it.
fn label_name(i: usize, tomo: &Path) -> String {
    format!("{i:02}_{}", tomopick_pick::dataset::tomogram_name(tomo))
}

/// The whole tomogram of `source` in memory.
fn whole(source: TomoSource, tomo: &Path, voxel_size: Option<VoxelSize>) -> Result<Volume> {
    Ok(match source {
        TomoSource::Memory(v) => v,
        _ => open_volume(tomo, voxel_size)?,
    })
}

/// `p` made absolute (the config is read from another folder).
fn absolute(p: &Path) -> Result<PathBuf> {
    Ok(std::path::absolute(p).map_err(|e| IoError::os(p, e))?)
}
