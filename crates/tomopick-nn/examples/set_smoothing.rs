//! Rewrites a classifier file with another test-time smoothing sigma (weights unchanged).
//!
//! `cargo run --release -p tomopick-nn --example set_smoothing -- IN.bpk OUT.bpk SIGMA`

use std::path::Path;
use tomopick_nn::{ClassifierModel, inference_device};

fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    assert_eq!(a.len(), 3, "usage: set_smoothing IN.bpk OUT.bpk SIGMA");
    let mut m = ClassifierModel::load(Path::new(&a[0]), &inference_device()).expect("a classifier");
    m.config.smoothing_sigma_vox = a[2].parse().expect("sigma in voxels");
    m.save(Path::new(&a[1])).expect("written");
}
