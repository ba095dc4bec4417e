//! The detector's loss, as in the detector paper: box (smooth L1 on the cell offsets and the
//! log size) × 5, confidence (binary cross-entropy; background × 0.1), class × 5, each summed
//! and divided by the batch size.
//!
//! One change from the reference code: the class term is the cross-entropy of the softmax
//! (what the decoder's softmax implies), not a binary cross-entropy applied to softmax outputs.
//! Confidence uses the numerically stable form on logits.

use crate::targets::Targets;
use burn::prelude::*;
use burn::tensor::TensorData;
use burn::tensor::activation::{log_sigmoid, log_softmax, sigmoid};

/// Loss weights.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LossWeights {
    /// Box terms (paper: 5).
    pub box_: f64,
    /// Confidence of positives (paper: 1).
    pub obj: f64,
    /// Confidence of background (paper: 0.1).
    pub noobj: f64,
    /// Class term (paper: 5).
    pub class: f64,
}

impl Default for LossWeights {
    fn default() -> Self {
        LossWeights {
            box_: 5.0,
            obj: 1.0,
            noobj: 0.1,
            class: 5.0,
        }
    }
}

/// The loss and its parts (each already weighted and divided by the batch size).
#[derive(Debug, Clone)]
pub struct Loss {
    /// The sum of the parts, to back-propagate.
    pub total: Tensor<1>,
    /// Box part.
    pub box_: Tensor<1>,
    /// Confidence part.
    pub conf: Tensor<1>,
    /// Class part.
    pub class: Tensor<1>,
}

fn smooth_l1(d: Tensor<4>) -> Tensor<4> {
    let a = d.abs();
    a.clone().clamp_max(1.0).powf_scalar(2.0).mul_scalar(0.5) + (a - 1.0).clamp_min(0.0)
}

/// The loss of raw outputs `[B, A·(5+C), d, h, w]` against `targets`.
pub fn detection_loss(raw: Tensor<5>, t: &Targets, w: &LossWeights) -> Loss {
    let dev = raw.device();
    let [b, _, _, _, _] = raw.dims();
    let (a, c, n) = (t.anchors, t.classes, t.cells);
    let raw: Tensor<4> = raw.reshape([b, a, 5 + c, n]);
    let load = |v: &[f32], f: usize| {
        Tensor::<4>::from_data(TensorData::new(v.to_vec(), [b, a, f, n]), &dev)
    };
    let obj = load(&t.obj, 1);
    let noobj = load(&t.noobj, 1);
    let xyz = sigmoid(raw.clone().narrow(2, 0, 3));
    let size = raw.clone().narrow(2, 3, 1);
    let conf = raw.clone().narrow(2, 4, 1);
    let logits = raw.narrow(2, 5, c);
    let scale = 1.0 / b as f64;
    let box_ = ((smooth_l1(xyz - load(&t.xyz, 3)) * obj.clone()).sum()
        + (smooth_l1(size - load(&t.log_size, 1)) * obj.clone()).sum())
    .mul_scalar(w.box_ * scale);
    let conf_loss = (log_sigmoid(conf.clone()) * obj.clone())
        .sum()
        .mul_scalar(-w.obj * scale)
        + (log_sigmoid(conf.neg()) * noobj)
            .sum()
            .mul_scalar(-w.noobj * scale);
    let class = (log_softmax(logits, 2) * load(&t.class, c) * obj)
        .sum()
        .mul_scalar(-w.class * scale);
    Loss {
        total: box_.clone() + conf_loss.clone() + class.clone(),
        box_,
        conf: conf_loss,
        class,
    }
}
