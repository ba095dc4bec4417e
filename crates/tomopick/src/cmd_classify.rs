//! `tomopick classify` and `tomopick evaluate-classifier`.

use crate::args::{ClassifyArgs, EvaluateClassifierArgs};
use crate::cmd_pick::print_counts;
use crate::progress::{advance, progress};
use anyhow::{Context, Result};
use tomopick_io::atomic::check_writable;
use tomopick_io::{ListContext, ListFormat, VoxelSize, read_particles, write_particles};
use tomopick_pick::classify::ClassifyOptions;
use tomopick_pick::{
    ClassifierEvalOptions, TomoSource, classify_tomogram, evaluate_classifier, load_classifier,
};

pub fn classify_cmd(a: ClassifyArgs) -> Result<()> {
    check_writable(&a.output)?;
    if let Some(l) = &a.labels {
        check_writable(l)?;
    }
    let format = ListFormat::from_path(&a.output);
    if format.is_none() {
        anyhow::bail!(
            "{}: cannot tell the list format from the extension (.csv, .star, .json, .txt)",
            a.output.display()
        );
    }
    let model = load_classifier(a.model.as_deref())?;
    let tomo = TomoSource::open(&a.tomogram, a.voxel_size.map(VoxelSize::isotropic))?;
    // Lists in pixels count the tomogram's own voxels.
    let ctx = ListContext {
        voxel_size: Some(tomo.voxel_size()),
        ..Default::default()
    };
    let picks = read_particles(&a.picks, None, &ctx)?;
    let opts = ClassifyOptions {
        skip_border: a.skip_border,
        smoothing_sigma_vox: a.smooth,
        ..Default::default()
    };
    let pb = progress(picks.len() as u64, "boxes");
    let c = classify_tomogram(
        &model,
        tomo,
        &a.tomogram,
        picks,
        &a.picks,
        &opts,
        advance(&pb),
    )?;
    pb.finish_and_clear();
    if let Some(n) = &c.resampled {
        tracing::info!("{}: {n}", a.tomogram.display());
    }
    if a.skip_border && !c.classification.skipped.is_empty() {
        tracing::warn!(
            "{} picks skipped: their box crosses the tomogram's border (--skip-border)",
            c.classification.skipped.len()
        );
    }
    if c.padded() > 0 {
        tracing::info!(
            "{} boxes crossed the border and were padded with their mean",
            c.padded()
        );
    }
    match format {
        Some(ListFormat::Csv) => c.write_probability_csv(&a.output)?,
        Some(f) => write_particles(&a.output, f, &c.particles, &ctx)?,
        None => unreachable!("checked above"),
    }
    if let Some(dir) = &a.masks {
        c.write_masks(dir)?;
    }
    if let Some(path) = &a.labels {
        c.write_labels(path)?;
    }
    print_counts(&c.particles);
    tracing::info!("wrote {}", a.output.display());
    Ok(())
}

pub fn evaluate_classifier_cmd(a: EvaluateClassifierArgs) -> Result<()> {
    if let Some(o) = &a.output {
        std::fs::create_dir_all(o).with_context(|| format!("creating {}", o.display()))?;
    }
    let model = load_classifier(a.model.as_deref())?;
    let opts = ClassifierEvalOptions {
        smooth: a.smooth,
        membrane_boxes: a.membrane_boxes,
        seed: a.seed,
    };
    let pb = progress(0, "boxes");
    let on_folder =
        |dir: &std::path::Path, n| pb.suspend(|| tracing::info!("{}: {n} boxes", dir.display()));
    let e = evaluate_classifier(&model, &a.folders, &opts, on_folder, advance(&pb))?;
    pb.finish_and_clear();
    if e.unknown > 0 {
        tracing::warn!(
            "{} true particles of classes the model does not know were left out",
            e.unknown
        );
    }
    if let Some(o) = &a.output {
        e.write(o)?;
    }
    let r = &e.report;
    println!(
        "{} boxes: accuracy {:.3}, pixel accuracy {:.3}, mIoU {:.3}",
        r.boxes, r.accuracy, r.pixel_accuracy, r.miou
    );
    Ok(())
}
