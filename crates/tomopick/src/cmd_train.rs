//! `tomopick train detector`, and the run-folder handling shared with the classifier.

use crate::args::TrainRunArgs;
use crate::cmd_simulate::progress;
use crate::detect::{
    calibrate_class_thresholds, calibrate_threshold, simulate_quietly, test_tomogram_config,
};
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::time::Instant;
use tomopick_eval::plot::{Series, write_two_panel_png};
use tomopick_io::{Volume, VoxelSize};
use tomopick_nn::train::{CurveRow, write_curve_csv};
use tomopick_nn::train_config::ValidationSpec;
use tomopick_nn::{DetectorConfig, DetectorTrainer, TrainDetectorConfig, inference_device};
use tomopick_sim::Dist;
use tomopick_sim::tomogram::Tomogram;

/// Writes `best.bpk` in the run folder when the last validation score of `scores` (one per
/// step, `None` where not measured) is the best so far.
pub fn keep_if_best(
    run: &Path,
    scores: impl Iterator<Item = Option<f64>>,
    model_bytes: impl FnOnce() -> Result<Vec<u8>>,
) -> Result<()> {
    let seen: Vec<f64> = scores.flatten().collect();
    if let Some((last, before)) = seen.split_last()
        && before.iter().all(|b| last >= b)
    {
        let bytes = model_bytes()?;
        tomopick_io::atomic::write_atomic(&run.join("best.bpk"), |w| {
            std::io::Write::write_all(w, &bytes)
        })?;
        tracing::info!(
            "best validation so far: kept as {}",
            run.join("best.bpk").display()
        );
    }
    Ok(())
}

/// A config with a step count that `--steps` can override.
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

/// Opens the run of `a`: with `--resume`, its saved `train.toml` and `resume(config,
/// checkpoint)`; otherwise `--config` (copied into a new run folder) and `start(config)`.
pub fn open_run<C: RunConfig, T>(
    a: &TrainRunArgs,
    resume: impl FnOnce(C, &Path) -> Result<T>,
    start: impl FnOnce(C) -> Result<T>,
) -> Result<(C, T)> {
    let run = &a.output;
    let path = if a.resume {
        run.join("train.toml")
    } else {
        a.config
            .clone()
            .context("--config train.toml is needed to start a run")?
    };
    let mut cfg = C::read(&path)?;
    if let Some(s) = a.steps {
        *cfg.steps_mut() = s;
    }
    let trainer = if a.resume {
        let checkpoint = checkpoint_to_resume(run)?;
        resume(cfg.clone(), &checkpoint)?
    } else {
        start_run(run, &path)?;
        start(cfg.clone())?
    };
    Ok((cfg, trainer))
}

/// The checkpoint folder of a run to resume. A stop between the two renames of a checkpoint
/// swap leaves only `checkpoint.old`, which is put back.
fn checkpoint_to_resume(run: &Path) -> Result<PathBuf> {
    let checkpoint = run.join("checkpoint");
    let previous = checkpoint.with_extension("old");
    if !checkpoint.is_dir() && previous.is_dir() {
        std::fs::rename(&previous, &checkpoint)
            .with_context(|| format!("restoring {}", previous.display()))?;
        tracing::warn!(
            "restored the previous checkpoint from {}",
            previous.display()
        );
    }
    if !checkpoint.is_dir() {
        bail!(
            "{}: no checkpoint to resume (start without --resume)",
            checkpoint.display()
        );
    }
    Ok(checkpoint)
}

/// Creates a new run folder (refusing a non-empty one) and keeps a copy of its config as
/// `train.toml`, which `--resume` reads.
fn start_run(run: &Path, config: &Path) -> Result<()> {
    if run.exists() && std::fs::read_dir(run)?.next().is_some() {
        bail!(
            "{}: the run folder exists and is not empty (use --resume to continue it)",
            run.display()
        );
    }
    std::fs::create_dir_all(run).with_context(|| format!("creating {}", run.display()))?;
    let text = std::fs::read_to_string(config)?;
    tomopick_io::atomic::write_atomic(&run.join("train.toml"), |w| {
        std::io::Write::write_all(w, text.as_bytes())
    })?;
    Ok(())
}

pub fn train_detector(a: TrainRunArgs) -> Result<()> {
    let run = &a.output;
    let checkpoint = run.join("checkpoint");
    let device = inference_device();
    let (cfg, mut trainer) = open_run(
        &a,
        |cfg: TrainDetectorConfig, ck| Ok(DetectorTrainer::resume(cfg, ck, &device)?),
        |cfg| Ok(DetectorTrainer::new(cfg, &device)?),
    )?;
    if a.resume {
        tracing::info!("resuming {} at step {}", run.display(), trainer.step());
    }
    let mc = trainer.model_config().clone();
    tracing::info!(
        "{:?} network, {} classes at {} Å, anchors {:?} voxels, cubes {}³ × {} per step",
        mc.architecture,
        mc.classes.len(),
        mc.voxel_size_a,
        mc.anchors_vox
            .iter()
            .map(|a| (a * 10.0).round() / 10.0)
            .collect::<Vec<_>>(),
        cfg.cube_size,
        cfg.batch
    );
    let validation = match (&cfg.validation, cfg.validate_every) {
        (Some(v), n) if n > 0 => Some(held_aside(v, &mc, "validation")?),
        _ => None,
    };
    let pb = progress(cfg.steps, "training");
    pb.set_position(trainer.step());
    let (mut data_s, mut train_s, mut since) = (0.0, 0.0, 0usize);
    while trainer.step() < cfg.steps {
        let (row, timing) = trainer.train_step()?;
        data_s += timing.data_s;
        train_s += timing.train_s;
        since += 1;
        pb.set_position(row.step);
        let cubes_per_s = (since * cfg.batch) as f64 / (data_s + train_s);
        pb.set_message(format!(
            "loss {:.3} (box {:.3} conf {:.3} class {:.3}) {:.2} cubes/s",
            row.loss, row.box_loss, row.conf_loss, row.class_loss, cubes_per_s
        ));
        if let Some((t, vol)) = &validation
            && row.step % cfg.validate_every == 0
        {
            validate(&mut trainer, run, t, vol, |m| {
                pb.suspend(|| tracing::info!("{m}"))
            })?;
        }
        if row.step % cfg.checkpoint_every == 0 || row.step == cfg.steps {
            trainer.save_checkpoint(&checkpoint)?;
            write_curves(run, trainer.curve())?;
            tracing::debug!(
                "step {}: data {:.2} s, network {:.2} s per step",
                row.step,
                data_s / since as f64,
                train_s / since as f64
            );
        }
    }
    pb.finish_and_clear();
    if since > 0 {
        tracing::info!(
            "{since} steps: {:.2} cubes/s ({:.2} s per step in the network, {:.2} s waiting for cubes)",
            (since * cfg.batch) as f64 / (data_s + train_s),
            train_s / since as f64,
            data_s / since as f64
        );
    }
    // The final model carries a pick threshold calibrated at its own step (also when a
    // finished run is resumed: that calibrates a model trained before thresholds were).
    if let Some((t, vol)) = &validation
        && (since == 0 || trainer.step() % cfg.validate_every != 0)
    {
        validate(&mut trainer, run, t, vol, |m| tracing::info!("{m}"))?;
    }
    if let Some(spec) = &cfg.calibration {
        let (t, vol) = held_aside(spec, &mc, "calibration")?;
        let model = trainer.inference_model(&device)?.into_inference();
        let c = calibrate_class_thresholds(&model, &vol, &t);
        tracing::info!(
            "calibration: F1 {:.3} with per-class thresholds ({} picks), {:.3} with one threshold ({:.2}); {}",
            c.f1,
            c.picks,
            c.single.f1,
            c.single.threshold,
            mc.classes
                .iter()
                .zip(&c.thresholds)
                .map(|(n, t)| format!("{n} {t:.2}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        trainer.record_class_thresholds(c.thresholds);
    }
    trainer.save_checkpoint(&checkpoint)?;
    write_curves(run, trainer.curve())?;
    let model = trainer.inference_model(&device)?;
    model.save(&run.join("model.bpk"))?;
    tracing::info!(
        "wrote {} (step {}); curve in {} and curve.png",
        run.join("model.bpk").display(),
        trainer.step(),
        run.join("curve.csv").display()
    );
    Ok(())
}

/// Simulates a held-aside tomogram (`what`: validation or calibration) and moves its
/// reconstruction into a volume.
fn held_aside(v: &ValidationSpec, mc: &DetectorConfig, what: &str) -> Result<(Tomogram, Volume)> {
    let t0 = Instant::now();
    let mut tc = test_tomogram_config(v.shape_xyz, v.particles, &mc.classes, mc.voxel_size_a);
    if let Some(t) = v.ice_thickness_a {
        tc.ice_thickness_a = Dist::Fixed(t);
    }
    let mut t = simulate_quietly(&tc, v.seed)?;
    tracing::info!(
        "{what} tomogram {:?}, {} particles, seed {} ({:.1} s)",
        v.shape_xyz,
        t.sample.particles.len(),
        v.seed,
        t0.elapsed().as_secs_f64()
    );
    let vol = Volume::new(
        std::mem::take(&mut t.reconstruction),
        VoxelSize::isotropic(t.config.voxel_size_a),
    );
    Ok((t, vol))
}

/// Scores the current weights on the validation tomogram at the best confidence threshold,
/// records both (later model files carry the threshold) and keeps `best.bpk` when it is the
/// best so far; `log` gets one line.
fn validate(
    trainer: &mut DetectorTrainer,
    run: &Path,
    t: &Tomogram,
    vol: &Volume,
    log: impl Fn(String),
) -> Result<()> {
    let device = &inference_device();
    let model = trainer.inference_model(device)?.into_inference();
    let c = calibrate_threshold(&model, vol, t);
    trainer.record_validation(c.f1, c.threshold);
    keep_if_best(run, trainer.curve().iter().map(|r| r.val_f1), || {
        Ok(trainer.inference_model(device)?.to_bytes(run)?)
    })?;
    log(format!(
        "step {}: validation F1 {:.3} at threshold {:.2} ({} picks, {} particles)",
        trainer.step(),
        c.f1,
        c.threshold,
        c.picks,
        t.sample.particles.len()
    ));
    Ok(())
}

/// `curve.csv` and `curve.png` (losses on a log axis; validation F1 below).
fn write_curves(run: &Path, curve: &[CurveRow]) -> Result<()> {
    write_curve_csv(&run.join("curve.csv"), curve)?;
    let pts = |f: &dyn Fn(&CurveRow) -> f64| -> Vec<(f64, f64)> {
        curve.iter().map(|r| (r.step as f64, f(r))).collect()
    };
    let top = [
        Series {
            label: "total",
            points: pts(&|r| r.loss),
        },
        Series {
            label: "box",
            points: pts(&|r| r.box_loss),
        },
        Series {
            label: "confidence",
            points: pts(&|r| r.conf_loss),
        },
        Series {
            label: "class",
            points: pts(&|r| r.class_loss),
        },
    ];
    let f1 = [Series {
        label: "validation F1",
        points: curve
            .iter()
            .filter_map(|r| r.val_f1.map(|f| (r.step as f64, f)))
            .collect(),
    }];
    write_two_panel_png(
        &run.join("curve.png"),
        "step",
        ("loss per cube", &top),
        ("validation F1 (SHREC metric, class-agnostic)", &f1),
    )?;
    Ok(())
}
