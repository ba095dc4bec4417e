//! `evaluate-classifier`: the classifier's accuracy, pixel accuracy and mIoU at the true
//! positions of annotated tomograms (SHREC-layout folders).

use crate::calibrate::read_truth;
use crate::classify::ClassifyOptions;
use crate::error::Result;
use crate::pipeline::check_voxel_size;
use crate::refine::classify_particles;
use crate::source::TomoSource;
use std::path::{Path, PathBuf};
use tomopick_eval::{ClassificationEval, ClassificationReport};
use tomopick_io::atomic::write_atomic;
use tomopick_io::{MrcReadOptions, Particle, PosAngstrom, read_mrc};
use tomopick_nn::ClassifierModel;
use tomopick_sim::sample::MEMBRANE_LABEL;
use tomopick_sim::subtomo::{MEMBRANE_CLASS, mix_seed};

/// How to evaluate.
#[derive(Debug, Clone, Default)]
pub struct ClassifierEvalOptions {
    /// Smoothing before the network, voxels (`None`: the model's).
    pub smooth: Option<f64>,
    /// Membrane boxes per folder, drawn from `class_mask.mrc` where there is one.
    pub membrane_boxes: usize,
    /// Seed of the membrane draws.
    pub seed: u64,
}

/// The result over all folders.
pub struct ClassifierEvaluation {
    /// Accuracy, pixel accuracy, mIoU, confusion.
    pub report: ClassificationReport,
    /// True particles of classes the model does not know (left out).
    pub unknown: usize,
    /// The report in Markdown, with the model's classes and the folders.
    pub markdown: String,
}

impl ClassifierEvaluation {
    /// Writes `report.md` and `report.json` into `dir` (made if missing).
    pub fn write(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|e| tomopick_io::IoError::os(dir, e))?;
        let json = self.report.to_json();
        for (name, text) in [("report.md", &self.markdown), ("report.json", &json)] {
            write_atomic(&dir.join(name), |w| {
                std::io::Write::write_all(w, text.as_bytes())
            })?;
        }
        Ok(())
    }
}

/// One labelled box of an evaluation set.
struct TruthBox {
    centre_vox: [f64; 3],
    class: usize,
    /// The label of its voxels: its occupancy number, or the membrane label of the class mask.
    label: Labelled,
}

enum Labelled {
    Occupancy(f32),
    Membrane,
}

/// Classifies a box at each true particle (and `membrane_boxes` membrane voxels) of each folder
/// (`reconstruction.mrc`, `occupancy_mask.mrc`, the truth list, optionally `class_mask.mrc`)
/// and scores class and mask. `on_folder(folder, boxes)` after each folder.
pub fn evaluate_classifier(
    model: &ClassifierModel,
    folders: &[PathBuf],
    opts: &ClassifierEvalOptions,
    mut on_folder: impl FnMut(&Path, usize),
    progress: impl Fn(usize, usize),
) -> Result<ClassifierEvaluation> {
    let classes = model.config.classes.clone();
    let b = model.config.shape.box_size;
    let mut eval = ClassificationEval::new(&classes);
    let copts = ClassifyOptions {
        smoothing_sigma_vox: opts.smooth,
        ..Default::default()
    };
    let mut unknown = 0usize;
    for dir in folders {
        let rec = dir.join("reconstruction.mrc");
        let src = TomoSource::open(&rec, None)?;
        let vs = src.voxel_size();
        check_voxel_size(model.config.voxel_size_a, vs, &rec)?;
        let read = |name: &str| {
            let options = MrcReadOptions {
                voxel_size: Some(vs),
            };
            read_mrc(&dir.join(name), options)
        };
        let occupancy = read("occupancy_mask.mrc")?;
        // Without a class mask (a folder from another simulator) there are no membrane boxes.
        let class_mask = match dir.join("class_mask.mrc").exists() {
            true => Some(read("class_mask.mrc")?),
            false => None,
        };
        let mut boxes = Vec::new();
        for (i, p) in read_truth(dir, vs)?.iter().enumerate() {
            match classes.iter().position(|c| *c == p.class) {
                Some(k) => boxes.push(TruthBox {
                    centre_vox: p.pos_a.to_voxels(vs).as_array(),
                    class: k,
                    label: Labelled::Occupancy((i + 1) as f32),
                }),
                None => unknown += 1,
            }
        }
        let membrane = classes.iter().position(|c| c == MEMBRANE_CLASS);
        if let (Some(k), Some(class_mask)) = (membrane, class_mask.as_ref()) {
            let voxels: Vec<[f64; 3]> = class_mask
                .data
                .indexed_iter()
                .filter(|(_, v)| **v == MEMBRANE_LABEL as f32)
                .map(|((z, y, x), _)| [x as f64, y as f64, z as f64])
                .collect();
            for j in 0..opts.membrane_boxes.min(voxels.len()) {
                let pick = mix_seed(opts.seed, j as u64) as usize % voxels.len();
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
                let pos = PosAngstrom::new(c[0] * vs.x, c[1] * vs.y, c[2] * vs.z);
                Particle::new(&classes[t.class], pos)
            })
            .collect();
        let c = classify_particles(model, &src, &as_particles, &copts, &rec, &progress)?;
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
        on_folder(dir, c.boxes.len());
    }
    let report = eval.report();
    let names: Vec<String> = folders.iter().map(|d| d.display().to_string()).collect();
    let markdown = format!(
        "# Classifier evaluation\n\nModel classes: {}\nFolders: {}\nSmoothing sigma: {} voxels\n\n{}",
        classes.join(", "),
        names.join(", "),
        opts.smooth.unwrap_or(model.config.smoothing_sigma_vox),
        report.to_markdown()
    );
    Ok(ClassifierEvaluation {
        report,
        unknown,
        markdown,
    })
}
