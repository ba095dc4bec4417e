//! `tomopick pick`.

use crate::args::PickArgs;
use crate::cmd_simulate::{advance, progress};
use crate::detect::{describe_thresholds, model_pick_options};
use crate::source::{TomoSource, mrc_block};
use anyhow::{Context, Result, bail};
use std::collections::BTreeMap;
use std::path::Path;
use tomopick_io::atomic::check_writable;
use tomopick_io::volume::standard_scale;
use tomopick_io::{
    ListContext, ListFormat, MrcReadOptions, MrcVolumeFile, Particle, VolumeFormat, VoxelSize,
    open_volume, write_particles,
};
use tomopick_nn::{DetectorModel, inference_device};
use tomopick_pick::preview::{Mark, write_preview};
use tomopick_pick::{PickOptions, pick, to_particles};

/// The default detector, embedded in the binary (13 SHREC 2021 classes at 10 Å).
pub const DEFAULT_MODEL: &[u8] = include_bytes!("../../../models/detector_shrec10a.bpk");

/// Loads `--model`, or the embedded default.
pub fn load_model(path: Option<&Path>) -> Result<DetectorModel> {
    let dev = inference_device();
    Ok(match path {
        Some(p) => DetectorModel::load(p, &dev)?,
        None => DetectorModel::from_bytes(
            DEFAULT_MODEL.to_vec(),
            Path::new("<embedded default model>"),
            &dev,
        )?,
    }
    .into_inference())
}

/// Refuses a tomogram whose voxel size is more than 10 % from the model's.
pub fn check_voxel_size(want: f64, vs: VoxelSize, tomo: &Path) -> Result<()> {
    let worst = vs
        .as_array()
        .iter()
        .map(|v| (v / want - 1.0).abs())
        .fold(0.0, f64::max);
    if worst > 0.10 {
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

/// Mean, standard deviation and non-finite count of an MRC, read in slabs of Z.
fn mrc_stats(file: &MrcVolumeFile) -> Result<(f64, f64, usize)> {
    let [nx, ny, nz] = file.info().shape_xyz;
    let (mut sum, mut sq, mut n, mut bad) = (0.0f64, 0.0f64, 0usize, 0usize);
    let slab = 16;
    for z0 in (0..nz).step_by(slab) {
        let dz = slab.min(nz - z0);
        let v = file.read_region([0, 0, z0], [nx, ny, dz])?;
        for &x in v.data.iter() {
            if x.is_finite() {
                sum += x as f64;
                sq += (x as f64) * (x as f64);
                n += 1;
            } else {
                bad += 1;
            }
        }
    }
    let mean = sum / n.max(1) as f64;
    Ok((
        mean,
        (sq / n.max(1) as f64 - mean * mean).max(0.0).sqrt(),
        bad,
    ))
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
    let is_mrc = VolumeFormat::from_path(&a.tomogram) == VolumeFormat::Mrc;
    // Both models must fit the tomogram's voxel size; checked before the long work.
    let check_models_voxel_size = |vs: VoxelSize| -> Result<()> {
        check_voxel_size(model.config.voxel_size_a, vs, &a.tomogram)?;
        if let Some(c) = &classifier {
            check_voxel_size(c.config.voxel_size_a, vs, &a.tomogram)?;
        }
        Ok(())
    };
    // The source picks were made from, kept for the classifier and the preview.
    let (picks, vs, source) = if is_mrc && a.preview.is_none() {
        // Streamed: one tile in memory at a time.
        let file = MrcVolumeFile::open(
            &a.tomogram,
            MrcReadOptions {
                voxel_size: override_vs,
            },
        )?;
        let vs = file.voxel_size();
        check_models_voxel_size(vs)?;
        let shape = file.info().shape_xyz;
        check_shape(shape, &a.tomogram)?;
        let (mean, std, bad) = mrc_stats(&file)?;
        if bad > 0 {
            bail!(
                "{}: {bad} voxels are NaN or infinite; fix the tomogram first (`tomopick validate` shows them)",
                a.tomogram.display()
            );
        }
        let pb = progress(0, "tiles");
        let dets = pick(
            &model,
            shape,
            &opts,
            |origin, size| {
                let (mean, inv) = (mean as f32, standard_scale(std));
                mrc_block(&file, origin, size, |v| (v - mean) * inv)
            },
            advance(&pb),
        )?;
        pb.finish_and_clear();
        (
            to_particles(&dets, &model, vs),
            vs,
            TomoSource::Mrc(Box::new(file)),
        )
    } else {
        let vol = open_volume(&a.tomogram, override_vs)?;
        check_models_voxel_size(vol.voxel_size)?;
        check_shape(vol.shape_xyz(), &a.tomogram)?;
        let st = vol.stats();
        if st.nan + st.inf > 0 {
            bail!(
                "{}: {} voxels are NaN or infinite; fix the tomogram first",
                a.tomogram.display(),
                st.nan + st.inf
            );
        }
        let pb = progress(0, "tiles");
        let picks = crate::detect::pick_in_memory(&model, &vol, &opts, advance(&pb));
        pb.finish_and_clear();
        let vs = vol.voxel_size;
        (picks, vs, TomoSource::Memory(vol))
    };
    let ctx = ListContext {
        voxel_size: Some(vs),
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
