//! The fused channels-last inference convolution (issue 15) against a plain loop and against
//! burn's own convolution, and whole detectors against their unfused forward pass.

use burn::prelude::*;
use burn::tensor::Distribution;
use tomopick_nn::fastconv::direct::{ConvShape, Isa, available, conv3d_channels_last_on};
use tomopick_nn::{Architecture, Detector};

/// The convolution by its definition, channels-last, in f64.
fn by_definition(x: &[f32], w: &[f32], b: &[f32], s: &ConvShape, slope: Option<f32>) -> Vec<f32> {
    let ([od, oh, ow], [d, h, wd], k) = (s.output(), s.input, s.kernel);
    let mut out = vec![0f32; s.batch * od * oh * ow * s.cout];
    for (i, o) in out.iter_mut().enumerate() {
        let co = i % s.cout;
        let v = i / s.cout;
        let (bi, z, y, xx) = (
            v / (od * oh * ow),
            (v / (oh * ow)) % od,
            (v / ow) % oh,
            v % ow,
        );
        let mut acc = b[co] as f64;
        for ci in 0..s.cin {
            for t in 0..k * k * k {
                let (kd, kh, kw) = (t / (k * k), (t / k) % k, t % k);
                let at = |o: usize, kk: usize, n: usize| {
                    let i = (o * s.stride + kk) as isize - s.pad as isize;
                    (i >= 0 && i < n as isize).then_some(i as usize)
                };
                if let (Some(iz), Some(iy), Some(ix)) = (at(z, kd, d), at(y, kh, h), at(xx, kw, wd))
                {
                    let xi = (((bi * d + iz) * h + iy) * wd + ix) * s.cin + ci;
                    acc += x[xi] as f64 * w[(co * s.cin + ci) * k * k * k + t] as f64;
                }
            }
        }
        let r = acc as f32;
        *o = match slope {
            Some(a) if r < 0.0 => a * r,
            _ => r,
        };
    }
    out
}

/// The largest absolute difference between two equally long lists.
fn max_difference(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// A tensor's values, row-major.
fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().unwrap()
}

/// Checks that `actual` is `expected` within 1e-4 of the latter's largest magnitude (or of 1).
fn assert_close(expected: &[f32], actual: &[f32], what: &str) {
    assert_eq!(expected.len(), actual.len(), "{what}: lengths differ");
    let scale = expected.iter().map(|v| v.abs()).fold(0.0, f32::max);
    let err = max_difference(expected, actual);
    assert!(
        err <= 1e-4 * scale.max(1.0),
        "{what}: max error {err:e} (values up to {scale})"
    );
}

fn numbers(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 40) as f32 / (1u64 << 24) as f32 - 0.5
        })
        .collect()
}

#[test]
fn the_kernel_computes_the_convolution_by_its_definition() {
    if !available() {
        eprintln!(
            "neither AVX-512F nor AVX2 on this CPU: the kernel is not used here, nothing to check"
        );
        return;
    }
    let shapes = [
        // (batch, cin, cout, input, k, stride, pad): odd sizes, rows shorter and longer than a
        // register block, channel counts below, at and across 16 and 32.
        (2, 3, 5, [7, 6, 9], 3, 1, 1),
        (1, 4, 16, [8, 10, 6], 3, 2, 1),
        (2, 6, 7, [5, 4, 3], 1, 1, 0),
        (1, 1, 16, [8, 8, 17], 3, 2, 1),
        (1, 8, 40, [4, 5, 19], 3, 1, 1),
        (1, 32, 54, [3, 3, 11], 1, 1, 0),
        (1, 5, 33, [6, 7, 8], 3, 1, 0),
    ];
    for (i, &(batch, cin, cout, input, kernel, stride, pad)) in shapes.iter().enumerate() {
        let s = ConvShape {
            batch,
            cin,
            cout,
            input,
            kernel,
            stride,
            pad,
        };
        let x = numbers(batch * input.iter().product::<usize>() * cin, 1 + i as u64);
        let w = numbers(cout * cin * kernel.pow(3), 100 + i as u64);
        let b = numbers(cout, 200 + i as u64);
        for (slope, add) in [(Some(0.1), false), (None, false), (Some(0.1), true)] {
            let mut want = by_definition(&x, &w, &b, &s, slope);
            let skip = numbers(want.len(), 300 + i as u64);
            if add {
                want.iter_mut().zip(&skip).for_each(|(v, r)| *v += r);
            }
            // Each instruction set this CPU runs, and the same bits from each (every output
            // sums its products in the same order).
            let mut first: Option<Vec<f32>> = None;
            for isa in [Isa::Avx512, Isa::Avx2]
                .into_iter()
                .filter(|i| i.supported())
            {
                let skip = add.then_some(&skip[..]);
                let got = conv3d_channels_last_on(isa, &x, &w, &b, &s, slope, skip);
                assert_eq!(got.len(), want.len());
                let err = max_difference(&got, &want);
                assert!(
                    err < 1e-5,
                    "{isa:?} {s:?} slope {slope:?} skip {add}: max error {err:e}"
                );
                if let Some(f) = &first {
                    assert!(f.iter().zip(&got).all(|(a, b)| a.to_bits() == b.to_bits()));
                }
                first = Some(got);
            }
        }
    }
}

#[test]
fn folded_detectors_give_the_unfused_outputs_on_the_fast_path() {
    let dev = Device::flex();
    dev.seed(7);
    for (arch, side) in [
        (Architecture::Efficient, [24, 40, 32]),
        (Architecture::EfficientDeep, [32, 16, 48]),
        (Architecture::EfficientWide, [16, 24, 32]),
    ] {
        let net = Detector::new(arch, 3, 4, &dev).fold_batch_norm();
        let x = Tensor::<5>::random(
            [1, 1, side[0], side[1], side[2]],
            Distribution::Normal(0.0, 1.0),
            &dev,
        );
        let plain = values(net.forward(x.clone()));
        let fast = values(net.forward_inference(x));
        assert_close(&plain, &fast, &format!("{arch:?}"));
    }
}

#[test]
fn the_channels_last_convolution_falls_back_to_burn_off_the_fast_path() {
    // An autodiff device never takes the kernel: the same call composes burn's operations.
    let dev = Device::flex();
    let x = Tensor::<5>::random([1, 6, 5, 7, 3], Distribution::Normal(0.0, 1.0), &dev);
    let w = Tensor::<5>::random([9, 3, 3, 3, 3], Distribution::Normal(0.0, 0.3), &dev);
    let b = Tensor::<1>::random([9], Distribution::Normal(0.0, 0.3), &dev);
    let on = |d: &Device| {
        tomopick_nn::fastconv::conv3d_channels_last(
            x.clone().to_device(d),
            w.clone().to_device(d),
            b.clone().to_device(d),
            2,
            1,
            Some(0.1),
            None,
        )
    };
    let (fast, burn) = (values(on(&dev)), values(on(&dev.clone().autodiff())));
    assert_eq!(fast.len(), 3 * 3 * 4 * 9);
    let err = max_difference(&fast, &burn);
    assert!(err < 1e-5, "max error {err:e}");
}

#[test]
fn the_classifiers_inference_path_gives_its_forward_outputs() {
    use tomopick_nn::classifier::{ClassifierSegmenter, ClassifierShape};
    let dev = Device::flex();
    dev.seed(3);
    let shape = ClassifierShape {
        box_size: 24,
        width: 8,
        hidden: 32,
        classes: 5,
        architecture: Architecture::Efficient,
        dropout: 0.5,
    };
    let net = ClassifierSegmenter::new(shape, &dev);
    let x = Tensor::<5>::random([3, 1, 24, 24, 24], Distribution::Normal(0.0, 1.0), &dev);
    let plain = net.forward(x.clone());
    let inference = net.forward_inference(x);
    let (a, b) = (values(plain.log_probs), values(inference.log_probs.clone()));
    let err = max_difference(&a, &b);
    assert!(err < 1e-4, "log-probabilities differ by {err}");
    // One class's mask per box, each a different class: the forward pass's channel.
    let chosen = [4, 0, 2];
    let masks = net.masks_of(inference, &chosen);
    assert_eq!(masks.dims(), [3, 24, 24, 24]);
    let masks = values(masks);
    let all = values(plain.mask_logits);
    let vox = 24 * 24 * 24;
    let expected: Vec<f32> = chosen
        .iter()
        .enumerate()
        .flat_map(|(i, &k)| all[(i * 5 + k) * vox..(i * 5 + k + 1) * vox].to_vec())
        .collect();
    assert_close(&expected, &masks, "mask logits");
}

#[test]
fn channels_last_data_movement_matches_burns() {
    use burn::nn::conv::ConvTranspose3dConfig;
    use tomopick_nn::fastconv::{conv_transpose2_channels_last, max_pool2_channels_last};
    let dev = Device::flex();
    dev.seed(11);
    let x = Tensor::<5>::random([2, 3, 4, 6, 8], Distribution::Normal(0.0, 1.0), &dev);
    let cl = |t: Tensor<5>| t.permute([0, 2, 3, 4, 1]);
    let pooled = values(max_pool2_channels_last(cl(x.clone())));
    let reference = values(cl(tomopick_nn::ops3d::max_pool3d_2(x.clone())));
    assert_eq!(pooled, reference);
    let up = ConvTranspose3dConfig::new([3, 5], [2, 2, 2])
        .with_stride([2, 2, 2])
        .init(&dev);
    let ours = values(conv_transpose2_channels_last(
        cl(x.clone()),
        up.weight.val(),
        up.bias.as_ref().map(|b| b.val()),
    ));
    let reference = values(cl(up.forward(x.clone())));
    assert_eq!(ours.len(), 2 * 8 * 12 * 16 * 5);
    assert!(
        max_difference(&ours, &reference) < 1e-5,
        "{}",
        max_difference(&ours, &reference)
    );
    let joined = values(tomopick_nn::fastconv::cat_channels_last(
        cl(x.clone()),
        cl(x.clone() * 2.0),
    ));
    let reference = values(Tensor::cat(vec![cl(x.clone()), cl(x.clone() * 2.0)], 4));
    assert_eq!(joined, reference);
    let up2 = values(tomopick_nn::fastconv::upsample2_channels_last(
        cl(x.clone()),
    ));
    let reference = values(cl(tomopick_nn::ops3d::upsample3d_2(x)));
    assert_eq!(up2, reference);
}

#[test]
fn the_layout_operations_fall_back_to_burn_off_the_fast_path() {
    use tomopick_nn::fastconv as f;
    // An autodiff device never takes the fast path: the same calls compose burn's operations.
    let dev = Device::flex();
    let ad = dev.clone().autodiff();
    let x = Tensor::<5>::random([2, 4, 6, 2, 5], Distribution::Normal(0.0, 1.0), &dev);
    let w = Tensor::<5>::random([5, 3, 2, 2, 2], Distribution::Normal(0.0, 0.3), &dev);
    let b = Tensor::<1>::random([3], Distribution::Normal(0.0, 0.3), &dev);
    let on = |d: &Device| {
        let (x, w, b) = (
            x.clone().to_device(d),
            w.clone().to_device(d),
            b.clone().to_device(d),
        );
        (
            values(f::max_pool2_channels_last(x.clone())),
            values(f::conv_transpose2_channels_last(
                x.clone(),
                w.clone(),
                Some(b.clone()),
            )),
            values(f::transposed_head_one_class(x.clone(), w, Some(b), &[2, 0])),
            values(f::cat_channels_last(x.clone(), x.clone())),
            values(f::upsample2_channels_last(x)),
        )
    };
    let (fast, burn) = (on(&dev), on(&ad));
    assert_eq!(fast.0, burn.0, "pooling");
    assert!(
        max_difference(&fast.1, &burn.1) < 1e-5,
        "transposed convolution"
    );
    assert!(max_difference(&fast.2, &burn.2) < 1e-5, "one-class head");
    assert_eq!(fast.3, burn.3, "concatenation");
    assert_eq!(fast.4, burn.4, "upsampling");
}

/// The training convolution's output and both gradients, against burn's `conv3d` under autodiff,
/// for the shapes the networks use: 1 and 8-64 channels, 3³ and 1³ kernels, stride 1 and 2, odd
/// and even extents, output channels not a multiple of 16.
#[test]
fn the_training_convolution_and_its_gradients_match_burns() {
    use burn::tensor::module::conv3d;
    use burn::tensor::ops::ConvOptions;
    use tomopick_nn::fastconv::train::{conv3d_train, fast_train_on};
    let device = Device::flex().autodiff();
    if !fast_train_on(&device) {
        eprintln!("neither AVX-512F nor AVX2: the fallback is burn's own convolution");
    }
    let cases = [
        // batch, cin, cout, extent [d, h, w], kernel, stride
        (2, 1, 16, [9, 10, 12], 3, 2),
        (2, 8, 16, [7, 6, 9], 3, 1),
        (1, 16, 8, [6, 7, 5], 1, 1),
        (2, 16, 32, [8, 8, 10], 3, 2),
        (1, 24, 40, [5, 6, 7], 3, 1),
        (1, 64, 32, [4, 5, 3], 1, 1),
        (1, 3, 5, [5, 4, 6], 3, 2),
    ];
    for (i, &(b, cin, cout, [d, h, w], k, stride)) in cases.iter().enumerate() {
        let what = format!("case {i}: {cin}→{cout} {k}³/{stride} at {d}×{h}×{w} ×{b}");
        let pad = k / 2;
        let x0 = Tensor::<5>::random([b, cin, d, h, w], Distribution::Normal(0.0, 1.0), &device);
        let w0 = Tensor::<5>::random(
            [cout, cin, k, k, k],
            Distribution::Normal(0.0, 0.3),
            &device,
        );
        let run = |fast: bool| {
            let x = x0.clone().require_grad();
            let wt = w0.clone().require_grad();
            let y = if fast {
                conv3d_train(x.clone(), wt.clone(), stride, pad)
            } else {
                let options = ConvOptions::new([stride; 3], [pad; 3], [1; 3], 1);
                conv3d(x.clone(), wt.clone(), None, options)
            };
            // A loss whose gradient differs at every output voxel.
            let dims = y.dims();
            let r = numbers(dims.iter().product(), 11 + i as u64);
            let r = Tensor::<5>::from_data(TensorData::new(r, dims), &device);
            let grads = (y.clone() * r).sum().backward();
            (
                values(y),
                values(x.grad(&grads).unwrap()),
                values(wt.grad(&grads).unwrap()),
            )
        };
        let (y_fast, dx_fast, dw_fast) = run(true);
        let (y_burn, dx_burn, dw_burn) = run(false);
        assert_close(&y_burn, &y_fast, &format!("{what}: output"));
        assert_close(&dx_burn, &dx_fast, &format!("{what}: input gradient"));
        assert_close(&dw_burn, &dw_fast, &format!("{what}: weight gradient"));
    }
}

/// The training LeakyReLU and its gradient against burn's.
#[test]
fn the_training_leaky_relu_and_its_gradient_match_burns() {
    let device = Device::flex().autodiff();
    let dims = [2, 5, 7, 6, 9];
    let x0 = Tensor::<5>::random(dims, Distribution::Normal(0.0, 1.0), &device);
    let r = numbers(dims.iter().product(), 5);
    let r = Tensor::<5>::from_data(TensorData::new(r, dims), &device);
    let run = |fast: bool| {
        let x = x0.clone().require_grad();
        let y = if fast {
            tomopick_nn::fastconv::train::leaky_relu(x.clone(), 0.1)
        } else {
            burn::tensor::activation::leaky_relu(x.clone(), 0.1)
        };
        let grads = (y.clone() * r.clone()).sum().backward();
        (values(y), values(x.grad(&grads).unwrap()))
    };
    let ((y_fast, dx_fast), (y_burn, dx_burn)) = (run(true), run(false));
    assert_close(&y_burn, &y_fast, "leaky relu output");
    assert_close(&dx_burn, &dx_fast, "leaky relu input gradient");
}

/// The fused training batch norm + LeakyReLU against burn's `BatchNorm` then `leaky_relu`:
/// output, the gradients of the input, γ and β, and the running averages after two steps.
#[test]
fn the_training_batch_norm_and_its_gradients_match_burns() {
    use burn::nn::BatchNormConfig;
    use tomopick_nn::fastconv::train::batch_norm_leaky;
    let device = Device::flex().autodiff();
    for (i, dims) in [[2, 5, 7, 6, 9], [1, 16, 4, 5, 3]].into_iter().enumerate() {
        let c = dims[1];
        // A channel mean well away from 0, as convolutions' outputs have.
        let x0 = Tensor::<5>::random(dims, Distribution::Normal(0.0, 1.0), &device).add_scalar(3.0);
        let r = numbers(dims.iter().product(), 21 + i as u64);
        let r = Tensor::<5>::from_data(TensorData::new(r, dims), &device);
        let run = |fast: bool| {
            let mut bn = BatchNormConfig::new(c).init(&device);
            let g = numbers(c, 3).iter().map(|v| 1.0 + v).collect::<Vec<_>>();
            bn.gamma = burn::module::Param::from_tensor(Tensor::from_data(
                TensorData::new(g, [c]),
                &device,
            ));
            bn.beta = burn::module::Param::from_tensor(Tensor::from_data(
                TensorData::new(numbers(c, 4), [c]),
                &device,
            ));
            let mut out = None;
            for step in 0..2 {
                let x = (x0.clone() * (1.0 + step as f32)).require_grad();
                let y = if fast {
                    batch_norm_leaky(&bn, x.clone(), 0.1)
                } else {
                    burn::tensor::activation::leaky_relu(bn.forward(x.clone()), 0.1)
                };
                let grads = (y.clone() * r.clone()).sum().backward();
                out = Some((
                    values(y),
                    values(x.grad(&grads).unwrap()),
                    values(bn.gamma.grad(&grads).unwrap()),
                    values(bn.beta.grad(&grads).unwrap()),
                ));
            }
            let (y, dx, dg, db) = out.unwrap();
            (
                y,
                dx,
                dg,
                db,
                values(bn.running_mean.value()),
                values(bn.running_var.value()),
            )
        };
        let fast = run(true);
        let burn = run(false);
        let what = format!("case {i} {dims:?}");
        assert_close(&burn.0, &fast.0, &format!("{what}: output"));
        assert_close(&burn.1, &fast.1, &format!("{what}: input gradient"));
        assert_close(&burn.2, &fast.2, &format!("{what}: γ gradient"));
        assert_close(&burn.3, &fast.3, &format!("{what}: β gradient"));
        assert_close(&burn.4, &fast.4, &format!("{what}: running mean"));
        assert_close(&burn.5, &fast.5, &format!("{what}: running variance"));
    }
}
