//! The subtomogram classifier and segmenter of the domain-randomisation paper.
//!
//! - **Classifier** (DSRF3D-v2, AITom `dsrf3d_v2.py`): two 3×3×3 conv + ReLU at each of three
//!   levels (w, 2w, 4w channels; w = 32 in the paper) with a 2× max-pool after each, then fully
//!   connected layers (1024, 1024 in the paper) with dropout (0.7 in the paper), and log-softmax
//!   over the classes.
//! - **Segmenter**: a U-Net decoder on the classifier's features: 4 × (transposed conv + conv +
//!   ReLU), the first three upsampling 2× and taking the encoder's skip connection, the fourth at
//!   full resolution; then a 1×1 conv to one mask logit per class. Only the true class's mask is
//!   trained (binary cross-entropy), as in the paper.
//!
//! Two architectures share this code:
//! - `paper`: as above, every level at the box's resolution (40³, 20³, 10³).
//! - `efficient` (the default for CPU training): the same levels at half the resolution. The first
//!   convolution has stride 2 (40³ → 20³), the third level is not pooled (its 5³ output is the
//!   same size as the paper's flattened features), the decoder climbs back to 20³ with the skip
//!   connections, and a 2×2×2 stride-2 transposed convolution gives the full-resolution mask
//!   logits. No layer runs at 40³, which is where the paper's network spends most of its time.
//!
//! Boxes must be multiples of 8 (40³ by default). `width` scales the channels.

use crate::detector::Architecture;
use crate::fastconv::train::conv3_relu;
use crate::ops3d::max_pool3d_2;
use burn::nn::conv::{Conv3d, Conv3dConfig, ConvTranspose3d, ConvTranspose3dConfig};
use burn::nn::{Dropout, DropoutConfig, Initializer, Linear, LinearConfig, PaddingConfig3d};
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
    /// `paper` or `efficient` (half resolution inside).
    #[serde(default = "paper_architecture")]
    pub architecture: Architecture,
    /// Dropout probability after each hidden fully connected layer (0.7 in the paper).
    #[serde(default = "paper_dropout")]
    pub dropout: f64,
}

fn paper_architecture() -> Architecture {
    Architecture::Paper
}

fn paper_dropout() -> f64 {
    0.7
}

impl ClassifierShape {
    /// The paper's network for `classes` classes on 40³ boxes.
    pub fn paper(classes: usize) -> Self {
        ClassifierShape {
            box_size: 40,
            width: 32,
            hidden: 1024,
            classes,
            architecture: Architecture::Paper,
            dropout: 0.7,
        }
    }
}

/// He initialisation (normal, gain √2), which keeps the activations' variance through ReLU
/// layers. burn's default (uniform, gain 1/√3, as PyTorch's) shrinks it about threefold per
/// layer, so after ten layers the class outputs start out almost constant and the class loss
/// sat at ln C for hundreds of steps (measured; the masks, with skip connections, still learned).
fn he() -> Initializer {
    Initializer::KaimingNormal {
        gain: std::f64::consts::SQRT_2,
        fan_out_only: false,
    }
}

fn conv3(cin: usize, cout: usize, device: &Device) -> Conv3d {
    Conv3dConfig::new([cin, cout], [3, 3, 3])
        .with_padding(PaddingConfig3d::Explicit(1, 1, 1))
        .with_initializer(he())
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
    /// `paper`: 1×1 convolution to the mask logits.
    mask_head: Option<Conv3d>,
    /// `efficient`: 2×2×2 stride-2 transposed convolution to the mask logits.
    mask_up: Option<ConvTranspose3d>,
    shape_box: usize,
    classes: usize,
    efficient: bool,
}

/// [`ClassifierSegmenter::forward_inference`]'s result: the class log-probabilities, and what
/// the masks are made from.
#[derive(Debug, Clone)]
pub struct Inference {
    /// Log-probabilities of the classes, `[B, C]`.
    pub log_probs: Tensor<2>,
    decoded: Decoded,
}

/// The decoder's output: features before the mask head (the fast path) or all mask logits.
#[derive(Debug, Clone)]
enum Decoded {
    /// Channels-last `[B, n/2, n/2, n/2, width]`.
    Features(Tensor<5>),
    /// `[B, C, n, n, n]`.
    Masks(Tensor<5>),
}

/// What the network says about a batch of boxes.
#[derive(Debug, Clone)]
pub struct ClassifierOutput {
    /// Log-probabilities of the classes, `[B, C]`.
    pub log_probs: Tensor<2>,
    /// Mask logits, one channel per class, `[B, C, n, n, n]`.
    pub mask_logits: Tensor<5>,
}

fn up2(cin: usize, cout: usize, device: &Device) -> ConvTranspose3d {
    ConvTranspose3dConfig::new([cin, cout], [2, 2, 2])
        .with_stride([2, 2, 2])
        .with_initializer(he())
        .init(device)
}

impl ClassifierSegmenter {
    /// A freshly initialised network.
    pub fn new(s: ClassifierShape, device: &Device) -> Self {
        crate::param_ids::restart();
        crate::param_ids::numbered(Self::fresh(s, device))
    }

    /// The network as burn initialises it (parameter ids drawn at random).
    fn fresh(s: ClassifierShape, device: &Device) -> Self {
        assert!(
            s.box_size >= 8 && s.box_size.is_multiple_of(8),
            "box size {} must be a multiple of 8",
            s.box_size
        );
        let efficient = s.architecture == Architecture::Efficient;
        let w = s.width;
        let (c1, c2, c3) = (w, 2 * w, 4 * w);
        let stem = if efficient {
            Conv3dConfig::new([1, c1], [3, 3, 3])
                .with_stride([2, 2, 2])
                .with_padding(PaddingConfig3d::Explicit(1, 1, 1))
                .with_initializer(he())
                .init(device)
        } else {
            conv3(1, c1, device)
        };
        let enc = vec![
            stem,
            conv3(c1, c1, device),
            conv3(c1, c2, device),
            conv3(c2, c2, device),
            conv3(c2, c3, device),
            conv3(c3, c3, device),
        ];
        let flat = c3 * (s.box_size / 8).pow(3);
        let fc = vec![
            LinearConfig::new(flat, s.hidden)
                .with_initializer(he())
                .init(device),
            LinearConfig::new(s.hidden, s.hidden)
                .with_initializer(he())
                .init(device),
            LinearConfig::new(s.hidden, s.classes).init(device),
        ];
        let (up, dec, mask_head, mask_up) = if efficient {
            (
                vec![up2(c3, c2, device), up2(c2, c1, device)],
                vec![conv3(2 * c2, c2, device), conv3(2 * c1, c1, device)],
                None,
                Some(up2(c1, s.classes, device)),
            )
        } else {
            (
                vec![
                    up2(c3, c3, device),
                    up2(c3, c2, device),
                    up2(c2, c1, device),
                    ConvTranspose3dConfig::new([c1, c1], [3, 3, 3])
                        .with_padding([1, 1, 1])
                        .with_initializer(he())
                        .init(device),
                ],
                vec![
                    conv3(2 * c3, c3, device),
                    conv3(2 * c2, c2, device),
                    conv3(2 * c1, c1, device),
                    conv3(c1, c1, device),
                ],
                Some(Conv3dConfig::new([c1, s.classes], [1, 1, 1]).init(device)),
                None,
            )
        };
        ClassifierSegmenter {
            enc,
            fc,
            dropout: DropoutConfig::new(s.dropout).init(),
            up,
            dec,
            mask_head,
            mask_up,
            shape_box: s.box_size,
            classes: s.classes,
            efficient,
        }
    }

    /// Class log-probabilities and mask logits for boxes `[B, 1, n, n, n]`.
    pub fn forward(&self, x: Tensor<5>) -> ClassifierOutput {
        let [b, _, _, _, _] = x.dims();
        let mut skips = Vec::with_capacity(3);
        let mut y = x;
        for level in 0..3 {
            let stride = if self.efficient && level == 0 { 2 } else { 1 };
            y = conv3_relu(&self.enc[2 * level], y, stride);
            y = conv3_relu(&self.enc[2 * level + 1], y, 1);
            // `efficient` keeps its third level at 5³ (no pooling, no skip).
            if !(self.efficient && level == 2) {
                skips.push(y.clone());
                y = max_pool3d_2(y);
            }
        }
        // Classification branch.
        let flat: Tensor<2> = y.clone().reshape([b as i64, -1]);
        let h = self.dropout.forward(relu(self.fc[0].forward(flat)));
        let h = self.dropout.forward(relu(self.fc[1].forward(h)));
        let log_probs = log_softmax(self.fc[2].forward(h), 1);
        // Segmentation branch: up, join the skip of that level, convolve.
        for (level, skip) in skips.into_iter().rev().enumerate() {
            y = self.up[level].forward(y);
            y = conv3_relu(&self.dec[level], Tensor::cat(vec![y, skip], 1), 1);
        }
        let mask_logits = match (&self.mask_up, &self.mask_head) {
            (Some(up), _) => up.forward(y),
            (None, Some(head)) => {
                y = conv3_relu(&self.dec[3], self.up[3].forward(y), 1);
                head.forward(y)
            }
            (None, None) => unreachable!("one mask head is built"),
        };
        ClassifierOutput {
            log_probs,
            mask_logits,
        }
    }

    /// For inference: the class log-probabilities, and what [`Self::masks_of`] needs for one
    /// class's mask per box. `efficient` on the plain flex backend with AVX-512 runs
    /// channels-last through [`crate::fastconv`] (the fused convolution with bias and ReLU, max
    /// pooling and the 2×2×2 transposed convolutions as single passes); otherwise it is
    /// [`Self::forward`]. Dropout is off either way.
    pub fn forward_inference(&self, x: Tensor<5>) -> Inference {
        use crate::fastconv::{
            cat_channels_last, conv_transpose2_channels_last, conv3d_channels_last,
            max_pool2_channels_last, to_channels_first, to_channels_last,
        };
        let fast = self.efficient && crate::fastconv::fast_on(&x.device());
        if !fast {
            let out = self.forward(x);
            return Inference {
                log_probs: out.log_probs,
                decoded: Decoded::Masks(out.mask_logits),
            };
        }
        let [b, _, _, _, _] = x.dims();
        let conv = |c: &Conv3d, y: Tensor<5>, stride: usize| {
            let [cout, ..] = c.weight.dims();
            let bias = c
                .bias
                .as_ref()
                .map(|p| p.val())
                .unwrap_or_else(|| Tensor::zeros([cout], &y.device()));
            conv3d_channels_last(y, c.weight.val(), bias, stride, 1, Some(0.0), None)
        };
        let mut skips = Vec::with_capacity(2);
        let mut y = to_channels_last(x);
        for level in 0..3 {
            y = conv(&self.enc[2 * level], y, if level == 0 { 2 } else { 1 });
            y = conv(&self.enc[2 * level + 1], y, 1);
            if level < 2 {
                skips.push(y.clone());
                y = max_pool2_channels_last(y);
            }
        }
        // The fully connected layers read the features in channels-first order.
        let flat: Tensor<2> = to_channels_first(y.clone()).reshape([b as i64, -1]);
        let h = relu(self.fc[1].forward(relu(self.fc[0].forward(flat))));
        let log_probs = log_softmax(self.fc[2].forward(h), 1);
        for (level, skip) in skips.into_iter().rev().enumerate() {
            let u = &self.up[level];
            y = conv_transpose2_channels_last(y, u.weight.val(), u.bias.as_ref().map(|p| p.val()));
            y = conv(&self.dec[level], cat_channels_last(y, skip), 1);
        }
        Inference {
            log_probs,
            decoded: Decoded::Features(y),
        }
    }

    /// The mask logits of class `chosen[i]` for box i, `[B, n, n, n]`, from
    /// [`Self::forward_inference`]: only those channels of the mask head are computed.
    pub fn masks_of(&self, inference: Inference, chosen: &[usize]) -> Tensor<4> {
        match inference.decoded {
            Decoded::Features(y) => {
                let up = self.mask_up.as_ref().expect("features come from efficient");
                crate::fastconv::transposed_head_one_class(
                    y,
                    up.weight.val(),
                    up.bias.as_ref().map(|p| p.val()),
                    chosen,
                )
            }
            Decoded::Masks(m) => crate::fastconv::channel_of_each(m, 1, chosen),
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
