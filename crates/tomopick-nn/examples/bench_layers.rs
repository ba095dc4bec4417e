//! Forward + backward time of the classifier's layer kinds on the flex backend (autodiff),
//! to find where training time goes.
//!
//! `cargo run --release -p tomopick-nn --example bench_layers -- [batch] [n] [channels]`

use burn::nn::PaddingConfig3d;
use burn::nn::conv::{Conv3dConfig, ConvTranspose3dConfig};
use burn::prelude::*;
use std::time::Instant;
use tomopick_nn::ops3d::max_pool3d_2;

fn time(name: &str, macs: f64, f: impl Fn()) {
    f();
    let t = Instant::now();
    let reps = 3;
    for _ in 0..reps {
        f();
    }
    let s = t.elapsed().as_secs_f64() / reps as f64;
    println!(
        "{name:<40} {:8.1} ms  {:6.1} GFLOP/s (fwd+bwd = 3× fwd)",
        s * 1e3,
        3.0 * 2.0 * macs / s / 1e9
    );
}

fn main() {
    let a: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|s| s.parse().ok())
        .collect();
    let (b, n, c) = (
        a.first().copied().unwrap_or(16),
        a.get(1).copied().unwrap_or(40),
        a.get(2).copied().unwrap_or(8),
    );
    let dev = Device::flex().autodiff();
    let x = || {
        Tensor::<5>::random(
            [b, c, n, n, n],
            burn::tensor::Distribution::Normal(0.0, 1.0),
            &dev,
        )
        .require_grad()
    };
    let vox = (b * n * n * n) as f64;
    let conv = Conv3dConfig::new([c, c], [3, 3, 3])
        .with_padding(PaddingConfig3d::Explicit(1, 1, 1))
        .init(&dev);
    time(
        &format!("conv3d 3³ {c}->{c} at {n}³ ×{b}"),
        vox * 27.0 * (c * c) as f64,
        || {
            let _ = conv.forward(x()).sum().backward();
        },
    );
    let conv2 = Conv3dConfig::new([2 * c, c], [3, 3, 3])
        .with_padding(PaddingConfig3d::Explicit(1, 1, 1))
        .init(&dev);
    let x2 = || {
        Tensor::<5>::random(
            [b, 2 * c, n, n, n],
            burn::tensor::Distribution::Normal(0.0, 1.0),
            &dev,
        )
        .require_grad()
    };
    time(
        &format!("conv3d 3³ {}->{c} at {n}³ ×{b}", 2 * c),
        vox * 27.0 * (2 * c * c) as f64,
        || {
            let _ = conv2.forward(x2()).sum().backward();
        },
    );
    let tconv = ConvTranspose3dConfig::new([c, c], [3, 3, 3])
        .with_padding([1, 1, 1])
        .init(&dev);
    time(
        &format!("conv_transpose3d 3³ {c}->{c} at {n}³"),
        vox * 27.0 * (c * c) as f64,
        || {
            let _ = tconv.forward(x()).sum().backward();
        },
    );
    let h = n / 2;
    let up = ConvTranspose3dConfig::new([2 * c, c], [2, 2, 2])
        .with_stride([2, 2, 2])
        .init(&dev);
    let xh = || {
        Tensor::<5>::random(
            [b, 2 * c, h, h, h],
            burn::tensor::Distribution::Normal(0.0, 1.0),
            &dev,
        )
        .require_grad()
    };
    time(
        &format!("conv_transpose3d 2³/2 {}->{c} {h}³->{n}³", 2 * c),
        vox * (2 * c * c) as f64,
        || {
            let _ = up.forward(xh()).sum().backward();
        },
    );
    time(&format!("max_pool3d_2 {c} at {n}³"), 0.0, || {
        let _ = max_pool3d_2(x()).sum().backward();
    });
    time(&format!("cat + relu {c}+{c} at {n}³"), 0.0, || {
        let _ = burn::tensor::activation::relu(Tensor::cat(vec![x(), x()], 1))
            .sum()
            .backward();
    });
}
