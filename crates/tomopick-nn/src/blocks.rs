//! Building blocks: conv + batch norm + LeakyReLU(0.1), and the Darknet residual block.

use burn::module::Param;
use burn::nn::conv::{Conv3d, Conv3dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, PaddingConfig3d};
use burn::prelude::*;
use burn::tensor::activation::leaky_relu;

/// A 3D convolution with batch norm and LeakyReLU(0.1); padding k/2 keeps the size at stride 1.
#[derive(Module, Debug)]
pub struct ConvBn {
    conv: Conv3d,
    bn: BatchNorm,
    cin: usize,
    cout: usize,
    kernel: usize,
    stride: usize,
    /// Batch norm folded into the convolution (inference only).
    folded: bool,
}

impl ConvBn {
    /// `cin → cout` channels, cubic kernel `k`, stride `s`.
    pub fn new(cin: usize, cout: usize, k: usize, s: usize, device: &Device) -> Self {
        let p = k / 2;
        let conv = Conv3dConfig::new([cin, cout], [k, k, k])
            .with_stride([s, s, s])
            .with_padding(PaddingConfig3d::Explicit(p, p, p))
            .with_bias(false)
            .init(device);
        let mut bn = BatchNormConfig::new(cout).init(device);
        bn.running_mean = crate::param_ids::running_state(bn.running_mean.value());
        bn.running_var = crate::param_ids::running_state(bn.running_var.value());
        ConvBn {
            conv,
            bn,
            cin,
            cout,
            kernel: k,
            stride: s,
            folded: false,
        }
    }
    /// Applies the block.
    pub fn forward(&self, x: Tensor<5>) -> Tensor<5> {
        if self.folded {
            leaky_relu(self.conv.forward(x), 0.1)
        } else {
            let y = crate::fastconv::train::conv3d_train(
                x,
                self.conv.weight.val(),
                self.stride,
                self.kernel / 2,
            );
            let y = crate::fastconv::train::batch_norm_leaky(&self.bn, y, 0.1);
            // burn leaves a training step's running statistics pending on its thread until the
            // next step reads them; a checkpoint saved in between would miss the last update
            // (and a resumed run would then differ from an unbroken one). Merge them now.
            self.bn.running_mean.value_sync();
            self.bn.running_var.value_sync();
            y
        }
    }
    /// For inference on channels-last tensors (`[batch, D, H, W, C]`), after
    /// [`fold_batch_norm`](Self::fold_batch_norm): one fused convolution + bias + LeakyReLU.
    pub fn forward_channels_last(&self, x: Tensor<5>) -> Tensor<5> {
        self.forward_channels_last_add(x, None)
    }
    /// [`forward_channels_last`](Self::forward_channels_last), then `+ skip` in the same pass.
    pub fn forward_channels_last_add(&self, x: Tensor<5>, skip: Option<Tensor<5>>) -> Tensor<5> {
        assert!(
            self.folded,
            "forward_channels_last needs folded batch norms"
        );
        let bias = self.conv.bias.as_ref().expect("a folded block has a bias");
        crate::fastconv::conv3d_channels_last(
            x,
            self.conv.weight.val(),
            bias.val(),
            self.stride,
            self.kernel / 2,
            Some(0.1),
            skip,
        )
    }
    /// Whether the batch norm is folded into the convolution.
    pub fn is_folded(&self) -> bool {
        self.folded
    }
    /// For inference: the batch norm's running statistics and affine map folded into the
    /// convolution's weights and a bias (one pass over the activations fewer). Not for training.
    pub fn fold_batch_norm(mut self) -> Self {
        if self.folded {
            return self;
        }
        let scale = self.bn.gamma.val()
            / self
                .bn
                .running_var
                .value()
                .add_scalar(self.bn.epsilon)
                .sqrt();
        let bias = self.bn.beta.val() - self.bn.running_mean.value() * scale.clone();
        let weight = self.conv.weight.val() * scale.reshape([self.cout, 1, 1, 1, 1]);
        self.conv.weight = Param::from_tensor(weight);
        self.conv.bias = Some(Param::from_tensor(bias));
        self.folded = true;
        self
    }
    /// Multiply-adds per output voxel.
    pub fn macs_per_output(&self) -> usize {
        self.cin * self.cout * self.kernel.pow(3)
    }
    /// The stride.
    pub fn stride(&self) -> usize {
        self.stride
    }
    /// Output channels.
    pub fn out_channels(&self) -> usize {
        self.cout
    }
}

/// Darknet residual block: 1×1 to C/2, 3×3 back to C, plus the input.
#[derive(Module, Debug)]
pub struct Residual {
    reduce: ConvBn,
    expand: ConvBn,
}

impl Residual {
    /// A block of `c` channels.
    pub fn new(c: usize, device: &Device) -> Self {
        Residual {
            reduce: ConvBn::new(c, c / 2, 1, 1, device),
            expand: ConvBn::new(c / 2, c, 3, 1, device),
        }
    }
    /// Applies the block.
    pub fn forward(&self, x: Tensor<5>) -> Tensor<5> {
        let y = self.expand.forward(self.reduce.forward(x.clone()));
        x + y
    }
    /// Multiply-adds per voxel.
    pub fn macs_per_voxel(&self) -> usize {
        self.reduce.macs_per_output() + self.expand.macs_per_output()
    }
    /// [`forward`](Self::forward) on channels-last tensors, folded blocks only.
    pub fn forward_channels_last(&self, x: Tensor<5>) -> Tensor<5> {
        self.expand
            .forward_channels_last_add(self.reduce.forward_channels_last(x.clone()), Some(x))
    }
    /// Folds the batch norms (inference only).
    pub fn fold_batch_norm(self) -> Self {
        Residual {
            reduce: self.reduce.fold_batch_norm(),
            expand: self.expand.fold_batch_norm(),
        }
    }
}

/// An optional strided conv followed by residual blocks.
#[derive(Module, Debug)]
pub struct Stage {
    entry: ConvBn,
    blocks: Vec<Residual>,
}

impl Stage {
    /// `entry` then `n` residual blocks at its output width.
    pub fn new(entry: ConvBn, n: usize, device: &Device) -> Self {
        let c = entry.out_channels();
        Stage {
            entry,
            blocks: (0..n).map(|_| Residual::new(c, device)).collect(),
        }
    }
    /// Applies the stage.
    pub fn forward(&self, x: Tensor<5>) -> Tensor<5> {
        self.blocks
            .iter()
            .fold(self.entry.forward(x), |y, b| b.forward(y))
    }
    /// [`forward`](Self::forward) on channels-last tensors, folded blocks only.
    pub fn forward_channels_last(&self, x: Tensor<5>) -> Tensor<5> {
        self.blocks
            .iter()
            .fold(self.entry.forward_channels_last(x), |y, b| {
                b.forward_channels_last(y)
            })
    }
    /// Folds the batch norms (inference only).
    pub fn fold_batch_norm(self) -> Self {
        Stage {
            entry: self.entry.fold_batch_norm(),
            blocks: self
                .blocks
                .into_iter()
                .map(Residual::fold_batch_norm)
                .collect(),
        }
    }
    /// Multiply-adds, for an input of `voxels_in` voxels; returns (macs, voxels out).
    pub fn macs(&self, voxels_in: f64) -> (f64, f64) {
        let v = voxels_in / (self.entry.stride().pow(3) as f64);
        let m = v
            * (self.entry.macs_per_output()
                + self
                    .blocks
                    .iter()
                    .map(Residual::macs_per_voxel)
                    .sum::<usize>()) as f64;
        (m, v)
    }
}

/// A chain of ConvBn blocks at one resolution.
#[derive(Module, Debug)]
pub struct Chain {
    layers: Vec<ConvBn>,
}

impl Chain {
    /// Blocks from `(cin, cout, k)` triples at stride 1.
    pub fn new(spec: &[(usize, usize, usize)], device: &Device) -> Self {
        Chain {
            layers: spec
                .iter()
                .map(|&(a, b, k)| ConvBn::new(a, b, k, 1, device))
                .collect(),
        }
    }
    /// Applies the chain.
    pub fn forward(&self, x: Tensor<5>) -> Tensor<5> {
        self.layers.iter().fold(x, |y, l| l.forward(y))
    }
    /// [`forward`](Self::forward) on channels-last tensors, folded blocks only.
    pub fn forward_channels_last(&self, x: Tensor<5>) -> Tensor<5> {
        self.layers
            .iter()
            .fold(x, |y, l| l.forward_channels_last(y))
    }
    /// Multiply-adds per voxel.
    pub fn macs_per_voxel(&self) -> usize {
        self.layers.iter().map(ConvBn::macs_per_output).sum()
    }
    /// Folds the batch norms (inference only).
    pub fn fold_batch_norm(self) -> Self {
        Chain {
            layers: self
                .layers
                .into_iter()
                .map(ConvBn::fold_batch_norm)
                .collect(),
        }
    }
}
