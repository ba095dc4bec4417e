//! Forward time per 64³ cube of both detector networks on the flex CPU backend, with batch norm
//! folded as in picking, and one cube per core in parallel (as `tomopick pick` runs tiles).
//!
//! `cargo run --release -p tomopick-nn --example bench_detector -- [cubes] [repeats]`

use burn::prelude::*;
use rayon::prelude::*;
use std::time::Instant;
use tomopick_nn::{Architecture, Detector};

/// Nominal fp32 peak of this machine's 2 cores (AVX-512, 2 FMA units): see BENCHMARKS.md.
const PEAK_GFLOPS: f64 = 300.0;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let cubes: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(4);
    let repeats: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(3);
    let dev = Device::flex();
    let threads = rayon::current_num_threads();
    for arch in [
        Architecture::Paper,
        Architecture::Efficient,
        Architecture::EfficientDeep,
        Architecture::EfficientWide,
    ] {
        let net = Detector::new(arch, 3, 13, &dev).fold_batch_norm();
        let gflop = net.macs(64) * 2.0 / 1e9;
        let x = Tensor::<5>::random(
            [1, 1, 64, 64, 64],
            burn::tensor::Distribution::Normal(0.0, 1.0),
            &dev,
        );
        let run = || {
            (0..cubes).into_par_iter().with_max_len(1).for_each(|_| {
                let _ = net.forward(x.clone()).into_data();
            })
        };
        run();
        let mut times = Vec::new();
        for _ in 0..repeats {
            let t = Instant::now();
            run();
            times.push(t.elapsed().as_secs_f64() / cubes as f64);
        }
        times.sort_by(f64::total_cmp);
        let med = times[times.len() / 2];
        println!(
            "{arch:?}: {gflop:.2} GFLOP per 64³ cube, {:.0} ms per cube ({cubes} cubes on {threads} threads, median of {repeats}), {:.1} GFLOP/s = {:.0} % of the {PEAK_GFLOPS} GFLOP/s nominal peak",
            med * 1e3,
            gflop / med,
            100.0 * gflop / med / PEAK_GFLOPS
        );
    }
}
