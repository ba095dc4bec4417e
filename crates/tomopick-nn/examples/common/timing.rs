//! Timing helpers shared by the benchmark examples.

use burn::prelude::*;
use burn::tensor::Distribution;
use std::time::Instant;

/// Median seconds of `f` over `reps` runs (after one warm-up).
pub fn median(reps: usize, mut f: impl FnMut()) -> f64 {
    f();
    let mut t: Vec<f64> = (0..reps)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed().as_secs_f64()
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[reps / 2]
}

/// The best fp32 GFLOP/s of a 2048² matrix product on flex (burn's `gemm`, all threads).
pub fn ceiling(dev: &Device) -> f64 {
    let n = 2048;
    let a = Tensor::<2>::random([n, n], Distribution::Normal(0.0, 1.0), dev);
    let b = Tensor::<2>::random([n, n], Distribution::Normal(0.0, 1.0), dev);
    let s = median(5, || {
        let _ = a.clone().matmul(b.clone()).into_data();
    });
    2.0 * (n as f64).powi(3) / s / 1e9
}
