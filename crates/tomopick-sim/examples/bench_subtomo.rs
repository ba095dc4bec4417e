//! Subtomograms per second on this machine.
//!
//! `cargo run --release -p tomopick-sim --example bench_subtomo -- [N] [preset] [batch]`
//! Builds the 13 SHREC 2021 class potentials at 10 Å (timed separately), then makes N
//! randomised 40³ subtomograms (rotation, mask, CTF × MTF × wedge, noise) in parallel, in
//! batches of `batch` (256; classifier training asks for 16 at a time).

use std::time::Instant;
use tomopick_sim::{SubtomoConfig, SubtomoGenerator};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(4000);
    let preset = args.get(2).map(String::as_str).unwrap_or("randomized");
    let batch: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(256);
    let t = Instant::now();
    let g = SubtomoGenerator::new(SubtomoConfig::preset(preset).unwrap()).unwrap();
    println!(
        "class potentials: {:.2} s for {} classes",
        t.elapsed().as_secs_f64(),
        g.class_names().len()
    );
    let _ = g.batch(1, 0, 64);
    let t = Instant::now();
    let mut done = 0;
    while done < n {
        let k = batch.min(n - done);
        std::hint::black_box(g.batch(2, done as u64, k));
        done += k;
    }
    let s = t.elapsed().as_secs_f64();
    println!(
        "{n} subtomograms of 40³ in {s:.2} s = {:.0} per second ({} threads, batches of {batch})",
        n as f64 / s,
        rayon::current_num_threads()
    );
}
