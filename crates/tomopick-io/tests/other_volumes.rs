//! TIFF stacks (tifffile) and OME-Zarr (ome-zarr-py) as volumes.

mod common;
use common::{made, ramp};
use tomopick_io::ome_zarr::{choose_level, list_levels};
use tomopick_io::{VoxelSize, open_volume};

#[test]
fn tiff_stack_from_tifffile() {
    let v = open_volume(&made("stack.tif"), Some(VoxelSize::isotropic(5.0))).unwrap();
    assert_eq!(v.shape_xyz(), [6, 5, 4]);
    assert_eq!(v.data[[3, 4, 5]], ramp(5, 4, 3));
    let e = open_volume(&made("stack.tif"), None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("stack.tif") && e.contains("--voxel-size"), "{e}");
    let e = open_volume(
        &made("bad_planar_samples.tif"),
        Some(VoxelSize::isotropic(5.0)),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("grey channel"), "{e}");
}

#[test]
fn ome_zarr_levels_and_choice_by_voxel_size() {
    let dir = made("tomo.zarr");
    let levels = list_levels(&dir).unwrap();
    assert_eq!(
        levels.iter().map(|l| l.voxel_size.x).collect::<Vec<_>>(),
        [10.0, 20.0]
    );
    assert_eq!(choose_level(&levels, Some(18.0)).path, "1");
    assert_eq!(choose_level(&levels, Some(11.0)).path, "0");
    assert_eq!(choose_level(&levels, None).path, "0");
    let full = open_volume(&dir, None).unwrap();
    assert_eq!(full.shape_xyz(), [12, 10, 8]);
    assert_eq!(full.voxel_size, VoxelSize::isotropic(10.0));
    // Value of the ramp at (x, y, z) in a 12 × 10 × 8 volume.
    assert_eq!(full.data[[7, 9, 11]], (7 * 120 + 9 * 12 + 11) as f32);
    let half = open_volume(&dir, Some(VoxelSize::isotropic(20.0))).unwrap();
    assert_eq!(half.shape_xyz(), [6, 5, 4]);
    assert_eq!(half.data[[1, 2, 3]], full.data[[2, 4, 6]]);
}
