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

/// A little-endian TIFF of one `w`×`h` page of uncompressed float32 samples whose strip is
/// declared but not there (the file ends after the header).
fn tiff_header_only(w: u32, h: u32) -> Vec<u8> {
    let entries: [(u16, u16, u32, u32); 9] = [
        (256, 4, 1, w),                                 // ImageWidth
        (257, 4, 1, h),                                 // ImageLength
        (258, 3, 1, 32),                                // BitsPerSample
        (259, 3, 1, 1),                                 // Compression: none
        (262, 3, 1, 1),                                 // Photometric: min-is-black
        (273, 4, 1, 200),                               // StripOffsets
        (278, 4, 1, h),                                 // RowsPerStrip
        (279, 4, 1, w.wrapping_mul(h).wrapping_mul(4)), // StripByteCounts
        (339, 3, 1, 3),                                 // SampleFormat: float
    ];
    let mut b = b"II*\0".to_vec();
    b.extend(8u32.to_le_bytes());
    b.extend((entries.len() as u16).to_le_bytes());
    for (tag, typ, count, value) in entries {
        b.extend(tag.to_le_bytes());
        b.extend(typ.to_le_bytes());
        b.extend(count.to_le_bytes());
        b.extend(value.to_le_bytes());
    }
    b.extend(0u32.to_le_bytes());
    b
}

#[test]
fn tiff_pages_no_tomogram_writer_makes_are_refused_before_decoding() {
    let vs = Some(VoxelSize::isotropic(10.0));
    // Found by the fuzzer: 385 bytes declaring a 51,974 × 1,025 page of 32-bit samples under fax
    // (CCITT Group 4) compression; it took 1.5 s to fail under the sanitizers.
    let e = open_volume(&made("bad_fax_compressed.tif"), vs)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("bad_fax_compressed.tif") && e.contains("fax-compressed"),
        "{e}"
    );
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("header_only.tif");
    std::fs::write(&p, tiff_header_only(4000, 3000)).unwrap();
    let e = open_volume(&p, vs).unwrap_err().to_string();
    assert!(
        e.contains("header_only.tif")
            && e.contains("4000×3000")
            && e.contains("more than the whole file"),
        "{e}"
    );
    // Found by the fuzzer: a page whose byte count overflows 64 bits (4294967295 × 4294967295
    // samples of 4 bytes) is refused, not a panic.
    std::fs::write(&p, tiff_header_only(u32::MAX, u32::MAX)).unwrap();
    let e = open_volume(&p, vs).unwrap_err().to_string();
    assert!(
        e.contains("4294967295×4294967295") && e.contains("more than the whole file"),
        "{e}"
    );
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
