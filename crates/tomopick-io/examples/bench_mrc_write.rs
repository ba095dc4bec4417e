//! Write throughput of a 1 GiB float32 MRC.
//!
//! `cargo run --release -p tomopick-io --example bench_mrc_write -- /tmp/bench_write.mrc`

use ndarray::Array3;
use std::time::Instant;
use tomopick_io::{MrcWriteMode, Volume, VoxelSize, write_mrc};

fn main() {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "/tmp/bench_write.mrc".into());
    let v = Volume::new(
        Array3::from_shape_fn((1024, 512, 512), |(z, y, x)| ((x ^ y) + z) as f32 * 0.001),
        VoxelSize::isotropic(10.0),
    );
    for mode in [
        MrcWriteMode::Float32,
        MrcWriteMode::Float16,
        MrcWriteMode::Int8,
    ] {
        let t = Instant::now();
        write_mrc(std::path::Path::new(&path), &v, mode).unwrap();
        let s = t.elapsed().as_secs_f64();
        let bytes = std::fs::metadata(&path).unwrap().len() as f64;
        println!(
            "{mode:?}: {:.2} GiB file in {s:.2} s = {:.2} GiB/s of file",
            bytes / (1u64 << 30) as f64,
            bytes / (1u64 << 30) as f64 / s
        );
        std::fs::remove_file(&path).unwrap();
    }
}
