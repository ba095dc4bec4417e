//! Training targets for the detector: which prediction answers for each true particle, and
//! which predictions are left out of the no-object loss.
//!
//! Assignment (stated here because it differs in one point from the reference code):
//! - The positive for a particle is the prediction in the grid cell that holds its centre, on
//!   the anchor whose sphere has the best IoU with the particle's sphere (concentric spheres, so
//!   the nearest anchor on a log scale). This is YOLOv3's rule. The reference code instead takes
//!   the best IoU over all *decoded* predictions, which at initialisation is an arbitrary cell.
//! - A prediction whose decoded sphere has IoU > `ignore_iou` (the paper: 0.333) with any true
//!   particle is not penalised as background.
//! - IoU is the IoU of spheres (centre, diameter), not of axis-aligned cubes as in the
//!   reference code: particles are round, and a sphere's IoU does not depend on the orientation
//!   of the grid.

use crate::encoding::{Encoding, sphere_iou};

/// A true particle in a training cube.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrueBox {
    /// Centre, voxels `[x, y, z]` of the cube.
    pub centre_vox: [f64; 3],
    /// Diameter, voxels.
    pub diameter_vox: f64,
    /// Class index.
    pub class: usize,
}

/// Targets of one batch, laid out `[batch, anchor, field, cell]` like the network's output.
#[derive(Debug, Clone, PartialEq)]
pub struct Targets {
    /// Batch size.
    pub batch: usize,
    /// Anchors.
    pub anchors: usize,
    /// Classes.
    pub classes: usize,
    /// Grid cells per item.
    pub cells: usize,
    /// 1 at positives, `[B, A, 1, N]`.
    pub obj: Vec<f32>,
    /// 1 where the no-object loss applies, `[B, A, 1, N]`.
    pub noobj: Vec<f32>,
    /// Offsets in the cell in [0, 1), `[B, A, 3, N]`.
    pub xyz: Vec<f32>,
    /// ln(diameter / anchor), `[B, A, 1, N]`.
    pub log_size: Vec<f32>,
    /// One-hot classes, `[B, A, C, N]`.
    pub class: Vec<f32>,
    /// Particles that got a positive (two in one cell and anchor count once).
    pub positives: usize,
}

fn sigmoid(x: f32) -> f64 {
    1.0 / (1.0 + (-(x as f64)).exp())
}

/// Builds the targets of a batch from its true particles and the network's raw outputs
/// (`raw` = the whole batch, `[B, A·(5+C), d, h, w]` row-major, used for the ignore rule).
pub fn build_targets(
    enc: &Encoding,
    truth: &[Vec<TrueBox>],
    raw: &[f32],
    grid_dhw: [usize; 3],
    ignore_iou: f64,
) -> Targets {
    let [d, h, w] = grid_dhw;
    let (b, a_n, c_n, n) = (truth.len(), enc.anchors.len(), enc.classes, d * h * w);
    let nf = 5 + c_n;
    assert_eq!(
        raw.len(),
        b * a_n * nf * n,
        "raw output does not match the batch"
    );
    let mut t = Targets {
        batch: b,
        anchors: a_n,
        classes: c_n,
        cells: n,
        obj: vec![0.0; b * a_n * n],
        noobj: vec![1.0; b * a_n * n],
        xyz: vec![0.0; b * a_n * 3 * n],
        log_size: vec![0.0; b * a_n * n],
        class: vec![0.0; b * a_n * c_n * n],
        positives: 0,
    };
    let s = enc.stride as f64;
    for (i, boxes) in truth.iter().enumerate() {
        // Ignore rule: decoded spheres that already overlap a particle well.
        for a in 0..a_n {
            let base = (i * a_n + a) * nf * n;
            for cell in 0..n {
                let (z, y, x) = (cell / (h * w), (cell / w) % h, cell % w);
                let f = |k: usize| raw[base + k * n + cell];
                let centre = [
                    (x as f64 + sigmoid(f(0))) * s,
                    (y as f64 + sigmoid(f(1))) * s,
                    (z as f64 + sigmoid(f(2))) * s,
                ];
                let size = enc.anchors[a] * (f(3) as f64).clamp(-10.0, 10.0).exp();
                if boxes
                    .iter()
                    .any(|g| sphere_iou(centre, size, g.centre_vox, g.diameter_vox) > ignore_iou)
                {
                    t.noobj[(i * a_n + a) * n + cell] = 0.0;
                }
            }
        }
        // Positives.
        for g in boxes {
            let cell_xyz: Vec<usize> = (0..3)
                .map(|k| {
                    let lim = [w, h, d][k];
                    ((g.centre_vox[k] / s).floor().max(0.0) as usize).min(lim - 1)
                })
                .collect();
            let cell = (cell_xyz[2] * h + cell_xyz[1]) * w + cell_xyz[0];
            let a = enc.nearest_anchor(g.diameter_vox);
            let ia = (i * a_n + a) * n + cell;
            if t.obj[ia] == 0.0 {
                t.positives += 1;
            }
            t.obj[ia] = 1.0;
            t.noobj[ia] = 0.0;
            for (k, &cell_k) in cell_xyz.iter().enumerate() {
                let frac = (g.centre_vox[k] / s - cell_k as f64).clamp(0.0, 1.0);
                t.xyz[((i * a_n + a) * 3 + k) * n + cell] = frac as f32;
            }
            t.log_size[ia] = (g.diameter_vox / enc.anchors[a]).ln() as f32;
            let cls_base = (i * a_n + a) * c_n;
            for c in 0..c_n {
                t.class[(cls_base + c) * n + cell] = (c == g.class) as u8 as f32;
            }
        }
    }
    t
}
