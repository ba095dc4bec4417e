//! Reading MRC files written by mrcfile: every mode, voxel size, origin, axis order, regions.

mod common;
use common::{made, portal, ramp};
use tomopick_io::{MrcMode, MrcReadOptions, MrcVolumeFile, VoxelSize, read_header, read_mrc};

fn check_ramp(name: &str, mode: MrcMode, f: impl Fn(f32) -> f32) {
    let path = made(name);
    let h = read_header(&path).unwrap();
    assert_eq!(h.mode, mode, "{name}");
    assert_eq!(h.shape_xyz, [6, 5, 4]);
    let v = read_mrc(&path, MrcReadOptions::default()).unwrap();
    assert_eq!(v.voxel_size, VoxelSize::isotropic(10.0));
    for z in 0..4 {
        for y in 0..5 {
            for x in 0..6 {
                assert_eq!(
                    v.data[[z, y, x]],
                    f(ramp(x, y, z)),
                    "{name} at x={x} y={y} z={z}"
                );
            }
        }
    }
}

#[test]
fn reads_every_mode_written_by_mrcfile() {
    check_ramp("mode2_float32.mrc", MrcMode::Float32, |r| r * 0.5 - 3.0);
    check_ramp("mode1_int16.mrc", MrcMode::Int16, |r| r - 60.0);
    check_ramp("mode6_uint16.mrc", MrcMode::Uint16, |r| r * 500.0);
    check_ramp("mode12_float16.mrc", MrcMode::Float16, |r| r * 0.25);
    check_ramp("mode0_int8.mrc", MrcMode::Int8, |r| r - 60.0);
}

#[test]
fn origin_and_anisotropic_voxel_size() {
    let v = read_mrc(&made("mode2_float32.mrc"), MrcReadOptions::default()).unwrap();
    assert_eq!(
        [v.origin_a.x, v.origin_a.y, v.origin_a.z],
        [100.0, 200.0, 300.0]
    );
    let a = read_mrc(&made("anisotropic.mrc"), MrcReadOptions::default()).unwrap();
    assert_eq!(
        a.voxel_size,
        VoxelSize {
            x: 10.0,
            y: 11.0,
            z: 12.0
        }
    );
    assert_eq!(a.extent_a(), [60.0, 55.0, 48.0]);
}

#[test]
fn non_standard_axis_order_is_permuted_to_xyz() {
    let h = read_header(&made("axes_zyx.mrc")).unwrap();
    assert_eq!(h.axis_map, [3, 2, 1]);
    assert_eq!(h.dims_crs, [4, 5, 6]);
    assert_eq!(h.shape_xyz, [6, 5, 4]);
    let v = read_mrc(&made("axes_zyx.mrc"), MrcReadOptions::default()).unwrap();
    for z in 0..4 {
        for y in 0..5 {
            for x in 0..6 {
                assert_eq!(v.data[[z, y, x]], ramp(x, y, z));
            }
        }
    }
}

#[test]
fn a_region_equals_the_same_slice_of_the_whole_volume() {
    for name in ["mode2_float32.mrc", "axes_zyx.mrc", "mode12_float16.mrc"] {
        let f = MrcVolumeFile::open(&made(name), MrcReadOptions::default()).unwrap();
        let all = f.read_all().unwrap();
        let r = f.read_region([1, 2, 1], [4, 3, 2]).unwrap();
        assert_eq!(r.shape_xyz(), [4, 3, 2]);
        for z in 0..2 {
            for y in 0..3 {
                for x in 0..4 {
                    assert_eq!(r.data[[z, y, x]], all.data[[z + 1, y + 2, x + 1]], "{name}");
                }
            }
        }
        assert!(
            f.read_region([3, 0, 0], [4, 1, 1]).is_err(),
            "region past the edge must be refused"
        );
    }
}

#[test]
fn mode0_signed_and_unsigned_as_in_the_portal_fixtures() {
    let s = read_mrc(
        &portal("sample_tomos/signed_ints.mrc"),
        MrcReadOptions::default(),
    )
    .unwrap();
    let u = read_mrc(
        &portal("sample_tomos/unsigned_ints.mrc"),
        MrcReadOptions::default(),
    )
    .unwrap();
    // The bytes of row 0..3 are 0x80, 0x00, 0xff, 0x7f.
    assert_eq!(
        [
            s.data[[0, 0, 0]],
            s.data[[0, 1, 0]],
            s.data[[0, 2, 0]],
            s.data[[0, 3, 0]]
        ],
        [-128.0, 0.0, -1.0, 127.0]
    );
    assert_eq!(
        [
            u.data[[0, 0, 0]],
            u.data[[0, 1, 0]],
            u.data[[0, 2, 0]],
            u.data[[0, 3, 0]]
        ],
        [128.0, 0.0, 255.0, 127.0]
    );
    assert_eq!(s.voxel_size, VoxelSize::isotropic(56.32f32 as f64 / 4.0));
}

#[test]
fn reads_every_portal_volume() {
    let rec = read_mrc(&portal("sample_tomos/run1.rec"), MrcReadOptions::default()).unwrap();
    assert!((rec.voxel_size.x - 14.08).abs() < 1e-4);
    assert_eq!(rec.data[[0, 0, 3]], 3.0);
    assert_eq!(rec.data[[3, 3, 3]], 63.0);
    let input = read_mrc(
        &portal("sample_tomos/input_mrc.mrc"),
        MrcReadOptions::default(),
    )
    .unwrap();
    assert_eq!(input.shape_xyz(), [4, 4, 4]);
    let seg = read_mrc(
        &portal("annotations/segmask.mrc"),
        MrcReadOptions::default(),
    )
    .unwrap();
    assert_eq!(seg.data[[0, 1, 0]], 2.0);
    // These masks have no voxel size in their header: refused unless one is given.
    for name in [
        "semantic_mask.mrc",
        "small_semantic_mask.mrc",
        "small_probability_map.mrc",
        "large_probability_map.mrc",
    ] {
        let p = portal(&format!("annotations/{name}"));
        assert!(read_mrc(&p, MrcReadOptions::default()).is_err(), "{name}");
        let v = read_mrc(
            &p,
            MrcReadOptions {
                voxel_size: Some(VoxelSize::isotropic(10.0)),
            },
        )
        .unwrap();
        assert_eq!(v.voxel_size.x, 10.0);
    }
    let sem = read_mrc(
        &portal("annotations/small_semantic_mask.mrc"),
        MrcReadOptions {
            voxel_size: Some(VoxelSize::isotropic(1.0)),
        },
    )
    .unwrap();
    assert_eq!(sem.data[[0, 0, 0]], 2.0);
    let prob = read_mrc(
        &portal("annotations/small_probability_map.mrc"),
        MrcReadOptions {
            voxel_size: Some(VoxelSize::isotropic(1.0)),
        },
    )
    .unwrap();
    assert!((prob.data[[0, 0, 0]] - 0.8).abs() < 1e-6);
}
