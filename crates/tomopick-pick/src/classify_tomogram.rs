//! `classify` on a whole tomogram: read the picks, classify and segment a box around each on the
//! classifier's grid, and write the results (a list with every class's probability, a mask per
//! box, a label volume).

use crate::classify::{Classification, ClassifyOptions};
use crate::error::Result;
use crate::refine::{check_picks_inside, classify_particles};
use crate::source::TomoSource;
use ndarray::Array3;
use std::fmt::Write as _;
use std::path::Path;
use tomopick_io::atomic::write_atomic;
use tomopick_io::{MrcWriteMode, Particle, PosAngstrom, Volume, VoxelSize, write_mrc};
use tomopick_nn::ClassifierModel;

/// Picks classified in one tomogram.
pub struct Classified {
    /// The picks as given.
    pub input: Vec<Particle>,
    /// One per classified box: the pick with the classifier's class and its probability as score.
    pub particles: Vec<Particle>,
    /// The boxes (probabilities, masks, border padding) and the picks skipped at the border.
    pub classification: Classification,
    /// The tomogram's own voxel size (pixel-based lists count these voxels).
    pub voxel_size: VoxelSize,
    /// The classifier's grid (boxes, masks and labels use it) and its size in voxels `[x, y, z]`.
    pub grid_voxel_size: VoxelSize,
    /// The grid's size in voxels `[x, y, z]`.
    pub grid_shape_xyz: [usize; 3],
    /// When resampled to the classifier's voxel size: a sentence saying from what to what.
    pub resampled: Option<String>,
    /// The classifier's class names.
    pub classes: Vec<String>,
    /// The box edge in voxels.
    pub box_size: usize,
}

/// Classifies a box around each of `picks` (positions in Å in the tomogram's frame, read from
/// `list`) in `tomo` (`path` names it in errors), resampled to the classifier's voxel size when
/// needed; refuses picks outside the tomogram. `progress(done, total)` after each box.
pub fn classify_tomogram(
    model: &ClassifierModel,
    tomo: TomoSource,
    path: &Path,
    picks: Vec<Particle>,
    list: &Path,
    opts: &ClassifyOptions,
    progress: impl Fn(usize, usize),
) -> Result<Classified> {
    let voxel_size = tomo.voxel_size();
    let (src, resampled) = tomo.on_grid(model.config.voxel_size_a, path)?;
    let vs = src.voxel_size();
    check_picks_inside(&picks, src.shape_xyz(), vs, list, path)?;
    let c = classify_particles(model, &src, &picks, opts, path, progress)?;
    let classes = model.config.classes.clone();
    let particles = c
        .boxes
        .iter()
        .map(|b| {
            let mut p = picks[b.pick].clone();
            let k = b.prediction.class_index;
            p.class = classes[k].clone();
            p.score = Some(b.prediction.probabilities[k] as f64);
            p
        })
        .collect();
    Ok(Classified {
        input: picks,
        particles,
        classification: c,
        voxel_size,
        grid_voxel_size: vs,
        grid_shape_xyz: src.shape_xyz(),
        resampled,
        classes,
        box_size: model.config.shape.box_size,
    })
}

impl Classified {
    /// Boxes that crossed the border and were padded with their mean.
    pub fn padded(&self) -> usize {
        self.classification
            .boxes
            .iter()
            .filter(|b| b.padded)
            .count()
    }

    /// CSV with the tomopick columns plus the input class, a border flag and every class's
    /// probability (`p_<class>`).
    pub fn probability_csv(&self) -> String {
        let mut text = String::from("class,x,y,z,score,input_class,padded");
        for k in &self.classes {
            let _ = write!(text, ",p_{k}");
        }
        text.push('\n');
        for b in &self.classification.boxes {
            let p = &self.input[b.pick];
            let k = b.prediction.class_index;
            let pos = p.pos_a.as_array();
            let _ = write!(
                text,
                "{},{:.2},{:.2},{:.2},{:.4},{},{}",
                self.classes[k],
                pos[0],
                pos[1],
                pos[2],
                b.prediction.probabilities[k],
                p.class,
                b.padded
            );
            for v in &b.prediction.probabilities {
                let _ = write!(text, ",{v:.4}");
            }
            text.push('\n');
        }
        text
    }

    /// Writes [`Classified::probability_csv`] to `path`.
    pub fn write_probability_csv(&self, path: &Path) -> Result<()> {
        let text = self.probability_csv();
        Ok(write_atomic(path, |w| {
            std::io::Write::write_all(w, text.as_bytes())
        })?)
    }

    /// One int8 MRC per box in `dir` (`mask_NNNNNN_<class>.mrc`, 1 inside the particle), placed
    /// by its origin in the tomogram.
    pub fn write_masks(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|e| tomopick_io::IoError::os(dir, e))?;
        let (b, vs) = (self.box_size, self.grid_voxel_size);
        for (i, bx) in self.classification.boxes.iter().enumerate() {
            let data = bx.prediction.mask.iter().map(|&m| f32::from(m > 0.5));
            let data = Array3::from_shape_vec((b, b, b), data.collect()).expect("box-sized mask");
            let mut vol = Volume::new(data, vs);
            let o = bx.origin_vox;
            vol.origin_a =
                PosAngstrom::new(o[0] as f64 * vs.x, o[1] as f64 * vs.y, o[2] as f64 * vs.z);
            let class = &self.classes[bx.prediction.class_index];
            let name = format!("mask_{:06}_{class}.mrc", i + 1);
            write_mrc(&dir.join(name), &vol, MrcWriteMode::Int8)?;
        }
        Ok(())
    }

    /// A label volume on the classifier's grid, `[z, y, x]`: each box's mask painted with its
    /// class number (1-based; 0 elsewhere).
    pub fn label_volume(&self) -> Array3<f32> {
        let b = self.box_size;
        let [nx, ny, nz] = self.grid_shape_xyz;
        let mut labels = Array3::<f32>::zeros((nz, ny, nx));
        for bx in &self.classification.boxes {
            let label = (bx.prediction.class_index + 1) as f32;
            for (k, &m) in bx.prediction.mask.iter().enumerate() {
                let (z, y, x) = (k / (b * b), (k / b) % b, k % b);
                let o = bx.origin_vox;
                let g = [o[0] + x as i64, o[1] + y as i64, o[2] + z as i64];
                if m > 0.5 && (0..3).all(|a| g[a] >= 0 && g[a] < [nx, ny, nz][a] as i64) {
                    labels[[g[2] as usize, g[1] as usize, g[0] as usize]] = label;
                }
            }
        }
        labels
    }

    /// Writes [`Classified::label_volume`] to `path` as int8 MRC.
    pub fn write_labels(&self, path: &Path) -> Result<()> {
        let vol = Volume::new(self.label_volume(), self.grid_voxel_size);
        Ok(write_mrc(path, &vol, MrcWriteMode::Int8)?)
    }
}
