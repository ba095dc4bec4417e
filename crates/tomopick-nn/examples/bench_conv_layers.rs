//! Per-layer inference speed of the `efficient` detector on one pick tile: each convolution as
//! burn's flex backend runs it (NCDHW conv3d with bias, then LeakyReLU) and as the fused
//! channels-last kernel of `tomopick_nn::fastconv` runs it, in GFLOP/s and as a share of the
//! fp32 matrix-product ceiling measured in the same run; then the whole network both ways.
//!
//! `cargo run --release -p tomopick-nn --example bench_conv_layers -- [depth height width] [repeats]`
//! (default one 120×192×192 tile, the size `pick` uses on a SHREC-size tomogram; 5 repeats,
//! median). The two paths alternate within each repeat so machine drift hits both alike.

use burn::prelude::*;
use burn::tensor::Distribution;
use burn::tensor::activation::leaky_relu;
use burn::tensor::module::conv3d;
use burn::tensor::ops::ConvOptions;
use tomopick_nn::fastconv::direct::ConvShape;
use tomopick_nn::fastconv::{conv3d_channels_last, fast_on, to_channels_last};
use tomopick_nn::{Architecture, Detector};

#[path = "common/timing.rs"]
mod timing;
use timing::{ceiling, median};

fn main() {
    let a: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|s| s.parse().ok())
        .collect();
    let tile = if a.len() >= 3 {
        [a[0], a[1], a[2]]
    } else {
        [120, 192, 192]
    };
    let reps = a.get(3).copied().unwrap_or(5);
    let dev = Device::flex();
    let peak = ceiling(&dev);
    println!(
        "fp32 matrix-product ceiling (2048², flex/gemm, {} threads): {peak:.0} GFLOP/s; fused kernel {}",
        rayon::current_num_threads(),
        match (fast_on(&dev), tomopick_nn::fastconv::direct::isa()) {
            (true, Some(isa)) => format!("on {isa:?}"),
            _ => "NOT available here (needs AVX-512F or AVX2 + FMA)".into(),
        }
    );
    let [d, h, w] = tile;
    let (q, e, s8) = (
        [d / 2, h / 2, w / 2],
        [d / 4, h / 4, w / 4],
        [d / 8, h / 8, w / 8],
    );
    // (cin, cout, kernel, stride, input) in the order `efficient` runs them.
    let layers = [
        (1, 16, 3, 2, tile),
        (16, 8, 1, 1, q),
        (8, 16, 3, 1, q),
        (16, 32, 3, 2, q),
        (32, 16, 1, 1, e),
        (16, 32, 3, 1, e),
        (32, 16, 1, 1, e),
        (16, 32, 3, 1, e),
        (32, 64, 3, 2, e),
        (64, 32, 1, 1, s8),
        (32, 64, 3, 1, s8),
        (64, 32, 1, 1, s8),
        (32, 64, 3, 1, s8),
        (64, 32, 1, 1, s8),
        (64, 32, 1, 1, e),
        (32, 32, 3, 1, e),
        (32, 54, 1, 1, e),
    ];
    println!(
        "{:<28} {:>9} {:>8} {:>6} | {:>9} {:>8} {:>6} | {:>5}",
        "layer", "burn ms", "GFLOP/s", "ceil", "fused ms", "GFLOP/s", "ceil", "×"
    );
    let (mut tb, mut tf, mut flop) = (0.0, 0.0, 0.0);
    for (cin, cout, k, st, [ld, lh, lw]) in layers {
        let x = Tensor::<5>::random([1, cin, ld, lh, lw], Distribution::Normal(0.0, 1.0), &dev);
        let xl = Tensor::<5>::from_data(to_channels_last(x.clone()).into_data(), &dev);
        let wt = Tensor::<5>::random([cout, cin, k, k, k], Distribution::Normal(0.0, 0.1), &dev);
        let b = Tensor::<1>::random([cout], Distribution::Normal(0.0, 0.1), &dev);
        let opts = ConvOptions::new([st; 3], [k / 2; 3], [1; 3], 1);
        let (mut sb, mut sf) = (Vec::new(), Vec::new());
        for _ in 0..reps.max(1) {
            sb.push(median(1, || {
                let y = conv3d(x.clone(), wt.clone(), Some(b.clone()), opts.clone());
                let _ = leaky_relu(y, 0.1).into_data();
            }));
            sf.push(median(1, || {
                let y = conv3d_channels_last(
                    xl.clone(),
                    wt.clone(),
                    b.clone(),
                    st,
                    k / 2,
                    Some(0.1),
                    None,
                );
                let _ = y.into_data();
            }));
        }
        sb.sort_by(f64::total_cmp);
        sf.sort_by(f64::total_cmp);
        let (mb, mf) = (sb[sb.len() / 2], sf[sf.len() / 2]);
        let shape = ConvShape {
            batch: 1,
            cin,
            cout,
            input: [ld, lh, lw],
            kernel: k,
            stride: st,
            pad: k / 2,
        };
        let f = 2.0 * shape.macs();
        let (gb, gf) = (f / mb / 1e9, f / mf / 1e9);
        println!(
            "{:<28} {:>9.2} {:>8.1} {:>5.0}% | {:>9.2} {:>8.1} {:>5.0}% | {:>5.2}",
            format!("{cin}→{cout} {k}³/{st} at {ld}×{lh}×{lw}"),
            mb * 1e3,
            gb,
            100.0 * gb / peak,
            mf * 1e3,
            gf,
            100.0 * gf / peak,
            mb / mf
        );
        (tb, tf, flop) = (tb + mb, tf + mf, flop + f);
    }
    println!(
        "{:<28} {:>9.2} {:>8.1} {:>5.0}% | {:>9.2} {:>8.1} {:>5.0}% | {:>5.2}",
        "all convolutions",
        tb * 1e3,
        flop / tb / 1e9,
        100.0 * flop / tb / 1e9 / peak,
        tf * 1e3,
        flop / tf / 1e9,
        100.0 * flop / tf / 1e9 / peak,
        tb / tf
    );
    // The whole network (random weights, batch norms folded), forward vs forward_inference.
    let net = Detector::new(Architecture::Efficient, 3, 13, &dev).fold_batch_norm();
    let x = Tensor::<5>::random([1, 1, d, h, w], Distribution::Normal(0.0, 1.0), &dev);
    let (mut sb, mut sf) = (Vec::new(), Vec::new());
    for _ in 0..reps.max(1) {
        sb.push(median(1, || {
            let _ = net.forward(x.clone()).into_data();
        }));
        sf.push(median(1, || {
            let _ = net.forward_inference(x.clone()).into_data();
        }));
    }
    sb.sort_by(f64::total_cmp);
    sf.sort_by(f64::total_cmp);
    let (mb, mf) = (sb[sb.len() / 2], sf[sf.len() / 2]);
    let f = 2.0 * net.macs(1) * (d * h * w) as f64;
    println!(
        "efficient network, {d}×{h}×{w} tile: burn {:.0} ms ({:.1} GFLOP/s), fused {:.0} ms ({:.1} GFLOP/s, {:.0}% of ceiling): {:.2}×",
        mb * 1e3,
        f / mb / 1e9,
        mf * 1e3,
        f / mf / 1e9,
        100.0 * f / mf / 1e9 / peak,
        mb / mf
    );
}
