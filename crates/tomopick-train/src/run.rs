//! The run folder: started from a config (kept as `train.toml`) or resumed from its checkpoint,
//! and `best.bpk` kept at the best validation score.

use crate::error::{Result, TrainError};
use std::path::{Path, PathBuf};
use tomopick_io::atomic::write_atomic;
use tomopick_nn::{TrainClassifierConfig, TrainDetectorConfig};

/// Which run, and how to open it.
#[derive(Debug, Clone, Default)]
pub struct TrainRun {
    /// The training config (TOML) that starts a new run; unused with `resume`.
    pub config: Option<PathBuf>,
    /// The run folder.
    pub output: PathBuf,
    /// Continue the run in `output` from its checkpoint and its `train.toml`.
    pub resume: bool,
    /// Overrides the config's step count (to extend a finished run, say).
    pub steps: Option<u64>,
    /// Set from another thread (Ctrl-C in Python) to stop the detector's run after its current
    /// step, with a checkpoint to resume from, as [`TrainError::Cancelled`].
    pub cancel: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
}

/// What a training run reports as it goes.
#[derive(Debug, Clone)]
pub enum TrainEvent {
    /// The run is open: at `step` of `steps`; `resumed` when continued from a checkpoint;
    /// `description` says what is trained.
    Started {
        /// Steps done already.
        step: u64,
        /// The run's length.
        steps: u64,
        /// Continued from a checkpoint.
        resumed: bool,
        /// The network and its data, in one line.
        description: String,
    },
    /// A step done: its number and the line for a progress bar (losses, speed).
    Step {
        /// The step just done.
        step: u64,
        /// Losses and speed.
        message: String,
    },
    /// A line worth keeping in the log (validation scores, calibration, files written).
    Note(String),
}

/// A config with a step count that [`TrainRun::steps`] can override.
pub trait RunConfig: Clone {
    /// Reads and checks the TOML file.
    fn read(path: &Path) -> Result<Self>;
    /// The run's length.
    fn steps_mut(&mut self) -> &mut u64;
}

impl RunConfig for TrainDetectorConfig {
    fn read(path: &Path) -> Result<Self> {
        Ok(Self::from_toml(path)?)
    }
    fn steps_mut(&mut self) -> &mut u64 {
        &mut self.steps
    }
}

impl RunConfig for TrainClassifierConfig {
    fn read(path: &Path) -> Result<Self> {
        Ok(Self::from_toml(path)?)
    }
    fn steps_mut(&mut self) -> &mut u64 {
        &mut self.steps
    }
}

/// Opens `run`: with `resume`, its saved `train.toml` and `resume(config, checkpoint)`;
/// otherwise its config (copied into a new run folder) and `start(config)`.
pub fn open_run<C: RunConfig, T>(
    run: &TrainRun,
    resume: impl FnOnce(C, &Path) -> Result<T>,
    start: impl FnOnce(C) -> Result<T>,
) -> Result<(C, T)> {
    let path = if run.resume {
        let saved = run.output.join("train.toml");
        if !saved.is_file() {
            return Err(TrainError::Run(format!(
                "{}: no run to resume here (no train.toml); start it with --config",
                run.output.display()
            )));
        }
        saved
    } else {
        run.config
            .clone()
            .ok_or_else(|| TrainError::Run("--config train.toml is needed to start a run".into()))?
    };
    let mut cfg = C::read(&path)?;
    if let Some(s) = run.steps {
        *cfg.steps_mut() = s;
    }
    let trainer = if run.resume {
        match checkpoint_to_resume(&run.output)? {
            Some(checkpoint) => resume(cfg.clone(), &checkpoint)?,
            // Stopped before its first checkpoint: the run starts again from its train.toml,
            // which gives the same steps as a run that never stopped.
            None => start(cfg.clone())?,
        }
    } else {
        start_run(&run.output, &path)?;
        start(cfg.clone())?
    };
    Ok((cfg, trainer))
}

/// The checkpoint folder of a run to resume, or `None` when the run stopped before its first
/// checkpoint. A stop between the two renames of a checkpoint swap leaves only
/// `checkpoint.old`, which is put back.
fn checkpoint_to_resume(run: &Path) -> Result<Option<PathBuf>> {
    let checkpoint = run.join("checkpoint");
    let previous = checkpoint.with_extension("old");
    if !checkpoint.is_dir() && previous.is_dir() {
        std::fs::rename(&previous, &checkpoint).map_err(os(&previous))?;
    }
    Ok(checkpoint.is_dir().then_some(checkpoint))
}

/// A mapper from an OS error to one naming `p`.
fn os(p: &Path) -> impl FnOnce(std::io::Error) -> tomopick_io::IoError + '_ {
    move |e| tomopick_io::IoError::os(p, e)
}

/// Creates a new run folder (refusing a non-empty one) and keeps a copy of its config as
/// `train.toml`, which a resume reads.
fn start_run(run: &Path, config: &Path) -> Result<()> {
    if run.exists() && std::fs::read_dir(run).map_err(os(run))?.next().is_some() {
        return Err(TrainError::Run(format!(
            "{}: the run folder exists and is not empty (use --resume to continue it)",
            run.display()
        )));
    }
    std::fs::create_dir_all(run).map_err(os(run))?;
    let text = std::fs::read_to_string(config).map_err(os(config))?;
    write_atomic(&run.join("train.toml"), |w| {
        std::io::Write::write_all(w, text.as_bytes())
    })?;
    Ok(())
}

/// Writes `best.bpk` in the run folder when the last validation score of `scores` (one per
/// step, `None` where not measured) is the best so far; says so through `note`.
pub fn keep_if_best(
    run: &Path,
    scores: impl Iterator<Item = Option<f64>>,
    model_bytes: impl FnOnce() -> Result<Vec<u8>>,
    note: &mut dyn FnMut(TrainEvent),
) -> Result<()> {
    let seen: Vec<f64> = scores.flatten().collect();
    if let Some((last, before)) = seen.split_last()
        && before.iter().all(|b| last >= b)
    {
        let bytes = model_bytes()?;
        let best = run.join("best.bpk");
        write_atomic(&best, |w| std::io::Write::write_all(w, &bytes))?;
        note(TrainEvent::Note(format!(
            "best validation so far: kept as {}",
            best.display()
        )));
    }
    Ok(())
}
