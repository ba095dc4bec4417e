//! Non-maximum suppression of detections.
//!
//! - Within a tile, by the overlap of the detections' spheres (the paper uses cube IoU > 0.1).
//! - Across the volume, by distance: a detection within `factor × size` of a stronger one is
//!   dropped (the paper: 2/3 of the size, no class check). Uses a KD-tree, so it scales to
//!   hundreds of thousands of candidates.

use kiddo::{KdTree, SquaredEuclidean};

/// A candidate detection.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    /// Centre, voxels `[x, y, z]`.
    pub centre: [f64; 3],
    /// Diameter (the "size"), voxels.
    pub size: f64,
    /// Confidence.
    pub score: f64,
    /// Class index.
    pub class: usize,
    /// Every class's probability, in the model's class order (empty when unknown).
    pub class_probabilities: Vec<f32>,
}

/// Intersection over union of two detections' spheres.
pub fn sphere_iou(a: &Detection, b: &Detection) -> f64 {
    tomopick_nn::encoding::sphere_iou(a.centre, a.size, b.centre, b.size)
}

fn by_score(dets: &[Detection]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..dets.len()).collect();
    order.sort_by(|&a, &b| dets[b].score.total_cmp(&dets[a].score).then(a.cmp(&b)));
    order
}

/// Keeps, in score order, detections whose sphere IoU with every kept one is at most `max_iou`.
pub fn nms_iou(dets: &[Detection], max_iou: f64) -> Vec<Detection> {
    let mut kept: Vec<Detection> = Vec::new();
    for i in by_score(dets) {
        if kept.iter().all(|k| sphere_iou(k, &dets[i]) <= max_iou) {
            kept.push(dets[i].clone());
        }
    }
    kept
}

/// Keeps, in score order, detections farther than `factor × size` from every kept detection,
/// where size is the smaller diameter of the two; with `per_class`, only detections of the same
/// class suppress each other.
///
/// The detector paper uses the candidate's own size. With the smaller of the two, a large
/// particle next to a small one survives: two touching particles are (d₁ + d₂)/2 apart, which is
/// always more than 2/3 of the smaller diameter, while the candidate's own 2/3·d₁ can exceed it.
pub fn nms_distance(dets: &[Detection], factor: f64, per_class: bool) -> Vec<Detection> {
    let max_reach = dets.iter().map(|d| d.size * factor).fold(0.0, f64::max);
    let mut tree: KdTree<f64, 3> = KdTree::new();
    let mut kept: Vec<Detection> = Vec::new();
    for i in by_score(dets) {
        let d = &dets[i];
        let reach = d.size * factor;
        let suppressed = tree
            .within::<SquaredEuclidean>(&d.centre, max_reach.max(reach).powi(2))
            .iter()
            .any(|n| {
                let k = &kept[n.item as usize];
                let r = factor * d.size.min(k.size);
                n.distance <= r * r && (!per_class || k.class == d.class)
            });
        if !suppressed {
            tree.add(&d.centre, kept.len() as u64);
            kept.push(d.clone());
        }
    }
    kept
}
