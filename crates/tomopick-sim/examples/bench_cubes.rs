//! Detector training cubes per second on this machine.
//!
//! `cargo run --release -p tomopick-sim --example bench_cubes -- [N] [TILT_FRACTION]`
//! Makes N randomised 64³ cubes as the default detector's stage 2 does (4–24 particles of the
//! 13 SHREC 2021 classes at 10 Å, gold, vesicles, CTF × MTF × wedge, noise), one at a time:
//! each cube's transforms already use both cores. TILT_FRACTION (default 0) sends that share
//! through a tilt series and weighted back-projection, as stages 4-8 do (1-5° steps). The
//! printed checksum (FNV-1a over the cubes' bits) tells whether a change kept every bit.

use std::time::Instant;
use tomopick_sim::cubes::{CubeGenerator, CubeSpec};
use tomopick_sim::{Dist, SubtomoConfig};

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(64);
    let tilt: f64 = std::env::args()
        .nth(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0.0);
    let g = CubeGenerator::new(CubeSpec {
        size: 64,
        particles: Dist::Uniform([4.0, 24.0]),
        gold: Dist::Uniform([0.0, 1.4]),
        vesicles: Dist::Uniform([0.0, 1.5]),
        ice_surface_fraction: 0.3,
        noise_reference_particles: Some(12.0),
        tilt_series: (tilt > 0.0).then_some(tomopick_sim::cubes::TiltRoute {
            fraction: tilt,
            step_deg: Dist::Uniform([1.0, 5.0]),
            snr: Dist::LogUniform([0.003, 1.5]),
            phase_flip_fraction: 0.0,
            filters: Vec::new(),
            misalignment_sd_px: None,
            damage_b_per_tilt_a2: None,
            thickness_over_mfp: None,
            low_pass_noise_fraction: None,
            low_pass_noise_px: None,
            context: None,
        }),
        particle_scale: None,
        randomization: SubtomoConfig::preset("randomized").unwrap(),
    })
    .unwrap();
    let _ = g.sample(1, 0).unwrap();
    let t = Instant::now();
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    for i in 0..n {
        let cube = g.sample(2, i).unwrap();
        for x in cube.image.iter() {
            hash = (hash ^ u64::from(x.to_bits())).wrapping_mul(0x100_0000_01b3);
        }
    }
    let s = t.elapsed().as_secs_f64();
    println!(
        "{n} cubes of 64³ (tilt-series share {tilt}) in {s:.2} s = {:.1} per second ({} threads), checksum {hash:016x}",
        n as f64 / s,
        rayon::current_num_threads()
    );
}
