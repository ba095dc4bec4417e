//! Picking a whole tomogram with the detector: tiles with margins, one tile in memory at a time,
//! decoding, the confidence threshold, per-tile NMS, then global distance NMS.
//!
//! The volume is standardised once (global mean and standard deviation) and each tile is read
//! from its source, so a tomogram on disk is streamed: memory holds one tile and its network
//! activations, whatever the tomogram's size. Voxels outside the volume are 0 (the mean).

use crate::nms::{Detection, nms_distance, nms_iou};
use crate::tiling::{Tile, tiles_shaped};
use ndarray::Array3;
use rayon::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use tomopick_io::{Particle, PosVoxel, VoxelSize};
use tomopick_nn::DetectorModel;

/// Options of a picking run.
#[derive(Debug, Clone, PartialEq)]
pub struct PickOptions {
    /// Largest tile edge in voxels (tiles along a shorter axis span it whole).
    pub max_tile: usize,
    /// Margin on each side of a tile's effective zone, voxels.
    pub overlap: usize,
    /// Confidence threshold for every class (the paper: 0.5), unless `class_thresholds` is given.
    pub threshold: f64,
    /// One confidence threshold per class (the model's class order), applied after both NMS
    /// passes, which run on every detection above the lowest of them; `threshold` is then unused.
    /// Thresholding after NMS keeps what one pick at the lowest threshold, filtered per class,
    /// keeps (how `train detector` calibrates them).
    pub class_thresholds: Option<Vec<f64>>,
    /// Per-tile NMS: drop a detection whose sphere IoU with a stronger one exceeds this (0.1).
    pub tile_nms_iou: f64,
    /// Global NMS: drop a detection within this × the smaller diameter of a stronger one (2/3).
    pub global_nms_factor: f64,
    /// The classes the sample holds (the model's class indices), when the user knows them: each
    /// pick (the same picks as without it) is named the most probable of these; `None`: any of
    /// the model's classes.
    pub classes: Option<Vec<usize>>,
}

impl Default for PickOptions {
    fn default() -> Self {
        PickOptions {
            max_tile: 192,
            overlap: 8,
            threshold: 0.5,
            class_thresholds: None,
            tile_nms_iou: 0.1,
            global_nms_factor: 2.0 / 3.0,
            classes: None,
        }
    }
}

impl PickOptions {
    /// The lowest confidence a detection needs to enter NMS.
    pub fn floor(&self) -> f64 {
        match &self.class_thresholds {
            Some(t) => t.iter().cloned().fold(f64::INFINITY, f64::min),
            None => self.threshold,
        }
    }

    /// The class a detection with these class probabilities is named: the most probable of
    /// `classes` when given, else `best` (the most probable of all).
    pub fn name_class(&self, best: usize, probabilities: &[f32]) -> usize {
        match &self.classes {
            // The first of equals wins, as for the most probable of all.
            Some(allowed) => allowed
                .iter()
                .copied()
                .filter(|&c| c < probabilities.len())
                .max_by(|&a, &b| {
                    probabilities[a]
                        .total_cmp(&probabilities[b])
                        .then(b.cmp(&a))
                })
                .unwrap_or(best),
            None => best,
        }
    }

    /// Whether a detection of `class` at `confidence` passes its class's threshold.
    pub fn passes(&self, class: usize, confidence: f64) -> bool {
        match &self.class_thresholds {
            Some(t) => t.get(class).is_some_and(|&th| confidence >= th),
            None => confidence >= self.threshold,
        }
    }
}

/// Tile edge per axis: the whole axis (rounded up to `multiple`) when it fits in `max_tile`;
/// else the fewest tiles of at most `max_tile` whose effective zones cover the axis, made as
/// small as that allows (balanced), so little is computed twice.
pub fn tile_shape(
    shape_xyz: [usize; 3],
    max_tile: usize,
    overlap: usize,
    multiple: usize,
) -> [usize; 3] {
    let cap = (max_tile / multiple).max(1) * multiple;
    shape_xyz.map(|n| {
        if n <= cap {
            return n.div_ceil(multiple) * multiple;
        }
        let zone = cap.saturating_sub(2 * overlap).max(1);
        let k = n.div_ceil(zone);
        let size = (n.div_ceil(k) + 2 * overlap).div_ceil(multiple) * multiple;
        size.min(cap)
    })
}

fn plan_shape(shape_xyz: [usize; 3], model: &DetectorModel, opts: &PickOptions) -> [usize; 3] {
    tile_shape(
        shape_xyz,
        opts.max_tile,
        opts.overlap,
        model.config.size_multiple(),
    )
}

/// Detections of one tile, in volume voxels, owned by the tile (centre in its effective zone),
/// after the threshold and per-tile NMS. `block` is the standardised tile `[z, y, x]`.
pub fn detect_tile(
    model: &DetectorModel,
    tile: &Tile,
    block: Array3<f32>,
    opts: &PickOptions,
) -> Vec<Detection> {
    let (d, h, w) = block.dim();
    let (raw, grid) = model.predict(block.into_raw_vec_and_offset().0, [d, h, w]);
    let enc = model.config.encoding();
    let dets: Vec<Detection> = enc
        .decode(&raw, grid, opts.floor())
        .into_iter()
        .map(|p| Detection {
            centre: [
                p.centre[0] + tile.origin[0] as f64,
                p.centre[1] + tile.origin[1] as f64,
                p.centre[2] + tile.origin[2] as f64,
            ],
            size: p.size,
            score: p.confidence,
            class: p.class,
            class_probabilities: p.class_probabilities,
        })
        .collect();
    nms_iou(&dets, opts.tile_nms_iou)
        .into_iter()
        .filter(|det| tile.owns(det.centre))
        .collect()
}

/// Picks a volume whose standardised tiles come from `read_tile(origin_xyz, size_xyz)` (voxels
/// outside the volume must be 0). `progress(done, total)` is called after each tile.
///
/// burn's CPU backend runs one convolution on one core, so tiles go through the network in
/// parallel, one per core; memory holds one tile per core. The result does not depend on the
/// number of threads.
pub fn pick<E: Send>(
    model: &DetectorModel,
    shape_xyz: [usize; 3],
    opts: &PickOptions,
    read_tile: impl Fn([i64; 3], [usize; 3]) -> Result<Array3<f32>, E> + Sync,
    progress: impl Fn(usize, usize) + Sync,
) -> Result<Vec<Detection>, E> {
    let size = plan_shape(shape_xyz, model, opts);
    let plan = tiles_shaped(shape_xyz, size, opts.overlap);
    let done = AtomicUsize::new(0);
    let per_tile: Vec<Vec<Detection>> = plan
        .par_iter()
        .with_max_len(1)
        .map(|tile| {
            let block = read_tile(tile.origin, size)?;
            let dets = detect_tile(model, tile, block, opts);
            progress(done.fetch_add(1, Ordering::Relaxed) + 1, plan.len());
            Ok(dets)
        })
        .collect::<Result<_, E>>()?;
    let all: Vec<Detection> = per_tile.into_iter().flatten().collect();
    let mut kept = nms_distance(&all, opts.global_nms_factor, false);
    kept.retain(|d| opts.passes(d.class, d.score));
    // Named among the sample's classes only now: which detections pass is decided by the class
    // the detector saw, whose threshold was fitted to such detections (renaming first let
    // detections under a small class's threshold pass under a large class's, and cost precision).
    for d in &mut kept {
        d.class = opts.name_class(d.class, &d.class_probabilities);
    }
    Ok(kept)
}

/// Detections as particles: class names from the model, positions in Å.
pub fn to_particles(
    dets: &[Detection],
    model: &DetectorModel,
    voxel_size: VoxelSize,
) -> Vec<Particle> {
    dets.iter()
        .map(|d| {
            let mut p = Particle::new(
                model.config.classes[d.class].clone(),
                PosVoxel::new(d.centre[0], d.centre[1], d.centre[2]).to_angstrom(voxel_size),
            );
            p.score = Some(d.score);
            p
        })
        .collect()
}
