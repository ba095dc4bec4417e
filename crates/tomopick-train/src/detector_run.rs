//! A detector training run: steps on cubes simulated on the fly, validation on a held-aside
//! simulated tomogram (F1 at the best threshold, which later model files carry), per-class
//! thresholds calibrated on another at the end.

use crate::curves::write_detector_curves;
use crate::error::Result;
use crate::run::{TrainEvent, TrainRun, keep_if_best, open_run};
use std::path::{Path, PathBuf};
use std::time::Instant;
use tomopick_io::{Volume, VoxelSize};
use tomopick_nn::train_config::ValidationSpec;
use tomopick_nn::{DetectorConfig, DetectorTrainer, TrainDetectorConfig, inference_device};
use tomopick_pick::calibrate::{calibrate_class_thresholds, calibrate_threshold};
use tomopick_sim::Dist;
use tomopick_sim::tomogram::{Tomogram, TomogramConfig, simulate_tomogram};

/// Trains (or resumes) a detector run to its step count; checkpoints, curves and `best.bpk` as
/// the config says; writes `model.bpk` and returns its path. `events` hears progress.
pub fn train_detector(run: &TrainRun, events: &mut dyn FnMut(TrainEvent)) -> Result<PathBuf> {
    let dir = &run.output;
    let checkpoint = dir.join("checkpoint");
    let device = inference_device();
    let (cfg, mut trainer) = open_run(
        run,
        |cfg: TrainDetectorConfig, ck| Ok(DetectorTrainer::resume(cfg, ck, &device)?),
        |cfg| Ok(DetectorTrainer::new(cfg, &device)?),
    )?;
    let mc = trainer.model_config().clone();
    let anchors: Vec<f64> = mc
        .anchors_vox
        .iter()
        .map(|a| (a * 10.0).round() / 10.0)
        .collect();
    events(TrainEvent::Started {
        step: trainer.step(),
        steps: cfg.steps,
        resumed: run.resume,
        description: format!(
            "{:?} network, {} classes at {} Å, anchors {anchors:?} voxels, cubes {}³ × {} per step",
            mc.architecture,
            mc.classes.len(),
            mc.voxel_size_a,
            cfg.cube_size,
            cfg.batch
        ),
    });
    let validation = match (&cfg.validation, cfg.validate_every) {
        (Some(v), n) if n > 0 => Some(held_aside(v, &mc, "validation", events)?),
        _ => None,
    };
    let (mut data_s, mut train_s, mut since) = (0.0, 0.0, 0usize);
    while trainer.step() < cfg.steps {
        let (row, timing) = trainer.train_step()?;
        data_s += timing.data_s;
        train_s += timing.train_s;
        since += 1;
        let cubes_per_s = (since * cfg.batch) as f64 / (data_s + train_s);
        events(TrainEvent::Step {
            step: row.step,
            message: format!(
                "loss {:.3} (box {:.3} conf {:.3} class {:.3}) {:.2} cubes/s",
                row.loss, row.box_loss, row.conf_loss, row.class_loss, cubes_per_s
            ),
        });
        if let Some((t, vol)) = &validation
            && row.step % cfg.validate_every == 0
        {
            validate(&mut trainer, dir, t, vol, events)?;
        }
        let stop = run
            .cancel
            .as_ref()
            .is_some_and(|c| c.load(std::sync::atomic::Ordering::Relaxed));
        if stop || row.step % cfg.checkpoint_every == 0 || row.step == cfg.steps {
            trainer.save_checkpoint(&checkpoint)?;
            write_detector_curves(dir, trainer.curve())?;
        }
        if stop {
            return Err(crate::TrainError::Cancelled);
        }
    }
    if since > 0 {
        events(TrainEvent::Note(format!(
            "{since} steps: {:.2} cubes/s ({:.2} s per step in the network, {:.2} s waiting for cubes)",
            (since * cfg.batch) as f64 / (data_s + train_s),
            train_s / since as f64,
            data_s / since as f64
        )));
    }
    // The final model carries a pick threshold calibrated at its own step (also when a
    // finished run is resumed: that calibrates a model trained before thresholds were).
    if let Some((t, vol)) = &validation
        && (since == 0 || trainer.step() % cfg.validate_every != 0)
    {
        validate(&mut trainer, dir, t, vol, events)?;
    }
    if let Some(spec) = &cfg.calibration {
        let (t, vol) = held_aside(spec, &mc, "calibration", events)?;
        let model = trainer.inference_model(&device)?.into_inference();
        let c = calibrate_class_thresholds(&model, &vol, &t);
        let per_class: Vec<String> = mc
            .classes
            .iter()
            .zip(&c.thresholds)
            .map(|(n, t)| format!("{n} {t:.2}"))
            .collect();
        events(TrainEvent::Note(format!(
            "calibration: F1 {:.3} with per-class thresholds ({} picks), {:.3} with one threshold ({:.2}); {}",
            c.f1,
            c.picks,
            c.single.f1,
            c.single.threshold,
            per_class.join(", ")
        )));
        trainer.record_class_thresholds(c.thresholds);
    }
    trainer.save_checkpoint(&checkpoint)?;
    write_detector_curves(dir, trainer.curve())?;
    let model_path = dir.join("model.bpk");
    trainer.inference_model(&device)?.save(&model_path)?;
    events(TrainEvent::Note(format!(
        "wrote {} (step {}); curve in {} and curve.png",
        model_path.display(),
        trainer.step(),
        dir.join("curve.csv").display()
    )));
    Ok(model_path)
}

/// Simulates a held-aside tomogram (`what`: validation or calibration) and moves its
/// reconstruction into a volume.
fn held_aside(
    v: &ValidationSpec,
    mc: &DetectorConfig,
    what: &str,
    events: &mut dyn FnMut(TrainEvent),
) -> Result<(Tomogram, Volume)> {
    let t0 = Instant::now();
    let mut tc = TomogramConfig::test_like(v.shape_xyz, v.particles, &mc.classes, mc.voxel_size_a);
    if let Some(t) = v.ice_thickness_a {
        tc.ice_thickness_a = Dist::Fixed(t);
    }
    let mut t = simulate_tomogram(&tc, v.seed, &|_| {})?;
    events(TrainEvent::Note(format!(
        "{what} tomogram {:?}, {} particles, seed {} ({:.1} s)",
        v.shape_xyz,
        t.sample.particles.len(),
        v.seed,
        t0.elapsed().as_secs_f64()
    )));
    let vs = VoxelSize::isotropic(t.config.voxel_size_a);
    let vol = Volume::new(std::mem::take(&mut t.reconstruction), vs);
    Ok((t, vol))
}

/// Scores the current weights on the validation tomogram at the best confidence threshold,
/// records both (later model files carry the threshold) and keeps `best.bpk` when it is the
/// best so far.
fn validate(
    trainer: &mut DetectorTrainer,
    run: &Path,
    t: &Tomogram,
    vol: &Volume,
    events: &mut dyn FnMut(TrainEvent),
) -> Result<()> {
    let device = &inference_device();
    let model = trainer.inference_model(device)?.into_inference();
    let c = calibrate_threshold(&model, vol, t);
    trainer.record_validation(c.f1, c.threshold);
    let scores = trainer.curve().iter().map(|r| r.val_f1);
    keep_if_best(
        run,
        scores,
        || Ok(trainer.inference_model(device)?.to_bytes(run)?),
        events,
    )?;
    events(TrainEvent::Note(format!(
        "step {}: validation F1 {:.3} at threshold {:.2} ({} picks, {} particles)",
        trainer.step(),
        c.f1,
        c.threshold,
        c.picks,
        t.sample.particles.len()
    )));
    Ok(())
}
