//! The second stage: a box is cut around each pick and given to the subtomogram classifier,
//! which names its class and draws its mask.
//!
//! A box of edge `b` has the pick at voxel `b/2` (as in training), so its corner is the pick's
//! rounded voxel position minus `b/2`. A box that crosses the tomogram's border is either padded
//! (voxels outside take the mean of those inside) or skipped, and counted either way. Each box
//! is smoothed with the model's Gaussian, then standardised on its own.

use crate::smooth::gaussian_smooth;
use ndarray::Array3;
use tomopick_nn::{BoxPrediction, ClassifierModel};

/// How to classify.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassifyOptions {
    /// Boxes per network call.
    pub batch: usize,
    /// Skip boxes that cross the border instead of padding them.
    pub skip_border: bool,
    /// Gaussian sigma in voxels; `None`: the model's.
    pub smoothing_sigma_vox: Option<f64>,
}

impl Default for ClassifyOptions {
    fn default() -> Self {
        ClassifyOptions {
            batch: 16,
            skip_border: false,
            smoothing_sigma_vox: None,
        }
    }
}

/// One classified box.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassifiedBox {
    /// Index of the pick.
    pub pick: usize,
    /// Corner of the box in the tomogram, voxels `[x, y, z]`.
    pub origin_vox: [i64; 3],
    /// True when the box crossed the border and was padded.
    pub padded: bool,
    /// What the classifier says.
    pub prediction: BoxPrediction,
}

/// All picks' outcomes.
#[derive(Debug, Clone, PartialEq)]
pub struct Classification {
    /// The classified boxes, in pick order.
    pub boxes: Vec<ClassifiedBox>,
    /// Picks skipped because their box crossed the border.
    pub skipped: Vec<usize>,
}

/// Corner `[x, y, z]` of the box of edge `b` around `centre_vox`.
pub fn box_origin(centre_vox: [f64; 3], b: usize) -> [i64; 3] {
    centre_vox.map(|c| c.round() as i64 - (b / 2) as i64)
}

/// Whether the box at `origin` of edge `b` lies inside a volume of `shape_xyz`.
pub fn box_inside(origin: [i64; 3], b: usize, shape_xyz: [usize; 3]) -> bool {
    (0..3).all(|a| origin[a] >= 0 && origin[a] + b as i64 <= shape_xyz[a] as i64)
}

/// Smooths and standardises a raw box; voxels outside the volume (`outside` true) first take
/// the mean of the inside ones.
pub fn prepare_box(
    mut v: Array3<f32>,
    outside: impl Fn([usize; 3]) -> bool,
    sigma: f64,
) -> Vec<f32> {
    let (mut sum, mut n) = (0f64, 0usize);
    for ((z, y, x), &val) in v.indexed_iter() {
        if !outside([x, y, z]) {
            sum += val as f64;
            n += 1;
        }
    }
    let mean = (sum / n.max(1) as f64) as f32;
    if n < v.len() {
        for ((z, y, x), val) in v.indexed_iter_mut() {
            if outside([x, y, z]) {
                *val = mean;
            }
        }
    }
    gaussian_smooth(&mut v, sigma);
    let flat = v.into_raw_vec_and_offset().0;
    tomopick_nn::train::standardized(&flat).collect()
}

/// Classifies a box around each of `centres_vox` (`[x, y, z]` voxels) in a volume of
/// `shape_xyz`. `read_box(origin, size)` returns the raw voxels `[z, y, x]` of a box (any value
/// outside the volume). `progress(done, total)` is called after each batch.
pub fn classify<E>(
    model: &ClassifierModel,
    centres_vox: &[[f64; 3]],
    shape_xyz: [usize; 3],
    opts: &ClassifyOptions,
    read_box: impl Fn([i64; 3], [usize; 3]) -> Result<Array3<f32>, E>,
    progress: impl Fn(usize, usize),
) -> Result<Classification, E> {
    let b = model.config.shape.box_size;
    let sigma = opts
        .smoothing_sigma_vox
        .unwrap_or(model.config.smoothing_sigma_vox);
    let mut skipped = Vec::new();
    let mut todo = Vec::new();
    for (i, &c) in centres_vox.iter().enumerate() {
        let origin = box_origin(c, b);
        let inside = box_inside(origin, b, shape_xyz);
        if !inside && opts.skip_border {
            skipped.push(i);
        } else {
            todo.push((i, origin, !inside));
        }
    }
    let mut boxes = Vec::with_capacity(todo.len());
    let batch = opts.batch.max(1);
    for chunk in todo.chunks(batch) {
        let mut input = Vec::with_capacity(chunk.len() * b * b * b);
        for &(_, origin, _) in chunk {
            let raw = read_box(origin, [b, b, b])?;
            let outside = |p: [usize; 3]| {
                (0..3).any(|a| {
                    let g = origin[a] + p[a] as i64;
                    g < 0 || g >= shape_xyz[a] as i64
                })
            };
            input.extend(prepare_box(raw, outside, sigma));
        }
        let preds = model.predict(input, chunk.len());
        for (&(pick, origin_vox, padded), prediction) in chunk.iter().zip(preds) {
            boxes.push(ClassifiedBox {
                pick,
                origin_vox,
                padded,
                prediction,
            });
        }
        progress(boxes.len(), todo.len());
    }
    Ok(Classification { boxes, skipped })
}
