//! A classifier/segmenter training run: steps on subtomograms simulated on the fly, validation
//! on held-aside subtomograms (accuracy and mIoU; `best.bpk` at the best accuracy).

use crate::curves::write_classifier_curves;
use crate::error::Result;
use crate::run::{TrainEvent, TrainRun, keep_if_best, open_run};
use std::path::PathBuf;
use tomopick_eval::{ClassificationEval, ClassificationReport};
use tomopick_nn::classifier_config::validation_seed;
use tomopick_nn::{ClassifierModel, ClassifierTrainer, TrainClassifierConfig, inference_device};
use tomopick_pick::classify::prepare_box;
use tomopick_sim::Subtomogram;

/// Trains (or resumes) a classifier run to its step count; checkpoints, curves and `best.bpk`
/// as the config says; writes `model.bpk` and returns its path. `events` hears progress.
pub fn train_classifier(run: &TrainRun, events: &mut dyn FnMut(TrainEvent)) -> Result<PathBuf> {
    let dir = &run.output;
    let checkpoint = dir.join("checkpoint");
    let device = inference_device();
    let (cfg, mut trainer) = open_run(
        run,
        |cfg: TrainClassifierConfig, ck| Ok(ClassifierTrainer::resume(cfg, ck, &device)?),
        |cfg| Ok(ClassifierTrainer::new(cfg, &device)?),
    )?;
    let mc = trainer.model_config().clone();
    events(TrainEvent::Started {
        step: trainer.step(),
        steps: cfg.steps,
        resumed: run.resume,
        description: format!(
            "classifier width {}, hidden {}, {} classes at {} Å, boxes {}³ × {} per step",
            mc.shape.width,
            mc.shape.hidden,
            mc.classes.len(),
            mc.voxel_size_a,
            mc.shape.box_size,
            cfg.batch
        ),
    });
    let validation: Vec<Subtomogram> = if cfg.validate_every > 0 {
        let seed = validation_seed(cfg.seed);
        trainer.generator().batch(seed, 0, cfg.validation_size)
    } else {
        Vec::new()
    };
    let (mut data_s, mut net_s, mut since) = (0.0, 0.0, 0usize);
    while trainer.step() < cfg.steps {
        let (row, [d, n]) = trainer.train_step()?;
        data_s += d;
        net_s += n;
        since += 1;
        events(TrainEvent::Step {
            step: row.step,
            message: format!(
                "loss {:.3} (class {:.3} seg {:.3}) acc {:.2} {:.1} boxes/s",
                row.loss,
                row.class_loss,
                row.seg_loss,
                row.accuracy,
                (since * cfg.batch) as f64 / (data_s + net_s)
            ),
        });
        if !validation.is_empty() && row.step % cfg.validate_every == 0 {
            let model = trainer.inference_model(&device)?;
            let report = evaluate_subtomograms(&model, &validation);
            trainer.record_validation(report.accuracy, report.miou);
            let scores = trainer.curve().iter().map(|r| r.val_accuracy);
            let bytes = || Ok(trainer.inference_model(&device)?.to_bytes(dir)?);
            keep_if_best(dir, scores, bytes, events)?;
            events(TrainEvent::Note(format!(
                "step {}: validation accuracy {:.3}, mIoU {:.3} ({} subtomograms)",
                row.step,
                report.accuracy,
                report.miou,
                validation.len()
            )));
        }
        if row.step % cfg.checkpoint_every == 0 || row.step == cfg.steps {
            trainer.save_checkpoint(&checkpoint)?;
            write_classifier_curves(dir, trainer.curve())?;
        }
    }
    if since > 0 {
        events(TrainEvent::Note(format!(
            "{since} steps: {:.1} subtomograms/s, {:.2} iterations/s ({:.2} s per step in the network, {:.3} s waiting for data)",
            (since * cfg.batch) as f64 / (data_s + net_s),
            since as f64 / (data_s + net_s),
            net_s / since as f64,
            data_s / since as f64
        )));
    }
    trainer.save_checkpoint(&checkpoint)?;
    write_classifier_curves(dir, trainer.curve())?;
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

/// Classifies simulated subtomograms as `tomopick classify` would (smoothing, standardising)
/// and scores them against their labels.
pub fn evaluate_subtomograms(model: &ClassifierModel, set: &[Subtomogram]) -> ClassificationReport {
    let mut eval = ClassificationEval::new(&model.config.classes);
    let sigma = model.config.smoothing_sigma_vox;
    for chunk in set.chunks(16) {
        let mut input = Vec::new();
        for s in chunk {
            input.extend(prepare_box(s.image.clone(), |_| false, sigma));
        }
        for (s, p) in chunk.iter().zip(model.predict(input, chunk.len())) {
            let truth: Vec<bool> = s.mask.iter().map(|&m| m == 1).collect();
            let pred: Vec<bool> = p.mask.iter().map(|&v| v > 0.5).collect();
            eval.add(s.class_index, p.class_index, &truth, &pred);
        }
    }
    eval.report()
}
