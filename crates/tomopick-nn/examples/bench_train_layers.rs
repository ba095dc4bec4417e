//! Per-layer training speed of the `efficient` detector's convolutions (issue 15): for each layer
//! at the size a training step of 8 cubes of 64³ runs it, the three convolutions of training on
//! the fast kernels (`tomopick_nn::fastconv`): forward, the input's gradient and the weights'
//! gradient, each in GFLOP/s and as a share of the fp32 matrix-product ceiling measured in the
//! same run (a 2048² product through burn's `gemm`, all threads); then all layers together.
//! The multiply-adds counted are those of the forward convolution, for each of the three. The
//! first layer's input gradient is not timed: the network's input takes no gradient in training.
//!
//! `cargo run --release -p tomopick-nn --example bench_train_layers -- [batch] [repeats]`
//! (default 8 cubes, 5 repeats, median).

use burn::prelude::*;
use tomopick_nn::fastconv::backward::{conv3d_backward_input, conv3d_backward_weight};
use tomopick_nn::fastconv::direct::{ConvShape, conv3d_channels_last, isa};

#[path = "common/timing.rs"]
mod timing;
use timing::{ceiling, median};

/// Pseudo-random values in [-0.5, 0.5).
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

fn main() {
    let a: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|s| s.parse().ok())
        .collect();
    let batch = a.first().copied().unwrap_or(8);
    let reps = a.get(1).copied().unwrap_or(5);
    let Some(isa) = isa() else {
        eprintln!("the fast kernels need AVX-512F or AVX2 with FMA; this CPU has neither");
        return;
    };
    let peak = ceiling(&Device::flex());
    println!(
        "fp32 matrix-product ceiling (2048², flex/gemm, {} threads): {peak:.0} GFLOP/s; kernels on {isa:?}",
        rayon::current_num_threads()
    );
    let (t, q, e, s8) = ([64; 3], [32; 3], [16; 3], [8; 3]);
    // (cin, cout, kernel, stride, input) in the order `efficient` runs them on a 64³ cube.
    let layers = [
        (1, 16, 3, 2, t),
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
        "{:<24} | {:>8} {:>7} {:>5} | {:>8} {:>7} {:>5} | {:>8} {:>7} {:>5}",
        "layer (batch of cubes)",
        "fwd ms",
        "GFLOP/s",
        "ceil",
        "dx ms",
        "GFLOP/s",
        "ceil",
        "dw ms",
        "GFLOP/s",
        "ceil"
    );
    let mut total = [0.0f64; 3];
    // Multiply-adds of all layers' forward convolutions, and of those whose input gradient runs.
    let (mut flop_all, mut flop_dx) = (0.0, 0.0);
    for (i, (cin, cout, k, stride, input)) in layers.into_iter().enumerate() {
        let s = ConvShape {
            batch,
            cin,
            cout,
            input,
            kernel: k,
            stride,
            pad: k / 2,
        };
        let [od, oh, ow] = s.output();
        let x = numbers(batch * input.iter().product::<usize>() * cin, 2 * i as u64);
        let g = numbers(batch * od * oh * ow * cout, 2 * i as u64 + 1);
        let w = numbers(cout * cin * k * k * k, 99 + i as u64);
        let zero = vec![0.0; cout];
        let (mut tf, mut ti, mut tw) = (Vec::new(), Vec::new(), Vec::new());
        // The three alternate within each repeat so drift hits them alike.
        for _ in 0..reps.max(1) {
            tf.push(median(1, || {
                std::hint::black_box(conv3d_channels_last(&x, &w, &zero, &s, None, None));
            }));
            if i > 0 {
                ti.push(median(1, || {
                    std::hint::black_box(conv3d_backward_input(&g, &w, &s));
                }));
            }
            tw.push(median(1, || {
                std::hint::black_box(conv3d_backward_weight(&x, &g, &s));
            }));
        }
        let flop = 2.0 * s.macs();
        let mut row = format!(
            "{:<24}",
            format!("{cin}→{cout} {k}³/{stride} at {}³", input[0])
        );
        for (j, v) in [&mut tf, &mut ti, &mut tw].into_iter().enumerate() {
            if v.is_empty() {
                row += &format!(" | {:>8} {:>7} {:>5}", "–", "", "");
                continue;
            }
            v.sort_by(f64::total_cmp);
            let m = v[v.len() / 2];
            total[j] += m;
            let gf = flop / m / 1e9;
            row += &format!(" | {:>8.2} {gf:>7.1} {:>4.0}%", m * 1e3, 100.0 * gf / peak);
        }
        flop_all += flop;
        if i > 0 {
            flop_dx += flop;
        }
        println!("{row}");
    }
    let mut row = format!("{:<24}", "all convolutions");
    for (j, t) in total.into_iter().enumerate() {
        let gf = if j == 1 { flop_dx } else { flop_all } / t / 1e9;
        row += &format!(" | {:>8.2} {gf:>7.1} {:>4.0}%", t * 1e3, 100.0 * gf / peak);
    }
    println!("{row}");
    let sum: f64 = total.iter().sum();
    let gf = (2.0 * flop_all + flop_dx) / sum / 1e9;
    println!(
        "training convolutions together (forward + both gradients): {:.0} ms per batch of {batch}, {gf:.1} GFLOP/s, {:.0}% of the ceiling",
        sum * 1e3,
        100.0 * gf / peak
    );
}
