//! `tomopick classify`, `tomopick evaluate-classifier`, and the `--refine-classes` step of
//! `tomopick pick`.

use crate::args::{ClassifyArgs, EvaluateClassifierArgs};
use crate::cmd_pick::print_counts;
use crate::cmd_simulate::progress;
use anyhow::{Context, Result, bail};
use ndarray::Array3;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use tomopick_eval::ClassificationEval;
use tomopick_io::atomic::check_writable;
use tomopick_io::{
    ListContext, ListFormat, MrcReadOptions, MrcWriteMode, Particle, PosAngstrom, Volume,
    VoxelSize, read_mrc, read_particles, write_mrc, write_particles,
};
use tomopick_nn::{ClassifierModel, inference_device};
use tomopick_pick::classify::{Classification, ClassifyOptions};
use tomopick_pick::{TomoSource, check_voxel_size};
use tomopick_sim::sample::MEMBRANE_LABEL;
use tomopick_sim::subtomo::{MEMBRANE_CLASS, mix_seed};

/// The default classifier, embedded in the binary (13 SHREC 2021 classes and membrane at 10 Å).
pub const DEFAULT_CLASSIFIER: &[u8] = include_bytes!("../../../models/classifier_shrec10a.bpk");

/// Loads `--model`, or the embedded default classifier.
pub fn load_classifier(path: Option<&Path>) -> Result<ClassifierModel> {
    let dev = inference_device();
    Ok(match path {
        Some(p) => ClassifierModel::load(p, &dev)?,
        None => ClassifierModel::from_bytes(
            DEFAULT_CLASSIFIER.to_vec(),
            Path::new("<embedded default classifier>"),
            &dev,
        )?,
    })
}

/// Classifies a box around each particle with a progress bar.
fn classify_particles(
    model: &ClassifierModel,
    src: &TomoSource,
    picks: &[Particle],
    opts: &ClassifyOptions,
    tomo: &Path,
) -> Result<Classification> {
    let pb = progress(picks.len() as u64, "boxes");
    let out = tomopick_pick::classify_particles(model, src, picks, opts, tomo, |done, _| {
        pb.set_position(done as u64)
    })?;
    pb.finish_and_clear();
    Ok(out)
}

/// Logs how the border was handled.
fn report_border(c: &Classification, skip: bool) {
    let padded = c.boxes.iter().filter(|b| b.padded).count();
    if skip && !c.skipped.is_empty() {
        tracing::warn!(
            "{} picks skipped: their box crosses the tomogram's border (--skip-border)",
            c.skipped.len()
        );
    }
    if padded > 0 {
        tracing::info!("{padded} boxes crossed the border and were padded with their mean");
    }
}

pub fn classify_cmd(a: ClassifyArgs) -> Result<()> {
    check_writable(&a.output)?;
    if let Some(l) = &a.labels {
        check_writable(l)?;
    }
    let model = load_classifier(a.model.as_deref())?;
    let tomo = TomoSource::open(&a.tomogram, a.voxel_size.map(VoxelSize::isotropic))?;
    // Lists in pixels count the tomogram's own voxels; boxes, masks and labels use the model's.
    let tomo_vs = tomo.voxel_size();
    let (src, note) = tomo.on_grid(model.config.voxel_size_a, &a.tomogram)?;
    if let Some(n) = note {
        tracing::info!("{}: {n}", a.tomogram.display());
    }
    let vs = src.voxel_size();
    let ctx = ListContext {
        voxel_size: Some(tomo_vs),
        ..Default::default()
    };
    let picks = read_particles(&a.picks, None, &ctx)?;
    tomopick_pick::refine::check_picks_inside(&picks, src.shape_xyz(), vs, &a.picks, &a.tomogram)?;
    if let Some(d) = &a.masks {
        std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
    }
    let opts = ClassifyOptions {
        skip_border: a.skip_border,
        smoothing_sigma_vox: a.smooth,
        ..Default::default()
    };
    let c = classify_particles(&model, &src, &picks, &opts, &a.tomogram)?;
    report_border(&c, a.skip_border);
    let classes = &model.config.classes;
    let out: Vec<Particle> = c
        .boxes
        .iter()
        .map(|b| {
            let mut p = picks[b.pick].clone();
            p.class = classes[b.prediction.class_index].clone();
            p.score = Some(b.prediction.probabilities[b.prediction.class_index] as f64);
            p
        })
        .collect();
    if ListFormat::from_path(&a.output) == Some(ListFormat::Csv) {
        write_probability_csv(&a.output, &picks, &c, classes)?;
    } else {
        let format = ListFormat::from_path(&a.output).with_context(|| {
            format!(
                "{}: cannot tell the list format from the extension (.csv, .star, .json, .txt)",
                a.output.display()
            )
        })?;
        write_particles(&a.output, format, &out, &ctx)?;
    }
    let b = model.config.shape.box_size;
    if let Some(dir) = &a.masks {
        for (i, bx) in c.boxes.iter().enumerate() {
            let data = Array3::from_shape_vec(
                (b, b, b),
                bx.prediction
                    .mask
                    .iter()
                    .map(|&m| f32::from(m > 0.5))
                    .collect(),
            )
            .expect("box-sized mask");
            let mut vol = Volume::new(data, vs);
            let o = bx.origin_vox;
            vol.origin_a =
                PosAngstrom::new(o[0] as f64 * vs.x, o[1] as f64 * vs.y, o[2] as f64 * vs.z);
            let name = format!(
                "mask_{:06}_{}.mrc",
                i + 1,
                classes[bx.prediction.class_index]
            );
            write_mrc(&dir.join(name), &vol, MrcWriteMode::Int8)?;
        }
    }
    if let Some(path) = &a.labels {
        let [nx, ny, nz] = src.shape_xyz();
        let mut labels = Array3::<f32>::zeros((nz, ny, nx));
        for bx in &c.boxes {
            let label = (bx.prediction.class_index + 1) as f32;
            for (k, &m) in bx.prediction.mask.iter().enumerate() {
                let (z, y, x) = (k / (b * b), (k / b) % b, k % b);
                let g = [
                    bx.origin_vox[0] + x as i64,
                    bx.origin_vox[1] + y as i64,
                    bx.origin_vox[2] + z as i64,
                ];
                if m > 0.5 && (0..3).all(|a| g[a] >= 0 && g[a] < [nx, ny, nz][a] as i64) {
                    labels[[g[2] as usize, g[1] as usize, g[0] as usize]] = label;
                }
            }
        }
        write_mrc(path, &Volume::new(labels, vs), MrcWriteMode::Int8)?;
    }
    print_counts(&out);
    tracing::info!("wrote {}", a.output.display());
    Ok(())
}

/// CSV with the tomopick columns plus the detector's class, a border flag and every class's
/// probability (`p_<class>`).
fn write_probability_csv(
    path: &Path,
    picks: &[Particle],
    c: &Classification,
    classes: &[String],
) -> Result<()> {
    let mut text = String::from("class,x,y,z,score,input_class,padded");
    for k in classes {
        let _ = write!(text, ",p_{k}");
    }
    text.push('\n');
    for b in &c.boxes {
        let p = &picks[b.pick];
        let k = b.prediction.class_index;
        let pos = p.pos_a.as_array();
        let _ = write!(
            text,
            "{},{:.2},{:.2},{:.2},{:.4},{},{}",
            classes[k], pos[0], pos[1], pos[2], b.prediction.probabilities[k], p.class, b.padded
        );
        for v in &b.prediction.probabilities {
            let _ = write!(text, ",{v:.4}");
        }
        text.push('\n');
    }
    tomopick_io::atomic::write_atomic(path, |w| std::io::Write::write_all(w, text.as_bytes()))?;
    Ok(())
}

/// One labelled box of an evaluation set.
struct TruthBox {
    centre_vox: [f64; 3],
    class: usize,
    /// Which voxels of the labels volume belong to it.
    label: Labelled,
}

enum Labelled {
    Occupancy(f32),
    Membrane,
}

pub fn evaluate_classifier_cmd(a: EvaluateClassifierArgs) -> Result<()> {
    if let Some(o) = &a.output {
        std::fs::create_dir_all(o).with_context(|| format!("creating {}", o.display()))?;
    }
    let model = load_classifier(a.model.as_deref())?;
    let classes = model.config.classes.clone();
    let b = model.config.shape.box_size;
    let mut eval = ClassificationEval::new(&classes);
    let opts = ClassifyOptions {
        smoothing_sigma_vox: a.smooth,
        ..Default::default()
    };
    let mut unknown = 0usize;
    for dir in &a.folders {
        let rec = dir.join("reconstruction.mrc");
        let src = TomoSource::open(&rec, None)?;
        let vs = src.voxel_size();
        check_voxel_size(model.config.voxel_size_a, vs, &rec)?;
        let read = |name: &str| {
            read_mrc(
                &dir.join(name),
                MrcReadOptions {
                    voxel_size: Some(vs),
                },
            )
        };
        let occupancy = read("occupancy_mask.mrc")?;
        // Without a class mask (a folder from another simulator) there are no membrane boxes.
        let class_mask = if dir.join("class_mask.mrc").exists() {
            Some(read("class_mask.mrc")?)
        } else {
            tracing::info!("{}: no class_mask.mrc, so no membrane boxes", dir.display());
            None
        };
        let truth = read_truth(dir, vs)?;
        let mut boxes = Vec::new();
        for (i, p) in truth.iter().enumerate() {
            match classes.iter().position(|c| *c == p.class) {
                Some(k) => boxes.push(TruthBox {
                    centre_vox: p.pos_a.to_voxels(vs).as_array(),
                    class: k,
                    label: Labelled::Occupancy((i + 1) as f32),
                }),
                None => unknown += 1,
            }
        }
        if let (Some(k), Some(class_mask)) = (
            classes.iter().position(|c| c == MEMBRANE_CLASS),
            class_mask.as_ref(),
        ) {
            let voxels: Vec<[f64; 3]> = class_mask
                .data
                .indexed_iter()
                .filter(|(_, v)| **v == MEMBRANE_LABEL as f32)
                .map(|((z, y, x), _)| [x as f64, y as f64, z as f64])
                .collect();
            for j in 0..a.membrane_boxes.min(voxels.len()) {
                let pick = mix_seed(a.seed, j as u64) as usize % voxels.len();
                boxes.push(TruthBox {
                    centre_vox: voxels[pick],
                    class: k,
                    label: Labelled::Membrane,
                });
            }
        }
        let as_particles: Vec<Particle> = boxes
            .iter()
            .map(|t| {
                let c = t.centre_vox;
                Particle::new(
                    &classes[t.class],
                    PosAngstrom::new(c[0] * vs.x, c[1] * vs.y, c[2] * vs.z),
                )
            })
            .collect();
        let c = classify_particles(&model, &src, &as_particles, &opts, &rec)?;
        for bx in &c.boxes {
            let t = &boxes[bx.pick];
            let (labels, value) = match t.label {
                Labelled::Occupancy(v) => (&occupancy, v),
                Labelled::Membrane => (
                    class_mask
                        .as_ref()
                        .expect("membrane boxes come from the class mask"),
                    MEMBRANE_LABEL as f32,
                ),
            };
            let true_mask: Vec<bool> = labels
                .block(bx.origin_vox, [b, b, b], |v| v)
                .iter()
                .map(|&v| v == value)
                .collect();
            let pred: Vec<bool> = bx.prediction.mask.iter().map(|&m| m > 0.5).collect();
            eval.add(t.class, bx.prediction.class_index, &true_mask, &pred);
        }
        tracing::info!("{}: {} boxes", dir.display(), c.boxes.len());
    }
    if unknown > 0 {
        tracing::warn!("{unknown} true particles of classes the model does not know were left out");
    }
    let report = eval.report();
    let md = format!(
        "# Classifier evaluation\n\nModel classes: {}\nFolders: {}\nSmoothing sigma: {} voxels\n\n{}",
        classes.join(", "),
        a.folders
            .iter()
            .map(|d| d.display().to_string())
            .collect::<Vec<_>>()
            .join(", "),
        a.smooth.unwrap_or(model.config.smoothing_sigma_vox),
        report.to_markdown()
    );
    if let Some(o) = &a.output {
        for (name, text) in [("report.md", &md), ("report.json", &report.to_json())] {
            tomopick_io::atomic::write_atomic(&o.join(name), |w| {
                std::io::Write::write_all(w, text.as_bytes())
            })?;
        }
    }
    println!(
        "{} boxes: accuracy {:.3}, pixel accuracy {:.3}, mIoU {:.3}",
        report.boxes, report.accuracy, report.pixel_accuracy, report.miou
    );
    Ok(())
}

/// The truth list of a SHREC-layout folder: `particles.csv` (Å) or `particle_locations.txt`.
pub(crate) fn read_truth(dir: &Path, vs: VoxelSize) -> Result<Vec<Particle>> {
    let ctx = ListContext {
        voxel_size: Some(vs),
        ..Default::default()
    };
    let candidates: [PathBuf; 2] = [
        dir.join("particles.csv"),
        dir.join("particle_locations.txt"),
    ];
    for p in &candidates {
        if p.exists() {
            return Ok(read_particles(p, None, &ctx)?);
        }
    }
    bail!(
        "{}: neither particles.csv nor particle_locations.txt is there",
        dir.display()
    )
}
