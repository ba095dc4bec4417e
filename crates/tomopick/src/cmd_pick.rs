//! `tomopick pick`.

use crate::args::PickArgs;
use crate::args_match::{checked, template_look};
use crate::progress::{advance, progress};
use anyhow::{Context, Result};
use std::collections::BTreeMap;
use tomopick_io::atomic::check_writable;
use tomopick_io::{ListContext, ListFormat, Particle, VoxelSize, write_particles};
use tomopick_nn::{ClassifierModel, DetectorModel};
use tomopick_pick::TemplateMatchOptions;
use tomopick_pick::preview::{Mark, write_preview};
use tomopick_pick::template_look::Follows;
use tomopick_pick::template_match::DEFAULT_TILT_MAX;
use tomopick_pick::{
    PickOptions, PickRequest, TomoSource, describe_thresholds, is_dataset, load_classifier,
    load_detector, model_pick_options, pick_tomogram, sample_classes,
};

/// Prints one line per class with its count.
/// (A closed pipe, as in `| head`, is not an error.)
pub fn print_counts(picks: &[Particle]) {
    use std::io::Write;
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for p in picks {
        *counts.entry(&p.class).or_default() += 1;
    }
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{} particles", picks.len());
    for (c, n) in counts {
        let _ = writeln!(out, "  {c:>8}  {n}");
    }
}

/// The request both modes share: models loaded and checked, thresholds from the model unless
/// `--threshold`.
pub fn request<'a>(
    a: &PickArgs,
    model: &'a DetectorModel,
    classifier: Option<&'a ClassifierModel>,
) -> Result<PickRequest<'a>> {
    let look = checked(template_look(&a.ctf, &a.hand), follows(a, Follows::Dataset))?;
    let req = PickRequest {
        detector: model,
        classifier,
        options: PickOptions {
            max_tile: a.tile,
            classes: match a.classes.is_empty() {
                true => None,
                false => Some(sample_classes(model, &a.classes)?),
            },
            ..model_pick_options(model, a.threshold)
        },
        voxel_size: a.voxel_size.map(VoxelSize::isotropic),
        keep_volume: a.preview.is_some(),
        cancel: None,
        templates: a.match_templates.then(|| {
            TemplateMatchOptions::for_pick(
                a.tilt_max.unwrap_or(DEFAULT_TILT_MAX),
                a.template_rotations,
                look.ctf(),
                look.hand,
            )
        }),
    };
    req.check(a.classifier.as_deref())?;
    Ok(req)
}

/// What follows a pick's template options: `matching` with --match-templates, else nothing.
fn follows(a: &PickArgs, matching: Follows) -> Follows {
    if a.match_templates {
        matching
    } else {
        Follows::Nothing
    }
}

pub fn pick_cmd(a: PickArgs) -> Result<()> {
    if is_dataset(&a.inputs) || a.slurm.is_some() || a.part.is_some() {
        return crate::cmd_pick_dataset::pick_dataset_cmd(a);
    }
    checked(
        template_look(&a.ctf, &a.hand),
        follows(&a, Follows::OneTomogram),
    )?;
    let tomogram = &a.inputs[0];
    let format = match &a.format {
        Some(f) => crate::cmd_convert::parse_format(Some(f))?.expect("a named format"),
        None => ListFormat::from_path(&a.output).with_context(|| {
            format!(
                "{}: cannot tell the list format from the extension (.csv, .star, .json, .txt) — pass --format",
                a.output.display()
            )
        })?,
    };
    // Fail before the long work when the outputs cannot be written.
    check_writable(&a.output)?;
    for p in a.preview.iter().chain(&a.class_scores) {
        check_writable(p)?;
    }
    let model = load_detector(a.model.as_deref())?;
    let classifier = load_refiner(&a)?;
    let req = request(&a, &model, classifier.as_ref())?;
    let pb = progress(0, "tiles");
    let picked = pick_tomogram(tomogram, &req, advance(&pb))?;
    pb.finish_and_clear();
    log_picked(tomogram, &picked);
    let mut picks = picked.picks;
    let name = tomopick_pick::dataset::tomogram_name(tomogram);
    for p in &mut picks {
        p.tomogram = Some(name.clone());
    }
    // Lists in pixels (STAR, SHREC) count the tomogram's own voxels.
    let ctx = ListContext {
        voxel_size: Some(picked.voxel_size),
        tomo_shape_xyz: Some(picked.shape_xyz),
        classes: Some(model.config.classes.clone()),
        ..ListContext::default()
    };
    write_particles(&a.output, format, &picks, &ctx)?;
    if let Some(p) = &a.class_scores {
        picked.class_scores.write_csv(p, &picks)?;
    }
    if let (Some(p), TomoSource::Memory(vol)) = (&a.preview, &picked.source) {
        let marks = Mark::for_picks(&picks, &model, picked.grid_voxel_size);
        write_preview(p, &vol.data, &marks)?;
    }
    print_counts(&picks);
    tracing::info!(
        "wrote {} ({}{})",
        a.output.display(),
        describe_thresholds(&req.options),
        if a.threshold.is_some() {
            ""
        } else {
            ", the model's"
        }
    );
    Ok(())
}

/// The classifier for `--refine-classes`, if asked for.
pub fn load_refiner(a: &PickArgs) -> Result<Option<ClassifierModel>> {
    Ok(if a.refine_classes {
        Some(load_classifier(a.classifier.as_deref())?)
    } else {
        None
    })
}

/// Logs what the pipeline did besides picking (resampling, refinement).
pub fn log_picked(tomogram: &std::path::Path, picked: &tomopick_pick::Picked) {
    if let Some(r) = &picked.resampled {
        tracing::info!("{}: {r}", tomogram.display());
    }
    if let Some(n) = picked.template_changes {
        tracing::info!(
            "template matching: {n} of {} picks changed class",
            picked.picks.len()
        );
        if let Some(h) = picked.hand_note() {
            tracing::info!("{h}");
        }
    }
    if let Some(r) = picked.refinement {
        if r.padded > 0 {
            tracing::info!(
                "{} boxes crossed the border and were padded with their mean",
                r.padded
            );
        }
        tracing::info!(
            "classifier: {} picks changed class (to a class it gave at least {:.0} %), {} called \
             membrane kept the detector's class",
            r.changed,
            100.0 * tomopick_pick::refine::REFINE_MIN_PROBABILITY,
            r.membranes
        );
    }
}
