//! Paths to the repository's fixtures.
#![allow(dead_code)]

use std::path::PathBuf;

pub fn made(name: &str) -> PathBuf {
    PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo test"))
        .join("../../tests/fixtures/made")
        .join(name)
}

pub fn portal(name: &str) -> PathBuf {
    PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo test"))
        .join("../../tests/fixtures/cryoet-data-portal")
        .join(name)
}

/// The ramp the fixture script writes: value of voxel (x, y, z) in a 6 × 5 × 4 volume.
pub fn ramp(x: usize, y: usize, z: usize) -> f32 {
    (z * 30 + y * 6 + x) as f32
}
