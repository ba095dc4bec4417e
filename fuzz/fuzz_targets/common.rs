//! Shared by the fuzz targets: the input as a file of a given name in a temporary folder
//! (the readers take paths, as the CLI does).
#![allow(dead_code)]

use std::path::PathBuf;

/// A fresh temporary folder, in memory (`/dev/shm`) where the machine has it: on a disk, a
/// build writing beside a campaign stalled `unlinkat` past the 1 s hang limit (two false
/// "timeouts", FUZZING.md).
pub fn scratch() -> tempfile::TempDir {
    let shm = std::path::Path::new("/dev/shm");
    if shm.is_dir() {
        if let Ok(d) = tempfile::Builder::new().prefix("tomopick-fuzz").tempdir_in(shm) {
            return d;
        }
    }
    tempfile::tempdir().expect("a temporary folder")
}

/// Writes `data` to `name` in a fresh temporary folder; the folder lives as long as the guard.
pub fn as_file(name: &str, data: &[u8]) -> (tempfile::TempDir, PathBuf) {
    let dir = scratch();
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
