//! `tomopick train classifier`.

use crate::args::TrainRunArgs;
use crate::cmd_simulate::progress;
use crate::cmd_train::{RunConfig, keep_if_best, open_run};
use anyhow::Result;
use std::path::Path;
use std::time::Instant;
use tomopick_eval::ClassificationEval;
use tomopick_eval::plot::{Series, write_two_panel_png};
use tomopick_nn::classifier_config::validation_seed;
use tomopick_nn::classifier_train::{ClassifierCurveRow, write_classifier_curve_csv};
use tomopick_nn::{ClassifierModel, ClassifierTrainer, TrainClassifierConfig, inference_device};
use tomopick_pick::classify::prepare_box;
use tomopick_sim::Subtomogram;

impl RunConfig for TrainClassifierConfig {
    fn read(path: &Path) -> Result<Self> {
        Ok(Self::from_toml(path)?)
    }
    fn steps_mut(&mut self) -> &mut u64 {
        &mut self.steps
    }
}

pub fn train_classifier(a: TrainRunArgs) -> Result<()> {
    let run = &a.output;
    let checkpoint = run.join("checkpoint");
    let device = inference_device();
    let (cfg, mut trainer) = open_run(
        &a,
        |cfg: TrainClassifierConfig, ck| Ok(ClassifierTrainer::resume(cfg, ck, &device)?),
        |cfg| Ok(ClassifierTrainer::new(cfg, &device)?),
    )?;
    if a.resume {
        tracing::info!("resuming {} at step {}", run.display(), trainer.step());
    }
    let mc = trainer.model_config().clone();
    tracing::info!(
        "classifier width {}, hidden {}, {} classes at {} Å, boxes {}³ × {} per step",
        mc.shape.width,
        mc.shape.hidden,
        mc.classes.len(),
        mc.voxel_size_a,
        mc.shape.box_size,
        cfg.batch
    );
    let validation: Vec<Subtomogram> = if cfg.validate_every > 0 {
        trainer
            .generator()
            .batch(validation_seed(cfg.seed), 0, cfg.validation_size)
    } else {
        Vec::new()
    };
    let pb = progress(cfg.steps, "training");
    pb.set_position(trainer.step());
    let (mut data_s, mut net_s, mut since) = (0.0, 0.0, 0usize);
    while trainer.step() < cfg.steps {
        let (row, [d, n]) = trainer.train_step()?;
        data_s += d;
        net_s += n;
        since += 1;
        pb.set_position(row.step);
        pb.set_message(format!(
            "loss {:.3} (class {:.3} seg {:.3}) acc {:.2} {:.1} boxes/s",
            row.loss,
            row.class_loss,
            row.seg_loss,
            row.accuracy,
            (since * cfg.batch) as f64 / (data_s + net_s)
        ));
        if !validation.is_empty() && row.step % cfg.validate_every == 0 {
            let model = trainer.inference_model(&device)?;
            let report = evaluate_subtomograms(&model, &validation);
            trainer.record_validation(report.accuracy, report.miou);
            keep_if_best(run, trainer.curve().iter().map(|r| r.val_accuracy), || {
                Ok(trainer.inference_model(&device)?.to_bytes(run)?)
            })?;
            pb.suspend(|| {
                tracing::info!(
                    "step {}: validation accuracy {:.3}, mIoU {:.3} ({} subtomograms)",
                    row.step,
                    report.accuracy,
                    report.miou,
                    validation.len()
                )
            });
        }
        if row.step % cfg.checkpoint_every == 0 || row.step == cfg.steps {
            trainer.save_checkpoint(&checkpoint)?;
            write_curves(run, trainer.curve())?;
        }
    }
    pb.finish_and_clear();
    if since > 0 {
        tracing::info!(
            "{since} steps: {:.1} subtomograms/s, {:.2} iterations/s ({:.2} s per step in the network, {:.3} s waiting for data)",
            (since * cfg.batch) as f64 / (data_s + net_s),
            since as f64 / (data_s + net_s),
            net_s / since as f64,
            data_s / since as f64
        );
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

/// Classifies simulated subtomograms as `tomopick classify` would (smoothing, standardising)
/// and scores them against their labels.
pub fn evaluate_subtomograms(
    model: &ClassifierModel,
    set: &[Subtomogram],
) -> tomopick_eval::ClassificationReport {
    let mut eval = ClassificationEval::new(&model.config.classes);
    let t0 = Instant::now();
    for chunk in set.chunks(16) {
        let mut input = Vec::new();
        for s in chunk {
            input.extend(prepare_box(
                s.image.clone(),
                |_| false,
                model.config.smoothing_sigma_vox,
            ));
        }
        for (s, p) in chunk.iter().zip(model.predict(input, chunk.len())) {
            let truth: Vec<bool> = s.mask.iter().map(|&m| m == 1).collect();
            let pred: Vec<bool> = p.mask.iter().map(|&v| v > 0.5).collect();
            eval.add(s.class_index, p.class_index, &truth, &pred);
        }
    }
    tracing::debug!(
        "validation: {} subtomograms in {:.1} s",
        set.len(),
        t0.elapsed().as_secs_f64()
    );
    eval.report()
}

/// `curve.csv` and `curve.png` (losses on a log axis; accuracies and mIoU below).
fn write_curves(run: &Path, curve: &[ClassifierCurveRow]) -> Result<()> {
    write_classifier_curve_csv(&run.join("curve.csv"), curve)?;
    let pts = |f: &dyn Fn(&ClassifierCurveRow) -> Option<f64>| -> Vec<(f64, f64)> {
        curve
            .iter()
            .filter_map(|r| f(r).map(|v| (r.step as f64, v)))
            .collect()
    };
    let top = [
        Series {
            label: "total",
            points: pts(&|r| Some(r.loss)),
        },
        Series {
            label: "class (NLL)",
            points: pts(&|r| Some(r.class_loss)),
        },
        Series {
            label: "mask (BCE)",
            points: pts(&|r| Some(r.seg_loss)),
        },
    ];
    let bottom = [
        Series {
            label: "batch accuracy",
            points: pts(&|r| Some(r.accuracy)),
        },
        Series {
            label: "validation accuracy",
            points: pts(&|r| r.val_accuracy),
        },
        Series {
            label: "validation mIoU",
            points: pts(&|r| r.val_miou),
        },
    ];
    write_two_panel_png(
        &run.join("curve.png"),
        "step",
        ("loss", &top),
        ("accuracy and mIoU", &bottom),
    )?;
    Ok(())
}
