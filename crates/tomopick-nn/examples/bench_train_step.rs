//! One detector training step (forward, a loss over every output, backward, Adam) on 64³ cubes,
//! on flex with autodiff: the network's share of `tomopick train detector`, without simulating
//! cubes. `TOMOPICK_FAST_CONV=0` runs burn's convolutions instead of the fast kernels; run both,
//! interleaved, to compare (issue 15).
//!
//! `cargo run --release -p tomopick-nn --example bench_train_step -- [batch] [steps]`

use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use std::time::Instant;
use tomopick_nn::{Architecture, Detector};

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|s| s.parse().ok())
        .collect();
    let batch = args.first().copied().unwrap_or(8);
    let steps = args.get(1).copied().unwrap_or(4);
    let dev = Device::flex().autodiff();
    let mut net = Detector::new(Architecture::Efficient, 3, 13, &dev);
    let mut optim = AdamConfig::new().init();
    let gflop = net.macs(64) * 2.0 * 3.0 * batch as f64 / 1e9; // forward + 2 backward ≈ 3×
    let x = Tensor::<5>::random(
        [batch, 1, 64, 64, 64],
        burn::tensor::Distribution::Normal(0.0, 1.0),
        &dev,
    );
    let fast = tomopick_nn::fastconv::train::fast_train_on(&dev);
    let mut times = Vec::new();
    for step in 0..=steps {
        let t = Instant::now();
        let y = net.forward(x.clone());
        let loss = (y.clone() * y).mean();
        let grads = GradientsParams::from_grads(loss.backward(), &net);
        net = optim.step(1e-4, net, grads);
        let s = t.elapsed().as_secs_f64();
        if step > 0 {
            times.push(s); // the first step warms up
        }
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    println!(
        "efficient, batch {batch} of 64³, {} convolutions: median {:.3} s per step ({:.2} cubes/s, {:.1} GFLOP/s in the convolutions' count), steps {:?}",
        if fast { "fast" } else { "burn" },
        median,
        batch as f64 / median,
        gflop / median,
        times
            .iter()
            .map(|t| (t * 1000.0).round() / 1000.0)
            .collect::<Vec<_>>()
    );
}
