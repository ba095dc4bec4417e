//! Scores of a subtomogram classifier/segmenter: classification accuracy (overall and per true
//! class) with a confusion matrix, and segmentation pixel accuracy and mIoU.
//!
//! Segmentation is scored on label volumes: in each box, a voxel's true label is the box's true
//! class where the particle's mask is set and background elsewhere; its predicted label is the
//! predicted class where the predicted mask is set. Voxels of all boxes are pooled. Pixel
//! accuracy is the share of voxels whose labels agree; mIoU is the mean, over the labels present
//! in the truth or the prediction (background included), of |pred ∩ true| / |pred ∪ true|.

use crate::confusion::Confusion;
use serde::Serialize;
use std::fmt::Write;

/// Accumulates boxes one at a time.
#[derive(Debug, Clone)]
pub struct ClassificationEval {
    classes: Vec<String>,
    confusion: Confusion,
    right: Vec<usize>,
    total: Vec<usize>,
    /// Voxel counts `[true label][predicted label]`, label 0 = background, k + 1 = class k.
    voxels: Vec<Vec<u64>>,
}

/// One class's classification figures.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ClassAccuracy {
    /// Class name.
    pub class: String,
    /// Boxes of this true class.
    pub boxes: usize,
    /// Share of them classified right (recall).
    pub accuracy: Option<f64>,
    /// IoU of this class's voxel label.
    pub iou: Option<f64>,
}

/// The figures for a set of boxes.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ClassificationReport {
    /// Boxes scored.
    pub boxes: usize,
    /// Share classified right.
    pub accuracy: f64,
    /// Share of voxels labelled right.
    pub pixel_accuracy: f64,
    /// Mean IoU over labels (background included).
    pub miou: f64,
    /// IoU of the background label.
    pub background_iou: Option<f64>,
    /// Per true class.
    pub per_class: Vec<ClassAccuracy>,
    /// Counts `[true class][predicted class]`.
    pub confusion: Confusion,
}

impl ClassificationEval {
    /// An empty tally for these classes.
    pub fn new(classes: &[String]) -> Self {
        let n = classes.len();
        ClassificationEval {
            classes: classes.to_vec(),
            confusion: Confusion::default(),
            right: vec![0; n],
            total: vec![0; n],
            voxels: vec![vec![0; n + 1]; n + 1],
        }
    }

    /// Adds one box: its true and predicted classes (indices into the class list), and its
    /// true and predicted masks (same length; may be empty to score the class only).
    pub fn add(&mut self, truth: usize, predicted: usize, true_mask: &[bool], pred_mask: &[bool]) {
        assert_eq!(true_mask.len(), pred_mask.len(), "masks differ in size");
        self.total[truth] += 1;
        self.right[truth] += usize::from(truth == predicted);
        self.confusion
            .add(&self.classes[truth], Some(&self.classes[predicted]));
        for (&t, &p) in true_mask.iter().zip(pred_mask) {
            let tl = if t { truth + 1 } else { 0 };
            let pl = if p { predicted + 1 } else { 0 };
            self.voxels[tl][pl] += 1;
        }
    }

    /// The figures so far.
    pub fn report(&self) -> ClassificationReport {
        let n = self.classes.len();
        let boxes: usize = self.total.iter().sum();
        let right: usize = self.right.iter().sum();
        let all: u64 = self.voxels.iter().flatten().sum();
        let diag: u64 = (0..=n).map(|l| self.voxels[l][l]).sum();
        let iou = |l: usize| -> Option<f64> {
            let tp = self.voxels[l][l];
            let t: u64 = self.voxels[l].iter().sum();
            let p: u64 = self.voxels.iter().map(|r| r[l]).sum();
            let union = t + p - tp;
            (union > 0).then(|| tp as f64 / union as f64)
        };
        let ious: Vec<f64> = (0..=n).filter_map(iou).collect();
        let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
        ClassificationReport {
            boxes,
            accuracy: ratio(right as f64, boxes as f64),
            pixel_accuracy: ratio(diag as f64, all as f64),
            miou: ratio(ious.iter().sum(), ious.len() as f64),
            background_iou: iou(0),
            per_class: (0..n)
                .map(|k| ClassAccuracy {
                    class: self.classes[k].clone(),
                    boxes: self.total[k],
                    accuracy: (self.total[k] > 0)
                        .then(|| self.right[k] as f64 / self.total[k] as f64),
                    iou: iou(k + 1),
                })
                .collect(),
            confusion: self.confusion.clone(),
        }
    }
}

impl ClassificationReport {
    /// The report as Markdown: the figures, a per-class table and the confusion matrix.
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "| boxes | accuracy | pixel accuracy | mIoU |");
        let _ = writeln!(out, "|---:|---:|---:|---:|");
        let _ = writeln!(
            out,
            "| {} | {:.3} | {:.3} | {:.3} |",
            self.boxes, self.accuracy, self.pixel_accuracy, self.miou
        );
        let f = |v: Option<f64>| v.map(|x| format!("{x:.3}")).unwrap_or_else(|| "–".into());
        let _ = writeln!(out, "\n| class | boxes | accuracy | IoU |");
        let _ = writeln!(out, "|---|---:|---:|---:|");
        for c in &self.per_class {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                c.class,
                c.boxes,
                f(c.accuracy),
                f(c.iou)
            );
        }
        let _ = writeln!(out, "| (background) | | | {} |", f(self.background_iou));
        let _ = writeln!(
            out,
            "\nConfusion (rows: true class; columns: predicted class)\n"
        );
        out.push_str(&self.confusion.to_markdown("true \\ predicted"));
        out
    }

    /// The report as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("reports serialise")
    }
}
