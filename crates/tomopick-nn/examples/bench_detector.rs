//! Forward time per 64³ cube of both detector networks on the flex CPU backend.
//!
//! `cargo run --release -p tomopick-nn --example bench_detector -- [batch] [repeats]`

use burn::prelude::*;
use std::time::Instant;
use tomopick_nn::{Architecture, Detector};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let batch: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(2);
    let repeats: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(3);
    let dev = Device::flex();
    for arch in [Architecture::Paper, Architecture::Efficient] {
        let net = Detector::new(arch, 3, 13, &dev);
        let gflop = net.macs(64) * 2.0 / 1e9;
        let x = Tensor::<5>::random(
            [batch, 1, 64, 64, 64],
            burn::tensor::Distribution::Normal(0.0, 1.0),
            &dev,
        );
        let _ = net.forward(x.clone()).into_data();
        let mut times = Vec::new();
        for _ in 0..repeats {
            let t = Instant::now();
            let _ = net.forward(x.clone()).into_data();
            times.push(t.elapsed().as_secs_f64() / batch as f64);
        }
        times.sort_by(f64::total_cmp);
        let med = times[times.len() / 2];
        println!(
            "{arch:?}: {gflop:.1} GFLOP per 64³ cube, {:.0} ms per cube (median of {repeats}, batch {batch}), {:.1} GFLOP/s",
            med * 1e3,
            gflop / med
        );
    }
}
