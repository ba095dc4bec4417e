//! Read throughput of a 1 GiB float32 MRC against the page-cache limit.
//!
//! `cargo run --release -p tomopick-io --example bench_mrc_read -- /tmp/bench_1gib.mrc [whole|region|raw]`
//!
//! Creates the file (512 × 512 × 1024 float32) if it is missing, reads it once to warm the
//! page cache, then times one mode and prints GiB/s and the peak RSS (VmHWM) of the process.
//! Run each mode in its own process so that peak RSS belongs to that mode alone.

use ndarray::Array3;
use std::path::Path;
use std::time::Instant;
use tomopick_io::{MrcReadOptions, MrcVolumeFile, MrcWriteMode, Volume, VoxelSize, write_mrc};

fn peak_rss_mib() -> f64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|k| k.parse::<f64>().ok())
        .map_or(f64::NAN, |k| k / 1024.0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = Path::new(
        args.get(1)
            .map(String::as_str)
            .unwrap_or("/tmp/bench_1gib.mrc"),
    );
    let mode = args.get(2).map(String::as_str).unwrap_or("whole");
    if !path.exists() {
        let data =
            Array3::from_shape_fn((1024, 512, 512), |(z, y, x)| ((x ^ y) + z) as f32 * 0.001);
        write_mrc(
            path,
            &Volume::new(data, VoxelSize::isotropic(10.0)),
            MrcWriteMode::Float32,
        )
        .unwrap();
        println!("wrote {}", path.display());
        return;
    }
    let bytes = std::fs::metadata(path).unwrap().len() as f64;
    let gib = bytes / (1u64 << 30) as f64;
    // Warm the page cache without keeping the data.
    {
        use std::io::Read;
        let mut f = std::fs::File::open(path).unwrap();
        let mut buf = vec![0u8; 1 << 24];
        while f.read(&mut buf).unwrap() > 0 {}
    }
    let t = Instant::now();
    match mode {
        "raw" => {
            let v = std::fs::read(path).unwrap();
            std::hint::black_box(&v);
        }
        "whole" => {
            let f = MrcVolumeFile::open(path, MrcReadOptions::default()).unwrap();
            let v = f.read_all().unwrap();
            std::hint::black_box(&v);
        }
        "region" => {
            let f = MrcVolumeFile::open(path, MrcReadOptions::default()).unwrap();
            let v = f.read_region([200, 200, 500], [64, 64, 64]).unwrap();
            std::hint::black_box(&v);
            println!(
                "region 64³: {:.2} ms, peak RSS {:.0} MiB",
                t.elapsed().as_secs_f64() * 1e3,
                peak_rss_mib()
            );
            return;
        }
        m => panic!("unknown mode {m}"),
    }
    let s = t.elapsed().as_secs_f64();
    println!(
        "{mode}: {gib:.2} GiB in {s:.3} s = {:.2} GiB/s, peak RSS {:.0} MiB",
        gib / s,
        peak_rss_mib()
    );
}
