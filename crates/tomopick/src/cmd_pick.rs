//! `tomopick pick`.

use crate::args::PickArgs;
use crate::cmd_simulate::{advance, progress};
use crate::detect::{describe_thresholds, model_pick_options};
use crate::source::{TomoSource, VOXEL_SIZE_TOLERANCE, voxel_size_mismatch};
use anyhow::{Context, Result, bail};
use std::collections::BTreeMap;
use std::path::Path;
use tomopick_io::atomic::check_writable;
use tomopick_io::volume::standard_scale;
use tomopick_io::{ListContext, ListFormat, Particle, VolumeFormat, VoxelSize, write_particles};
use tomopick_nn::{DetectorModel, inference_device};
use tomopick_pick::preview::{Mark, write_preview};
use tomopick_pick::{PickOptions, pick, to_particles};

/// The default detector, embedded in the binary (13 SHREC 2021 classes at 10 Å).
pub const DEFAULT_MODEL: &[u8] = include_bytes!("../../../models/detector_shrec10a.bpk");

/// Loads `--model`, or the embedded default.
pub fn load_model(path: Option<&Path>) -> Result<DetectorModel> {
    Ok(load_raw_model(path)?.into_inference())
}

/// The model file (or the embedded default) as stored: not folded for inference, so it can be
/// written back.
pub fn load_raw_model(path: Option<&Path>) -> Result<DetectorModel> {
    let dev = inference_device();
    Ok(match path {
        Some(p) => DetectorModel::load(p, &dev)?,
        None => DetectorModel::from_bytes(
            DEFAULT_MODEL.to_vec(),
            Path::new("<embedded default model>"),
            &dev,
        )?,
    })
}

/// Refuses a tomogram whose voxel size is more than 10 % from the model's (for models that read
/// boxes at the tomogram's own voxel size).
pub fn check_voxel_size(want: f64, vs: VoxelSize, tomo: &Path) -> Result<()> {
    if voxel_size_mismatch(want, vs) > VOXEL_SIZE_TOLERANCE {
        bail!(
            "{}: voxel size {:.3}×{:.3}×{:.3} Å, but the model was trained at {want} Å. Bin or \
             rescale the tomogram to {want} Å (e.g. IMOD binvol), or pass --voxel-size if the \
             header is wrong",
            tomo.display(),
            vs.x,
            vs.y,
            vs.z
        );
    }
    Ok(())
}

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

/// Marks for the preview: each pick with its class's radius.
pub fn marks(picks: &[Particle], model: &DetectorModel, vs: VoxelSize) -> Vec<Mark> {
    picks
        .iter()
        .filter_map(|p| {
            let class = model.config.classes.iter().position(|c| *c == p.class)?;
            Some(Mark {
                centre_vox: p.pos_a.to_voxels(vs).as_array(),
                radius_vox: model.config.class_diameters_vox[class] / 2.0,
                class,
            })
        })
        .collect()
}

pub fn pick_cmd(a: PickArgs) -> Result<()> {
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
    if let Some(p) = &a.preview {
        check_writable(p)?;
    }
    let model = load_model(a.model.as_deref())?;
    let classifier = if a.refine_classes {
        let c = crate::cmd_classify::load_classifier(a.classifier.as_deref())?;
        crate::cmd_classify::check_refines(&c, &model.config.classes, a.classifier.as_deref())?;
        Some(c)
    } else {
        None
    };
    let opts = PickOptions {
        max_tile: a.tile,
        ..model_pick_options(&model, a.threshold)
    };
    if !(0.0..1.0).contains(&opts.threshold) {
        bail!("--threshold {}: must be in [0, 1)", opts.threshold);
    }
    if opts.max_tile < 32 {
        bail!("--tile {}: must be at least 32 voxels", opts.max_tile);
    }
    let override_vs = a.voxel_size.map(VoxelSize::isotropic);
    // An MRC file is streamed tile by tile unless the preview needs the whole volume.
    let streamed = VolumeFormat::from_path(&a.tomogram) == VolumeFormat::Mrc && a.preview.is_none();
    let tomo = if streamed {
        TomoSource::open(&a.tomogram, override_vs)?
    } else {
        TomoSource::load(&a.tomogram, override_vs)?
    };
    let tomo_vs = tomo.voxel_size();
    // Picks are made on a grid of the model's voxel size: checked before the long work.
    let rescale = tomo.rescaler_for(model.config.voxel_size_a, &a.tomogram)?;
    let (vs, shape) = match &rescale {
        Some(r) => (r.voxel_size(), r.shape_xyz()),
        None => (tomo_vs, tomo.shape_xyz()),
    };
    if let Some(c) = &classifier {
        check_voxel_size(c.config.voxel_size_a, vs, &a.tomogram)?;
    }
    check_shape(shape, &a.tomogram)?;
    let mut stats = tomo.stats()?;
    let bad = stats.nan + stats.inf;
    if bad > 0 {
        bail!(
            "{}: {bad} voxels are NaN or infinite; fix the tomogram first (`tomopick validate` shows them)",
            a.tomogram.display()
        );
    }
    let source = match rescale {
        Some(r) => {
            let s = tomo.rescaled(r, &a.tomogram);
            // Standardised as the network saw its training cubes: on the grid it picks.
            stats = s.stats()?;
            s
        }
        None => tomo,
    };
    let pb = progress(0, "tiles");
    let (mean, inv) = (stats.mean as f32, standard_scale(stats.rms));
    let dets = pick(
        &model,
        shape,
        &opts,
        |origin, size| source.block(origin, size, |v| (v - mean) * inv),
        advance(&pb),
    )?;
    pb.finish_and_clear();
    let picks = to_particles(&dets, &model, vs);
    // Lists in pixels (STAR, SHREC) count the tomogram's own voxels.
    let ctx = ListContext {
        voxel_size: Some(tomo_vs),
        ..Default::default()
    };
    let mut picks = picks;
    if let Some(c) = &classifier {
        picks = crate::cmd_classify::refine_classes(picks, c, &source, &a.tomogram)?;
    }
    let run = a
        .tomogram
        .file_stem()
        .map(|s| s.to_string_lossy().to_string());
    for p in &mut picks {
        p.tomogram = run.clone();
    }
    write_particles(&a.output, format, &picks, &ctx)?;
    if let (Some(p), TomoSource::Memory(vol)) = (&a.preview, &source) {
        write_preview(p, &vol.data, &marks(&picks, &model, vs))?;
    }
    print_counts(&picks);
    tracing::info!(
        "wrote {} ({}{})",
        a.output.display(),
        describe_thresholds(&opts),
        if a.threshold.is_some() {
            ""
        } else {
            ", the model's"
        }
    );
    Ok(())
}

/// Refuses volumes too thin to pick (under 16 voxels on an axis).
fn check_shape(shape_xyz: [usize; 3], path: &Path) -> Result<()> {
    if shape_xyz.iter().any(|&n| n < 16) {
        bail!(
            "{}: {:?} voxels (x, y, z) is too small to pick; each axis needs at least 16",
            path.display(),
            shape_xyz
        );
    }
    Ok(())
}
