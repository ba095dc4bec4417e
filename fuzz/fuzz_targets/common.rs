//! Shared by the fuzz targets: the input as a file of a given name in a temporary folder
//! (the readers take paths, as the CLI does).
#![allow(dead_code)]

use std::path::PathBuf;

/// Writes `data` to `name` in a fresh temporary folder; the folder lives as long as the guard.
pub fn as_file(name: &str, data: &[u8]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let p = dir.path().join(name);
    std::fs::write(&p, data).expect("writable temporary folder");
    (dir, p)
}

/// A context with a voxel size, so pixel formats get as far as converting.
pub fn ctx() -> tomopick_io::ListContext {
    tomopick_io::ListContext {
        voxel_size: Some(tomopick_io::VoxelSize::isotropic(10.0)),
        tomo_shape_xyz: Some([100, 100, 50]),
        ..Default::default()
    }
}
