//! The subtomogram classifier and segmenter of the domain-randomisation paper.
//!
//! - **Classifier** (DSRF3D-v2, AITom `dsrf3d_v2.py`): two 3×3×3 conv + ReLU at each of three
//!   levels (w, 2w, 4w channels; w = 32 in the paper) with a 2× max-pool after each, then fully
//!   connected layers (1024, 1024 in the paper) with dropout 0.7, and log-softmax over the classes.
//! - **Segmenter**: a U-Net decoder on the classifier's features: 4 × (transposed conv + conv +
//!   ReLU), the first three upsampling 2× and taking the encoder's skip connection, the fourth at
//!   full resolution; then a 1×1 conv to one mask logit per class. Only the true class's mask is
//!   trained (binary cross-entropy), as in the paper.
//!
//! Boxes must be multiples of 8 (40³ by default). `width` scales the channels, so a CPU-sized
//! variant trains on the same code.

use crate::ops3d::max_pool3d_2;
use burn::nn::conv::{Conv3d, Conv3dConfig, ConvTranspose3d, ConvTranspose3dConfig};
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig, PaddingConfig3d};
use burn::prelude::*;
use burn::tensor::activation::{log_softmax, relu};

/// Sizes of a classifier/segmenter.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ClassifierShape {
    /// Box edge in voxels (a multiple of 8).
    pub box_size: usize,
    /// Channels of the first level (32 in the paper).
    pub width: usize,
    /// Units of the two hidden fully connected layers (1024 in the paper).
    pub hidden: usize,
    /// Number of classes.
    pub classes: usize,
}

impl ClassifierShape {
    /// The paper's network for `classes` classes on 40³ boxes.
    pub fn paper(classes: usize) -> Self {
        ClassifierShape {
            box_size: 40,
            width: 32,
            hidden: 1024,
            classes,
        }
    }
}

fn conv3(cin: usize, cout: usize, device: &Device) -> Conv3d {
    Conv3dConfig::new([cin, cout], [3, 3, 3])
        .with_padding(PaddingConfig3d::Explicit(1, 1, 1))
        .init(device)
}

/// The classifier with its segmentation decoder.
#[derive(Module, Debug)]
pub struct ClassifierSegmenter {
    enc: Vec<Conv3d>,
    fc: Vec<Linear>,
    dropout: Dropout,
    up: Vec<ConvTranspose3d>,
    dec: Vec<Conv3d>,
    mask_head: Conv3d,
    shape_box: usize,
    classes: usize,
}

/// What the network says about a batch of boxes.
#[derive(Debug, Clone)]
pub struct ClassifierOutput {
    /// Log-probabilities of the classes, `[B, C]`.
    pub log_probs: Tensor<2>,
    /// Mask logits, one channel per class, `[B, C, n, n, n]`.
    pub mask_logits: Tensor<5>,
}

impl ClassifierSegmenter {
    /// A freshly initialised network.
    pub fn new(s: ClassifierShape, device: &Device) -> Self {
        assert!(
            s.box_size >= 8 && s.box_size.is_multiple_of(8),
            "box size {} must be a multiple of 8",
            s.box_size
        );
        let w = s.width;
        let (c1, c2, c3) = (w, 2 * w, 4 * w);
        let enc = vec![
            conv3(1, c1, device),
            conv3(c1, c1, device),
            conv3(c1, c2, device),
            conv3(c2, c2, device),
            conv3(c2, c3, device),
            conv3(c3, c3, device),
        ];
        let flat = c3 * (s.box_size / 8).pow(3);
        let fc = vec![
            LinearConfig::new(flat, s.hidden).init(device),
            LinearConfig::new(s.hidden, s.hidden).init(device),
            LinearConfig::new(s.hidden, s.classes).init(device),
        ];
        let up2 = |cin: usize, cout: usize| {
            ConvTranspose3dConfig::new([cin, cout], [2, 2, 2])
                .with_stride([2, 2, 2])
                .init(device)
        };
        let up = vec![
            up2(c3, c3),
            up2(c3, c2),
            up2(c2, c1),
            ConvTranspose3dConfig::new([c1, c1], [3, 3, 3])
                .with_padding([1, 1, 1])
                .init(device),
        ];
        let dec = vec![
            conv3(2 * c3, c3, device),
            conv3(2 * c2, c2, device),
            conv3(2 * c1, c1, device),
            conv3(c1, c1, device),
        ];
        ClassifierSegmenter {
            enc,
            fc,
            dropout: DropoutConfig::new(0.7).init(),
            up,
            dec,
            mask_head: Conv3dConfig::new([c1, s.classes], [1, 1, 1]).init(device),
            shape_box: s.box_size,
            classes: s.classes,
        }
    }

    /// Class log-probabilities and mask logits for boxes `[B, 1, n, n, n]`.
    pub fn forward(&self, x: Tensor<5>) -> ClassifierOutput {
        let [b, _, _, _, _] = x.dims();
        let mut skips = Vec::with_capacity(3);
        let mut y = x;
        for level in 0..3 {
            y = relu(self.enc[2 * level].forward(y));
            y = relu(self.enc[2 * level + 1].forward(y));
            skips.push(y.clone());
            y = max_pool3d_2(y);
        }
        // Classification branch.
        let flat: Tensor<2> = y.clone().reshape([b as i64, -1]);
        let h = self.dropout.forward(relu(self.fc[0].forward(flat)));
        let h = self.dropout.forward(relu(self.fc[1].forward(h)));
        let log_probs = log_softmax(self.fc[2].forward(h), 1);
        // Segmentation branch.
        for level in 0..3 {
            let skip = skips[2 - level].clone();
            y = self.up[level].forward(y);
            y = relu(self.dec[level].forward(Tensor::cat(vec![y, skip], 1)));
        }
        y = relu(self.dec[3].forward(self.up[3].forward(y)));
        ClassifierOutput {
            log_probs,
            mask_logits: self.mask_head.forward(y),
        }
    }

    /// Box edge in voxels.
    pub fn box_size(&self) -> usize {
        self.shape_box
    }
    /// Number of classes.
    pub fn classes(&self) -> usize {
        self.classes
    }
}
