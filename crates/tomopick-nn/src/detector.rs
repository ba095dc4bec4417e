//! The one-stage 3D detector: a stride-4 output grid with A anchors × (x, y, z, size,
//! confidence, C classes), as in the detector paper.
//!
//! Two architectures share the encoding:
//! - `paper`: the reference code's Darknet-53-style network (full-resolution stage of 32
//!   channels with 4 residual blocks; stages of 8 blocks at 1/2, 1/4, 1/8 and 1/16; a YOLOv3
//!   neck back to 1/4), without the 1/8 and 1/16 heads it computes but never uses. Its last layer
//!   is a plain 1×1 convolution with bias, not conv + BN + LeakyReLU as in the reference code,
//!   whose activation clips the negative logits the sigmoid needs.
//! - `efficient`: the same encoding at about 1/25 of the multiply-adds per voxel. Nothing runs at
//!   full resolution: a strided 3×3 convolution goes straight to 16 channels at 1/2, then 32
//!   at 1/4 and 64 at 1/8 with one or two residual blocks each, one upsampling step back to 1/4
//!   and a 3×3 head of 32 channels. Sizes must be multiples of 8.
//! - `efficient_deep`: `efficient` with four residual blocks at 1/8 instead of two, plus a 1/16
//!   level (a strided convolution to 128 channels, two residual blocks, a 1×1 convolution to 64
//!   and one to 32, upsampled and joined to the 1/8 map, as the paper's neck does from its
//!   deepest level): 2,398 multiply-adds per voxel (`efficient` 1,993, `paper` 195,000).
//!   Sizes must be multiples of 16.
//! - `efficient_wide`: `efficient` with every channel count doubled (32 at 1/2, 64 at 1/4, 128 at
//!   1/8, a head of 64): 7,810 multiply-adds per voxel, about 3.9 × `efficient`, for the
//!   question whether the detector's capacity limits it on other simulators' tomograms (issue
//!   19). Sizes must be multiples of 8.

use crate::blocks::{Chain, ConvBn, Stage};
use crate::ops3d::upsample3d_2;
use burn::nn::conv::{Conv3d, Conv3dConfig};
use burn::prelude::*;

/// Which network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Architecture {
    /// The reference code's network.
    Paper,
    /// The CPU-efficient design.
    Efficient,
    /// `efficient` with four residual blocks at 1/8 instead of two, and a 1/16 level (128
    /// channels) with a neck back from it: more depth and context for 20 % more multiply-adds.
    EfficientDeep,
    /// `efficient` with every channel count doubled: about 3.9 × its multiply-adds.
    EfficientWide,
}

impl Architecture {
    /// The name a config file gives it (`architecture = "..."`).
    pub fn name(self) -> &'static str {
        match self {
            Architecture::Paper => "paper",
            Architecture::Efficient => "efficient",
            Architecture::EfficientDeep => "efficient_deep",
            Architecture::EfficientWide => "efficient_wide",
        }
    }

    /// Whether only the detector is built on it (the classifier takes `paper` or `efficient`).
    pub fn detector_only(self) -> bool {
        matches!(
            self,
            Architecture::EfficientDeep | Architecture::EfficientWide
        )
    }

    /// Input sizes must be multiples of this (the deepest level's stride).
    pub fn size_multiple(self) -> usize {
        match self {
            Architecture::Paper | Architecture::EfficientDeep => 16,
            Architecture::Efficient | Architecture::EfficientWide => 8,
        }
    }
}

/// The detector network.
#[derive(Module, Debug)]
pub struct Detector {
    /// Stages from the input down to 1/4 resolution.
    down: Vec<Stage>,
    to_eighth: Stage,
    to_sixteenth: Option<Stage>,
    neck_deep: Option<Chain>,
    up_deep: Option<ConvBn>,
    neck_eighth: Chain,
    up_eighth: ConvBn,
    neck_quarter: Chain,
    head_conv: ConvBn,
    head: Conv3d,
    anchors: usize,
    classes: usize,
}

impl Detector {
    /// A network for `anchors` anchors and `classes` classes.
    pub fn new(arch: Architecture, anchors: usize, classes: usize, device: &Device) -> Self {
        crate::param_ids::restart();
        crate::param_ids::numbered(Self::fresh(arch, anchors, classes, device))
    }

    /// The network as burn initialises it (parameter ids drawn at random).
    fn fresh(arch: Architecture, anchors: usize, classes: usize, device: &Device) -> Self {
        let out = anchors * (5 + classes);
        let d = device;
        match arch {
            Architecture::Paper => Detector {
                down: vec![
                    Stage::new(ConvBn::new(1, 32, 3, 1, d), 4, d),
                    Stage::new(ConvBn::new(32, 64, 3, 2, d), 8, d),
                    Stage::new(ConvBn::new(64, 128, 3, 2, d), 8, d),
                ],
                to_eighth: Stage::new(ConvBn::new(128, 256, 3, 2, d), 8, d),
                to_sixteenth: Some(Stage::new(ConvBn::new(256, 512, 3, 2, d), 8, d)),
                neck_deep: Some(Chain::new(
                    &[
                        (512, 256, 1),
                        (256, 512, 3),
                        (512, 256, 1),
                        (256, 512, 3),
                        (512, 256, 1),
                    ],
                    d,
                )),
                up_deep: Some(ConvBn::new(256, 128, 1, 1, d)),
                neck_eighth: Chain::new(
                    &[
                        (384, 128, 1),
                        (128, 256, 3),
                        (256, 128, 1),
                        (128, 256, 3),
                        (256, 128, 1),
                    ],
                    d,
                ),
                up_eighth: ConvBn::new(128, 64, 1, 1, d),
                neck_quarter: Chain::new(
                    &[
                        (192, 64, 1),
                        (64, 128, 3),
                        (128, 64, 1),
                        (64, 128, 3),
                        (128, 64, 1),
                    ],
                    d,
                ),
                head_conv: ConvBn::new(64, 128, 3, 1, d),
                head: Conv3dConfig::new([128, out], [1, 1, 1]).init(d),
                anchors,
                classes,
            },
            Architecture::Efficient => Self::efficient(16, anchors, classes, d),
            Architecture::EfficientWide => Self::efficient(32, anchors, classes, d),
            Architecture::EfficientDeep => Detector {
                to_eighth: Stage::new(ConvBn::new(32, 64, 3, 2, d), 4, d),
                to_sixteenth: Some(Stage::new(ConvBn::new(64, 128, 3, 2, d), 2, d)),
                neck_deep: Some(Chain::new(&[(128, 64, 1)], d)),
                up_deep: Some(ConvBn::new(64, 32, 1, 1, d)),
                neck_eighth: Chain::new(&[(96, 64, 1)], d),
                ..Detector::new(Architecture::Efficient, anchors, classes, device)
            },
        }
    }

    /// `efficient` with `w` channels at 1/2 (16; `efficient_wide` 32): 2w at 1/4, 4w at 1/8, a
    /// head of 2w.
    fn efficient(w: usize, anchors: usize, classes: usize, d: &Device) -> Self {
        Detector {
            down: vec![
                Stage::new(ConvBn::new(1, w, 3, 2, d), 1, d),
                Stage::new(ConvBn::new(w, 2 * w, 3, 2, d), 2, d),
            ],
            to_eighth: Stage::new(ConvBn::new(2 * w, 4 * w, 3, 2, d), 2, d),
            to_sixteenth: None,
            neck_deep: None,
            up_deep: None,
            neck_eighth: Chain::new(&[], d),
            up_eighth: ConvBn::new(4 * w, 2 * w, 1, 1, d),
            neck_quarter: Chain::new(&[(4 * w, 2 * w, 1)], d),
            head_conv: ConvBn::new(2 * w, 2 * w, 3, 1, d),
            head: Conv3dConfig::new([2 * w, anchors * (5 + classes)], [1, 1, 1]).init(d),
            anchors,
            classes,
        }
    }

    /// Raw outputs `[batch, A·(5+C), D/4, H/4, W/4]` for input `[batch, 1, D, H, W]`
    /// (sizes divisible by [`Architecture::size_multiple`]).
    pub fn forward(&self, x: Tensor<5>) -> Tensor<5> {
        let quarter = self.down.iter().fold(x, |y, s| s.forward(y));
        let eighth = self.to_eighth.forward(quarter.clone());
        let eighth = match (&self.to_sixteenth, &self.neck_deep, &self.up_deep) {
            (Some(s16), Some(neck), Some(up)) => {
                let deep = neck.forward(s16.forward(eighth.clone()));
                Tensor::cat(vec![upsample3d_2(up.forward(deep)), eighth], 1)
            }
            _ => eighth,
        };
        let up = upsample3d_2(self.up_eighth.forward(self.neck_eighth.forward(eighth)));
        let q = self.neck_quarter.forward(Tensor::cat(vec![up, quarter], 1));
        self.head.forward(self.head_conv.forward(q))
    }

    /// Inference: after [`fold_batch_norm`](Self::fold_batch_norm), on the flex CPU backend with
    /// AVX-512F, the network runs channels-last through the fused convolution of
    /// [`crate::fastconv`]; otherwise this is [`forward`](Self::forward). Same outputs to rounding.
    pub fn forward_inference(&self, x: Tensor<5>) -> Tensor<5> {
        if !(self.head_conv.is_folded() && crate::fastconv::fast_on(&x.device())) {
            return self.forward(x);
        }
        use crate::fastconv::{to_channels_first, to_channels_last, upsample2_channels_last};
        let x = to_channels_last(x);
        let quarter = self.down.iter().fold(x, |y, s| s.forward_channels_last(y));
        let eighth = self.to_eighth.forward_channels_last(quarter.clone());
        let eighth = match (&self.to_sixteenth, &self.neck_deep, &self.up_deep) {
            (Some(s16), Some(neck), Some(up)) => {
                let deep = neck.forward_channels_last(s16.forward_channels_last(eighth.clone()));
                let deep = upsample2_channels_last(up.forward_channels_last(deep));
                crate::fastconv::cat_channels_last(deep, eighth)
            }
            _ => eighth,
        };
        let up = self
            .up_eighth
            .forward_channels_last(self.neck_eighth.forward_channels_last(eighth));
        let q = self
            .neck_quarter
            .forward_channels_last(crate::fastconv::cat_channels_last(
                upsample2_channels_last(up),
                quarter,
            ));
        let bias = self.head.bias.as_ref().expect("the head has a bias").val();
        let raw = crate::fastconv::conv3d_channels_last(
            self.head_conv.forward_channels_last(q),
            self.head.weight.val(),
            bias,
            1,
            0,
            None,
            None,
        );
        to_channels_first(raw)
    }

    /// The same network with every batch norm folded into its convolution: identical outputs
    /// in inference, fewer passes over memory. Not for training.
    pub fn fold_batch_norm(self) -> Self {
        Detector {
            down: self.down.into_iter().map(Stage::fold_batch_norm).collect(),
            to_eighth: self.to_eighth.fold_batch_norm(),
            to_sixteenth: self.to_sixteenth.map(Stage::fold_batch_norm),
            neck_deep: self.neck_deep.map(Chain::fold_batch_norm),
            up_deep: self.up_deep.map(ConvBn::fold_batch_norm),
            neck_eighth: self.neck_eighth.fold_batch_norm(),
            up_eighth: self.up_eighth.fold_batch_norm(),
            neck_quarter: self.neck_quarter.fold_batch_norm(),
            head_conv: self.head_conv.fold_batch_norm(),
            head: self.head,
            anchors: self.anchors,
            classes: self.classes,
        }
    }

    /// Anchors per grid cell.
    pub fn anchors(&self) -> usize {
        self.anchors
    }
    /// Number of classes.
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// Forward multiply-adds for a cube of `side³` voxels (×2 for FLOPs).
    pub fn macs(&self, side: usize) -> f64 {
        let full = (side as f64).powi(3);
        let (mut total, mut v4) = (0.0, full);
        for s in &self.down {
            let (m, v) = s.macs(v4);
            total += m;
            v4 = v;
        }
        let (m3, v8) = self.to_eighth.macs(v4);
        total += m3;
        if let (Some(s16), Some(neck), Some(up)) =
            (&self.to_sixteenth, &self.neck_deep, &self.up_deep)
        {
            let (m4, v16) = s16.macs(v8);
            total += m4 + v16 * (neck.macs_per_voxel() + up.macs_per_output()) as f64;
        }
        total += v8 * (self.neck_eighth.macs_per_voxel() + self.up_eighth.macs_per_output()) as f64;
        let out = self.anchors * (5 + self.classes);
        total += v4
            * (self.neck_quarter.macs_per_voxel()
                + self.head_conv.macs_per_output()
                + self.head_conv.out_channels() * out) as f64;
        total
    }
}
