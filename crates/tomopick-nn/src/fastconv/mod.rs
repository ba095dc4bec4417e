//! A faster inference convolution for the flex CPU backend (issue 15): channels-last tensors,
//! batch norm folded, bias and LeakyReLU applied in the same pass, a register-blocked kernel
//! ([`direct`]) for AVX-512F and, on CPUs without it, AVX2 with FMA. It reaches burn through a
//! backend extension, so the networks stay ordinary burn modules; on any other device or CPU
//! (neither AVX-512F nor AVX2, autodiff, CUDA) the same functions compose burn's own operations,
//! with the same results to rounding.

mod avx2;
pub mod backward;
pub mod batch_norm;
pub mod direct;
pub mod layout;
pub mod train;

use burn::backend::{Flex, backend_extension, tensor::FloatTensor};
use burn::prelude::*;
use burn::tensor::activation::leaky_relu;
use burn::tensor::module::conv3d;
use burn::tensor::ops::ConvOptions;
use direct::ConvShape;

/// The extension: one fused convolution on channels-last tensors.
#[backend_extension(Flex)]
pub trait FusedConvBackend: burn::backend::Backend {
    /// `x` `[batch, D, H, W, cin]`, `weight` `[cout, cin, k, k, k]`, `bias` `[cout]`; LeakyReLU
    /// with `slope` when `leaky`. Returns `[batch, D', H', W', cout]`.
    fn fused_conv3d_channels_last(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        stride: usize,
        pad: usize,
        leaky: bool,
        slope: f32,
    ) -> FloatTensor<Self>;
    /// [`fused_conv3d_channels_last`](Self::fused_conv3d_channels_last), then `+ skip` (a
    /// residual connection, shaped like the output).
    #[allow(clippy::too_many_arguments)]
    fn fused_conv3d_channels_last_add(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        skip: FloatTensor<Self>,
        stride: usize,
        pad: usize,
        leaky: bool,
        slope: f32,
    ) -> FloatTensor<Self>;
    /// 2× max pooling of a channels-last `[batch, D, H, W, C]` tensor with even D, H, W.
    fn max_pool2_channels_last(x: FloatTensor<Self>) -> FloatTensor<Self>;
    /// `blocks` `[b, d, h, w, cout·8]` (per input voxel, its 2×2×2 output block, ordered channel,
    /// kd, kh, kw) put in place as `[b, 2d, 2h, 2w, cout]`, plus `bias` `[cout]`.
    fn blocks_to_channels_last(
        blocks: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        dims: [usize; 5],
    ) -> FloatTensor<Self>;
    /// A 2×2×2 stride-2 transposed convolution of `features` `[n, d, h, w, cin]` (`weight`
    /// `[cin, classes, 2, 2, 2]`, `bias` `[classes]`) to the output channel `chosen[i]` of each
    /// item i only: `[n, 2d, 2h, 2w]`.
    fn transposed_head_one_class(
        features: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        chosen: Vec<usize>,
    ) -> FloatTensor<Self>;
    /// Two channels-last tensors of the same batch and extent joined along their channels.
    fn cat_channels_last(a: FloatTensor<Self>, b: FloatTensor<Self>) -> FloatTensor<Self>;
    /// Nearest-neighbour 2× upsampling of a channels-last `[batch, D, H, W, C]` tensor.
    fn upsample2_channels_last(x: FloatTensor<Self>) -> FloatTensor<Self>;
}

impl FusedConvBackend for Flex {
    fn fused_conv3d_channels_last(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        stride: usize,
        pad: usize,
        leaky: bool,
        slope: f32,
    ) -> FloatTensor<Self> {
        flex_conv(x, weight, bias, None, stride, pad, leaky.then_some(slope))
    }
    fn fused_conv3d_channels_last_add(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        skip: FloatTensor<Self>,
        stride: usize,
        pad: usize,
        leaky: bool,
        slope: f32,
    ) -> FloatTensor<Self> {
        flex_conv(
            x,
            weight,
            bias,
            Some(skip),
            stride,
            pad,
            leaky.then_some(slope),
        )
    }
    fn max_pool2_channels_last(x: FloatTensor<Self>) -> FloatTensor<Self> {
        let x = x.to_contiguous();
        let [b, d, h, w, c] = dims5(&x);
        let out = layout::max_pool2_channels_last(x.storage::<f32>(), [b, d, h, w, c]);
        flex_tensor(out, vec![b, d / 2, h / 2, w / 2, c])
    }
    fn blocks_to_channels_last(
        blocks: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        [b, d, h, w, c]: [usize; 5],
    ) -> FloatTensor<Self> {
        let (blocks, bias) = (blocks.to_contiguous(), bias.to_contiguous());
        let out = layout::blocks_to_channels_last(
            blocks.storage::<f32>(),
            bias.storage::<f32>(),
            [b, d, h, w, c],
        );
        flex_tensor(out, vec![b, 2 * d, 2 * h, 2 * w, c])
    }
    fn transposed_head_one_class(
        features: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        chosen: Vec<usize>,
    ) -> FloatTensor<Self> {
        let (f, weight, bias) = (
            features.to_contiguous(),
            weight.to_contiguous(),
            bias.to_contiguous(),
        );
        let [n, d, h, w, c] = dims5(&f);
        let out = layout::transposed_head_one_class(
            f.storage::<f32>(),
            weight.storage::<f32>(),
            bias.storage::<f32>(),
            &chosen,
            [n, d, h, w, c],
        );
        flex_tensor(out, vec![n, 2 * d, 2 * h, 2 * w])
    }
    fn cat_channels_last(a: FloatTensor<Self>, b: FloatTensor<Self>) -> FloatTensor<Self> {
        let (a, b) = (a.to_contiguous(), b.to_contiguous());
        let mut shape = a.layout().shape().to_vec();
        let last = shape.len() - 1;
        let (ca, cb) = (shape[last], b.layout().shape()[last]);
        let voxels = shape[..last].iter().product();
        let out = layout::cat_channels(a.storage::<f32>(), b.storage::<f32>(), voxels, ca, cb);
        shape[last] = ca + cb;
        flex_tensor(out, shape)
    }
    fn upsample2_channels_last(x: FloatTensor<Self>) -> FloatTensor<Self> {
        let x = x.to_contiguous();
        let [b, d, h, w, c] = dims5(&x);
        let out = layout::upsample2(x.storage::<f32>(), [b, d, h, w, c]);
        flex_tensor(out, vec![b, 2 * d, 2 * h, 2 * w, c])
    }
}

/// The extents of a rank-5 flex tensor.
fn dims5(x: &FloatTensor<Flex>) -> [usize; 5] {
    let s = x.layout().shape();
    [s[0], s[1], s[2], s[3], s[4]]
}

/// A contiguous f32 flex tensor of `shape` holding `data`.
fn flex_tensor(data: Vec<f32>, shape: Vec<usize>) -> FloatTensor<Flex> {
    use burn::backend::flex::{FlexTensor, Layout};
    FlexTensor::new(
        burn::backend::Bytes::from_elems(data),
        Layout::contiguous(burn::backend::Shape::from(shape)),
        burn::backend::DType::F32,
    )
}

/// The flex side of the extension: contiguous f32 storage in, the kernel, a tensor out.
fn flex_conv(
    x: FloatTensor<Flex>,
    weight: FloatTensor<Flex>,
    bias: FloatTensor<Flex>,
    skip: Option<FloatTensor<Flex>>,
    stride: usize,
    pad: usize,
    slope: Option<f32>,
) -> FloatTensor<Flex> {
    let x = x.to_contiguous();
    let weight = weight.to_contiguous();
    let bias = bias.to_contiguous();
    let skip = skip.map(|r| r.to_contiguous());
    let xs = x.layout().shape();
    let ws = weight.layout().shape();
    let shape = ConvShape {
        batch: xs[0],
        cin: xs[4],
        cout: ws[0],
        input: [xs[1], xs[2], xs[3]],
        kernel: ws[2],
        stride,
        pad,
    };
    let out = direct::conv3d_channels_last(
        x.storage::<f32>(),
        weight.storage::<f32>(),
        bias.storage::<f32>(),
        &shape,
        slope,
        skip.as_ref().map(|r| r.storage::<f32>()),
    );
    let [d, h, w] = shape.output();
    flex_tensor(out, vec![shape.batch, d, h, w, shape.cout])
}

/// Whether [`conv3d_channels_last`] takes the fast kernel on `device`: the plain (not autodiff)
/// flex backend on a CPU with AVX-512F or AVX2 + FMA. Set `TOMOPICK_FAST_CONV=0` to compare
/// against burn's.
pub fn fast_on(device: &Device) -> bool {
    matches!(device.as_dispatch(), burn::backend::DispatchDevice::Flex(_)) && fast_kernels()
}

/// Whether this CPU runs the fast kernels (AVX-512F, or AVX2 with FMA) and
/// `TOMOPICK_FAST_CONV=0` does not turn them off: inference ([`fast_on`]) and training
/// ([`train::fast_train_on`]) alike.
pub(crate) fn fast_kernels() -> bool {
    direct::available() && std::env::var("TOMOPICK_FAST_CONV").map_or(true, |v| v != "0")
}

/// A convolution of cubic kernel `k = weight.dims()[2]`, `stride`, zero padding `pad`, plus
/// `bias`, then LeakyReLU(`slope`) when given, then `+ skip` when given (a residual connection
/// shaped like the output), on channels-last tensors (`[batch, D, H, W, C]`).
pub fn conv3d_channels_last(
    x: Tensor<5>,
    weight: Tensor<5>,
    bias: Tensor<1>,
    stride: usize,
    pad: usize,
    slope: Option<f32>,
    skip: Option<Tensor<5>>,
) -> Tensor<5> {
    if fast_on(&x.device()) {
        type D = burn::backend::Dispatch;
        let (leaky, a) = (slope.is_some(), slope.unwrap_or(1.0));
        let (x, w, b) = (
            x.into_dispatch(),
            weight.into_dispatch(),
            bias.into_dispatch(),
        );
        let out = match skip {
            None => {
                <D as FusedConvBackend>::fused_conv3d_channels_last(x, w, b, stride, pad, leaky, a)
            }
            Some(r) => <D as FusedConvBackend>::fused_conv3d_channels_last_add(
                x,
                w,
                b,
                r.into_dispatch(),
                stride,
                pad,
                leaky,
                a,
            ),
        };
        return Tensor::from_dispatch(out);
    }
    let options = ConvOptions::new([stride; 3], [pad; 3], [1; 3], 1);
    let y = conv3d(to_channels_first(x), weight, Some(bias), options);
    let y = match slope {
        Some(a) => leaky_relu(y, a as f64),
        None => y,
    };
    let y = to_channels_last(y);
    match skip {
        Some(r) => y + r,
        None => y,
    }
}

/// `[batch, C, D, H, W]` → `[batch, D, H, W, C]`.
pub fn to_channels_last(x: Tensor<5>) -> Tensor<5> {
    x.permute([0, 2, 3, 4, 1])
}

/// `[batch, D, H, W, C]` → `[batch, C, D, H, W]`.
pub fn to_channels_first(x: Tensor<5>) -> Tensor<5> {
    x.permute([0, 4, 1, 2, 3])
}

/// Nearest-neighbour 2× upsampling of a channels-last `[batch, D, H, W, C]` tensor.
pub fn upsample2_channels_last(x: Tensor<5>) -> Tensor<5> {
    if fast_on(&x.device()) {
        type D = burn::backend::Dispatch;
        return Tensor::from_dispatch(<D as FusedConvBackend>::upsample2_channels_last(
            x.into_dispatch(),
        ));
    }
    let [b, d, h, w, c] = x.dims();
    let x: Tensor<6> = x
        .reshape([b * d, h, 1, w, 1, c])
        .expand([b * d, h, 2, w, 2, c]);
    let x: Tensor<4> = x
        .reshape([b, d, 1, 4 * h * w * c])
        .expand([b, d, 2, 4 * h * w * c]);
    x.reshape([b, 2 * d, 2 * h, 2 * w, c])
}

/// 2× max pooling of a channels-last `[batch, D, H, W, C]` tensor (even D, H, W): one pass over
/// contiguous runs on the fast path, burn's reductions otherwise.
pub fn max_pool2_channels_last(x: Tensor<5>) -> Tensor<5> {
    let [b, d, h, w, c] = x.dims();
    assert!(
        d % 2 == 0 && h % 2 == 0 && w % 2 == 0,
        "max_pool2_channels_last needs even sizes, got {d}×{h}×{w}"
    );
    if fast_on(&x.device()) {
        type D = burn::backend::Dispatch;
        return Tensor::from_dispatch(<D as FusedConvBackend>::max_pool2_channels_last(
            x.into_dispatch(),
        ));
    }
    let x: Tensor<6> = x.reshape([b * d / 2, 2, h / 2, 2, w / 2, 2 * c]);
    let x: Tensor<4> = x
        .max_dim(3)
        .max_dim(1)
        .reshape([b * d / 2 * h / 2, w / 2, 2, c]);
    x.max_dim(2).reshape([b, d / 2, h / 2, w / 2, c])
}

/// A transposed convolution of kernel 2, stride 2 and no padding (each input voxel paints its
/// own 2×2×2 block) on a channels-last `[batch, D, H, W, cin]` tensor: one matrix product
/// `[voxels, cin] × [cin, cout·8]`, then the blocks put in place. `weight` is burn's
/// `[cin, cout, 2, 2, 2]`. Returns `[batch, 2D, 2H, 2W, cout]`.
pub fn conv_transpose2_channels_last(
    x: Tensor<5>,
    weight: Tensor<5>,
    bias: Option<Tensor<1>>,
) -> Tensor<5> {
    let [b, d, h, w, cin] = x.dims();
    let [wcin, cout, k0, k1, k2] = weight.dims();
    assert!(
        wcin == cin && [k0, k1, k2] == [2, 2, 2],
        "conv_transpose2_channels_last: input has {cin} channels, weight is {:?}",
        weight.dims()
    );
    let device = x.device();
    if fast_on(&device) {
        // A 1×1×1 convolution to cout·8 channels (the fused kernel; burn's matrix product runs
        // these tall, thin shapes at 6-13 GFLOP/s), then the blocks put in place.
        let taps = weight
            .reshape([cin, cout * 8])
            .transpose()
            .reshape([cout * 8, cin, 1, 1, 1]);
        let zero = Tensor::zeros([cout * 8], &device);
        let y = conv3d_channels_last(x, taps, zero, 1, 0, None, None);
        type D = burn::backend::Dispatch;
        let bias = bias.unwrap_or_else(|| Tensor::zeros([cout], &device));
        return Tensor::from_dispatch(<D as FusedConvBackend>::blocks_to_channels_last(
            y.into_dispatch(),
            bias.into_dispatch(),
            [b, d, h, w, cout],
        ));
    }
    let y = x
        .reshape([b * d * h * w, cin])
        .matmul(weight.reshape([cin, cout * 8]));
    let y: Tensor<8> = y.reshape([b, d, h, w, cout, 2, 2, 2]);
    let y: Tensor<5> = y
        .permute([0, 1, 5, 2, 6, 3, 7, 4])
        .reshape([b, 2 * d, 2 * h, 2 * w, cout]);
    match bias {
        Some(bias) => y + bias.reshape([1, 1, 1, 1, cout]),
        None => y,
    }
}

/// A 2×2×2 stride-2 transposed convolution head (`weight` `[cin, classes, 2, 2, 2]`) evaluated
/// for one output channel per batch item, `chosen[i]` for item i, on channels-last `features`
/// `[n, d, h, w, cin]`: `[n, 2d, 2h, 2w]`. A classifier needs only the chosen class's mask.
pub fn transposed_head_one_class(
    features: Tensor<5>,
    weight: Tensor<5>,
    bias: Option<Tensor<1>>,
    chosen: &[usize],
) -> Tensor<4> {
    let [n, ..] = features.dims();
    let [_, classes, ..] = weight.dims();
    assert_eq!(chosen.len(), n, "one class per batch item");
    let device = features.device();
    let bias = bias.unwrap_or_else(|| Tensor::zeros([classes], &device));
    if fast_on(&device) {
        type D = burn::backend::Dispatch;
        return Tensor::from_dispatch(<D as FusedConvBackend>::transposed_head_one_class(
            features.into_dispatch(),
            weight.into_dispatch(),
            bias.into_dispatch(),
            chosen.to_vec(),
        ));
    }
    channel_of_each(
        conv_transpose2_channels_last(features, weight, Some(bias)),
        4,
        chosen,
    )
}

/// Channel `chosen[i]` of batch item i of `t`, where `axis` holds the channels (1 channels-first,
/// 4 channels-last); that axis is removed: `[B, …]` of the other three extents.
pub fn channel_of_each(t: Tensor<5>, axis: usize, chosen: &[usize]) -> Tensor<4> {
    let dims = t.dims();
    let (n, c) = (dims[0], dims[axis]);
    assert_eq!(chosen.len(), n, "one channel per batch item");
    let mut hot = vec![0f32; n * c];
    for (i, &k) in chosen.iter().enumerate() {
        hot[i * c + k] = 1.0;
    }
    let mut shape = [n, 1, 1, 1, 1];
    shape[axis] = c;
    let hot = Tensor::<5>::from_data(TensorData::new(hot, shape), &t.device());
    let rest: Vec<usize> = (1..5).filter(|&a| a != axis).map(|a| dims[a]).collect();
    (t * hot)
        .sum_dim(axis)
        .reshape([n, rest[0], rest[1], rest[2]])
}

/// Two channels-last `[batch, D, H, W, C]` tensors of the same extent joined along their channels
/// (`a`'s first): one pass on the fast path, burn's `cat` otherwise.
pub fn cat_channels_last(a: Tensor<5>, b: Tensor<5>) -> Tensor<5> {
    let (da, db) = (a.dims(), b.dims());
    assert_eq!(da[..4], db[..4], "cat_channels_last: extents differ");
    if fast_on(&a.device()) {
        type D = burn::backend::Dispatch;
        return Tensor::from_dispatch(<D as FusedConvBackend>::cat_channels_last(
            a.into_dispatch(),
            b.into_dispatch(),
        ));
    }
    Tensor::cat(vec![a, b], 4)
}
