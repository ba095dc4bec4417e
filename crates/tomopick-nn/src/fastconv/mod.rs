//! A faster inference convolution for the flex CPU backend (issue 15): channels-last tensors,
//! batch norm folded, bias and LeakyReLU applied in the same pass, an AVX-512 register-blocked
//! kernel ([`direct`]). It reaches burn through a backend extension, so the networks stay
//! ordinary burn modules; on any other device or CPU (no AVX-512F, autodiff, CUDA) the same
//! functions compose burn's own operations, with the same results to rounding.

pub mod direct;

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
    use burn::backend::flex::{FlexTensor, Layout};
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
    FlexTensor::new(
        burn::backend::Bytes::from_elems(out),
        Layout::contiguous(burn::backend::Shape::from(vec![
            shape.batch,
            d,
            h,
            w,
            shape.cout,
        ])),
        burn::backend::DType::F32,
    )
}

/// Whether [`conv3d_channels_last`] takes the fast kernel on `device`: the plain (not autodiff)
/// flex backend on a CPU with AVX-512F. Set `TOMOPICK_FAST_CONV=0` to compare against burn's.
pub fn fast_on(device: &Device) -> bool {
    matches!(device.as_dispatch(), burn::backend::DispatchDevice::Flex(_))
        && direct::available()
        && std::env::var("TOMOPICK_FAST_CONV").map_or(true, |v| v != "0")
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
    let [b, d, h, w, c] = x.dims();
    let x: Tensor<6> = x
        .reshape([b * d, h, 1, w, 1, c])
        .expand([b * d, h, 2, w, 2, c]);
    let x: Tensor<4> = x
        .reshape([b, d, 1, 4 * h * w * c])
        .expand([b, d, 2, 4 * h * w * c]);
    x.reshape([b, 2 * d, 2 * h, 2 * w, c])
}
