//! The fast convolution for training (issue 15): the same kernel as inference (AVX-512 or AVX2)
//! for the forward pass, and [`backward`](super::backward)'s kernels for the gradients of the input and
//! the weights, reached through a backend extension with a hand-written backward pass for
//! burn's autodiff backend. The networks keep burn's channels-first layout here; each call
//! moves its tensors to channels-last and back (a copy each way). Batch norm in training and
//! the LeakyReLU after it are one operation of their own ([`batch_norm_leaky`]); everything else
//! stays burn's own operations.

use super::backward::{conv3d_backward_input, conv3d_backward_weight};
pub use super::batch_norm::batch_norm_leaky;
use super::batch_norm::{BatchNormLeakyBackward, bn_forward, stats_tensor};
use super::direct::{self, ConvShape, SendPtr};
use super::flex_tensor;
use burn::backend::autodiff::NodeId;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::{Autodiff, Flex, backend_extension, tensor::FloatTensor};
use burn::prelude::*;
use burn::tensor::module::conv3d;
use burn::tensor::ops::ConvOptions;
use rayon::prelude::*;
use std::sync::Arc;

/// The extension: a convolution without bias on channels-first tensors, differentiable.
#[backend_extension(Flex, Autodiff)]
pub trait TrainConvBackend: burn::backend::Backend {
    /// `x` `[batch, cin, D, H, W]`, `weight` `[cout, cin, k, k, k]`, zero padding `pad` on every
    /// side: `[batch, cout, D', H', W']`.
    fn conv3d_ncdhw(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        stride: usize,
        pad: usize,
    ) -> FloatTensor<Self>;
    /// LeakyReLU: `x` where positive, `slope · x` elsewhere, in one pass (burn's runs a
    /// comparison and a masked select forward and backward).
    fn leaky_relu_fast(x: FloatTensor<Self>, slope: f32) -> FloatTensor<Self>;
    /// Batch norm of `x` `[batch, C, ...]` with the batch's own statistics (`gamma`, `beta`
    /// `[C]`), then LeakyReLU(`slope`), in one pass forward and two backward; also returns the
    /// statistics `[2, C]` (mean, biased variance; not differentiable) for the running averages.
    fn batch_norm_leaky_train(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
        slope: f32,
    ) -> (FloatTensor<Self>, FloatTensor<Self>);
}

impl TrainConvBackend for Flex {
    fn conv3d_ncdhw(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        stride: usize,
        pad: usize,
    ) -> FloatTensor<Self> {
        forward(x, weight, stride, pad).0
    }
    fn leaky_relu_fast(x: FloatTensor<Self>, slope: f32) -> FloatTensor<Self> {
        let x = x.to_contiguous();
        let shape = x.layout().shape().to_vec();
        let xs = x.storage::<f32>();
        flex_tensor(scaled_where_negative(xs, xs, slope), shape)
    }
    fn batch_norm_leaky_train(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
        slope: f32,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let (y, m) = bn_forward(x, &gamma, &beta, epsilon, slope);
        (y, stats_tensor(&m))
    }
}

/// `values`, times `slope` wherever `signs` is negative: LeakyReLU of `x` is
/// `scaled_where_negative(x, x, slope)`, its input gradient `scaled_where_negative(g, x, slope)`.
fn scaled_where_negative(values: &[f32], signs: &[f32], slope: f32) -> Vec<f32> {
    let mut out = values.to_vec();
    out.par_chunks_mut(1 << 16)
        .zip(signs.par_chunks(1 << 16))
        .for_each(|(d, x)| scale_where_negative(d, x, slope));
    out
}

/// `d[i] *= slope` where `x[i] < 0` (AVX-512 where the CPU has it: the signs are random, so a
/// branch per value mispredicts half the time).
fn scale_where_negative(d: &mut [f32], x: &[f32], slope: f32) {
    assert_eq!(d.len(), x.len());
    #[allow(unused_mut)] // set only where the AVX-512 pass exists
    let mut done = 0;
    #[cfg(target_arch = "x86_64")]
    if direct::isa() == Some(direct::Isa::Avx512) {
        done = d.len() / 16 * 16;
        // SAFETY: AVX-512F is present; the loop reads and writes whole registers inside both
        // slices, the scalar loop below does the rest.
        unsafe {
            use std::arch::x86_64::*;
            let (s, zero) = (_mm512_set1_ps(slope), _mm512_setzero_ps());
            for i in (0..done).step_by(16) {
                let xv = _mm512_loadu_ps(x.as_ptr().add(i));
                let neg = _mm512_cmp_ps_mask::<_CMP_LT_OQ>(xv, zero);
                let dv = _mm512_loadu_ps(d.as_ptr().add(i));
                _mm512_storeu_ps(d.as_mut_ptr().add(i), _mm512_mask_mul_ps(dv, neg, dv, s));
            }
        }
    }
    // Without a branch, so that the compiler vectorises it.
    for (d, x) in d[done..].iter_mut().zip(&x[done..]) {
        *d *= if *x < 0.0 { slope } else { 1.0 };
    }
}

/// The gradient of [`TrainConvBackend::leaky_relu_fast`]: the output's, times the slope where
/// the input was negative.
#[derive(Debug)]
struct LeakyBackward;

impl Backward<Flex, 1> for LeakyBackward {
    type State = (NodeId, f32);

    fn backward(
        self,
        ops: Ops<Self::State, 1>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let [node_x] = ops.parents;
        let grad = grads.consume::<Flex>(&ops.node).to_contiguous();
        let (x_state, slope) = ops.state;
        let Some(node) = node_x else { return };
        let x = checkpointer
            .retrieve_node_output::<FloatTensor<Flex>>(x_state)
            .to_contiguous();
        let dx = scaled_where_negative(grad.storage::<f32>(), x.storage::<f32>(), slope);
        grads.register::<Flex>(node.id, flex_tensor(dx, x.layout().shape().to_vec()));
    }
}

/// The forward convolution; also returns its channels-last input, which the backward pass needs.
fn forward(
    x: FloatTensor<Flex>,
    weight: FloatTensor<Flex>,
    stride: usize,
    pad: usize,
) -> (FloatTensor<Flex>, Vec<f32>, ConvShape) {
    let (x, weight) = (x.to_contiguous(), weight.to_contiguous());
    let s = shape_of(&x, &weight, stride, pad);
    let xl = to_channels_last(x.storage::<f32>(), s.batch, s.cin, s.input);
    let zero = vec![0.0; s.cout];
    let y = direct::conv3d_channels_last(&xl, weight.storage::<f32>(), &zero, &s, None, None);
    let out = s.output();
    let y = to_channels_first(&y, s.batch, s.cout, out);
    (
        flex_tensor(y, vec![s.batch, s.cout, out[0], out[1], out[2]]),
        xl,
        s,
    )
}

/// The gradients of [`TrainConvBackend::conv3d_ncdhw`] with respect to its input and weights;
/// the state holds the input as the forward pass made it channels-last, and the weights.
#[derive(Debug)]
struct ConvBackward;

impl Backward<Flex, 2> for ConvBackward {
    type State = (Arc<Vec<f32>>, FloatTensor<Flex>, ConvShape);

    fn backward(
        self,
        ops: Ops<Self::State, 2>,
        grads: &mut Gradients,
        _checkpointer: &mut Checkpointer,
    ) {
        let [node_x, node_w] = ops.parents;
        let grad = grads.consume::<Flex>(&ops.node).to_contiguous();
        let (xl, w, s) = ops.state;
        let gl = to_channels_last(grad.storage::<f32>(), s.batch, s.cout, s.output());
        if let Some(node) = node_w {
            let dw = conv3d_backward_weight(&xl, &gl, &s);
            grads.register::<Flex>(node.id, flex_tensor(dw, w.layout().shape().to_vec()));
        }
        if let Some(node) = node_x {
            let dx = conv3d_backward_input(&gl, w.storage::<f32>(), &s);
            let dx = to_channels_first(&dx, s.batch, s.cin, s.input);
            let [d, h, wd] = s.input;
            grads.register::<Flex>(node.id, flex_tensor(dx, vec![s.batch, s.cin, d, h, wd]));
        }
    }
}

impl<C: CheckpointStrategy> TrainConvBackend for Autodiff<Flex, C> {
    fn conv3d_ncdhw(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        stride: usize,
        pad: usize,
    ) -> FloatTensor<Self> {
        match ConvBackward
            .prepare::<C>([x.node(), weight.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let w = weight.primitive().clone().to_contiguous();
                let (y, xl, s) = forward(x.primitive().clone(), w.clone(), stride, pad);
                prep.finish((Arc::new(xl), w, s), y)
            }
            OpsKind::UnTracked(prep) => prep.finish(Flex::conv3d_ncdhw(
                x.into_primitive(),
                weight.into_primitive(),
                stride,
                pad,
            )),
        }
    }
    fn leaky_relu_fast(x: FloatTensor<Self>, slope: f32) -> FloatTensor<Self> {
        match LeakyBackward
            .prepare::<C>([x.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(mut prep) => {
                let x_state = prep.checkpoint(&x);
                let y = Flex::leaky_relu_fast(x.primitive().clone(), slope);
                prep.finish((x_state, slope), y)
            }
            OpsKind::UnTracked(prep) => {
                prep.finish(Flex::leaky_relu_fast(x.into_primitive(), slope))
            }
        }
    }
    fn batch_norm_leaky_train(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
        slope: f32,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        // The statistics leave as a fresh, untracked tensor (burn's batch_norm_train does the same).
        type Out<C> = FloatTensor<Autodiff<Flex, C>>;
        match BatchNormLeakyBackward
            .prepare::<C>([x.node(), gamma.node(), beta.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(mut prep) => {
                let x_state = prep.checkpoint(&x);
                let (g, b) = (gamma.primitive().clone(), beta.primitive().clone());
                let (y, m) = bn_forward(x.primitive().clone(), &g, &b, epsilon, slope);
                let stats = stats_tensor(&m);
                let g = g.to_contiguous();
                let b = b.to_contiguous();
                let y = prep.finish((x_state, g, b, Arc::new(m), epsilon, slope), y);
                (y, Out::<C>::new(stats))
            }
            OpsKind::UnTracked(prep) => {
                let (y, m) = bn_forward(
                    x.primitive().clone(),
                    gamma.primitive(),
                    beta.primitive(),
                    epsilon,
                    slope,
                );
                (prep.finish(y), Out::<C>::new(stats_tensor(&m)))
            }
        }
    }
}

/// The shape of a convolution of `x` `[batch, cin, D, H, W]` by `weight` `[cout, cin, k, k, k]`.
fn shape_of(
    x: &FloatTensor<Flex>,
    weight: &FloatTensor<Flex>,
    stride: usize,
    pad: usize,
) -> ConvShape {
    let (xs, ws) = (x.layout().shape(), weight.layout().shape());
    ConvShape {
        batch: xs[0],
        cin: xs[1],
        cout: ws[0],
        input: [xs[2], xs[3], xs[4]],
        kernel: ws[2],
        stride,
        pad,
    }
}

/// Voxels per block of the layout transposes: each block's values for every channel fit in L1.
const BLOCK: usize = 16;

/// `[batch, c, D, H, W]` → `[batch, D, H, W, c]`: one task per `(batch, z)` plane, in blocks of
/// voxels (a block's channels-last values are contiguous; each channel's run of it too).
fn to_channels_last(x: &[f32], batch: usize, c: usize, [d, h, w]: [usize; 3]) -> Vec<f32> {
    let plane = h * w;
    let n_out = batch * d * plane * c;
    // Not zeroed first (that was 1-2 % of a training step): every value is written below.
    let mut out = Vec::<f32>::with_capacity(n_out);
    out.spare_capacity_mut()[..n_out]
        .par_chunks_mut(plane * c)
        .enumerate()
        .for_each(|(bz, dst)| {
            let (b, z) = (bz / d, bz % d);
            for v0 in (0..plane).step_by(BLOCK) {
                let n = BLOCK.min(plane - v0);
                for ch in 0..c {
                    let src = &x[((b * c + ch) * d + z) * plane + v0..][..n];
                    for (i, &value) in src.iter().enumerate() {
                        dst[(v0 + i) * c + ch].write(value);
                    }
                }
            }
        });
    // SAFETY: the tasks above wrote every (plane, voxel, channel) of the n_out values.
    unsafe { out.set_len(n_out) };
    out
}

/// `[batch, D, H, W, c]` → `[batch, c, D, H, W]`: one task per `(batch, z)` plane (reading it
/// once), in blocks of voxels.
fn to_channels_first(x: &[f32], batch: usize, c: usize, [d, h, w]: [usize; 3]) -> Vec<f32> {
    let plane = h * w;
    let n_out = batch * c * d * plane;
    assert_eq!(x.len(), n_out, "input length");
    // Not zeroed first: every value is written below.
    let mut out = Vec::<f32>::with_capacity(n_out);
    let ptr = SendPtr(out.as_mut_ptr());
    x.par_chunks(plane * c).enumerate().for_each(|(bz, src)| {
        // Moves the whole SendPtr (Send) into the task, not its raw-pointer field alone.
        #[allow(clippy::redundant_locals)]
        let ptr = ptr;
        let (b, z) = (bz / d, bz % d);
        for v0 in (0..plane).step_by(BLOCK) {
            let n = BLOCK.min(plane - v0);
            for ch in 0..c {
                let at = ((b * c + ch) * d + z) * plane + v0;
                for i in 0..n {
                    // SAFETY: `at + i` indexes channel ch of plane (b, z), which only this task
                    // writes, inside `out` (batch·c·d·plane values).
                    unsafe { ptr.0.add(at + i).write(src[(v0 + i) * c + ch]) };
                }
            }
        }
    });
    // SAFETY: the tasks above wrote every (batch, channel, plane, voxel) of the n_out values (one
    // task per input plane of `plane·c` values, `x` holding exactly n_out: asserted first).
    unsafe { out.set_len(n_out) };
    out
}

/// Whether [`conv3d_train`] takes the fast kernels on `device`: flex, with or without autodiff,
/// on a CPU with AVX-512F or AVX2 + FMA. `TOMOPICK_FAST_CONV=0` runs burn's convolution instead.
pub fn fast_train_on(device: &Device) -> bool {
    use burn::backend::DispatchDevice;
    let flex = match device.as_dispatch() {
        DispatchDevice::Autodiff(inner) => matches!(**inner, DispatchDevice::Flex(_)),
        other => matches!(other, DispatchDevice::Flex(_)),
    };
    flex && super::fast_kernels()
}

/// A convolution without bias of channels-first `x` (`[batch, cin, D, H, W]`) by `weight`
/// (`[cout, cin, k, k, k]`), `stride` and zero padding `pad`, differentiable: the fast kernels
/// where [`fast_train_on`], burn's `conv3d` otherwise (the same result to rounding).
pub fn conv3d_train(x: Tensor<5>, weight: Tensor<5>, stride: usize, pad: usize) -> Tensor<5> {
    if fast_train_on(&x.device()) {
        type D = burn::backend::Dispatch;
        return Tensor::from_dispatch(<D as TrainConvBackend>::conv3d_ncdhw(
            x.into_dispatch(),
            weight.into_dispatch(),
            stride,
            pad,
        ));
    }
    conv3d(
        x,
        weight,
        None,
        ConvOptions::new([stride; 3], [pad; 3], [1; 3], 1),
    )
}

/// LeakyReLU(`slope`), differentiable: one pass forward and one backward where
/// [`fast_train_on`], burn's `leaky_relu` otherwise.
pub fn leaky_relu(x: Tensor<5>, slope: f32) -> Tensor<5> {
    if fast_train_on(&x.device()) {
        type D = burn::backend::Dispatch;
        return Tensor::from_dispatch(<D as TrainConvBackend>::leaky_relu_fast(
            x.into_dispatch(),
            slope,
        ));
    }
    burn::tensor::activation::leaky_relu(x, slope as f64)
}

/// `conv` (a 3³ convolution at `stride` with padding 1, and a bias) then ReLU, differentiable:
/// the classifier's convolutions, on the fast kernels where [`fast_train_on`].
pub fn conv3_relu(conv: &burn::nn::conv::Conv3d, x: Tensor<5>, stride: usize) -> Tensor<5> {
    if !fast_train_on(&x.device()) {
        return burn::tensor::activation::relu(conv.forward(x));
    }
    let weight = conv.weight.val();
    let cout = weight.dims()[0];
    let y = conv3d_train(x, weight, stride, 1);
    let y = match &conv.bias {
        Some(b) => y + b.val().reshape([1, cout, 1, 1, 1]),
        None => y,
    };
    leaky_relu(y, 0.0)
}
