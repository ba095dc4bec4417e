//! Bad MRC input: each gives an error that names the file and the field.

mod common;
use common::made;
use tomopick_io::{MrcReadOptions, VoxelSize, read_header, read_mrc};

fn err(name: &str) -> String {
    let e = read_mrc(&made(name), MrcReadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains(name), "error does not name the file: {e}");
    e
}

#[test]
fn truncated_file() {
    let e = err("bad_truncated.mrc");
    assert!(
        e.contains("nx/ny/nz") && e.contains("need 1504 bytes") && e.contains("1464"),
        "{e}"
    );
}

#[test]
fn header_dims_larger_than_the_file_are_refused_before_allocating() {
    // nz = 4000 would need 481 kB; the refusal must come from the header check.
    let e = read_header(&made("bad_dims_too_large.mrc"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("6×5×4000") && e.contains("481024"), "{e}");
}

#[test]
fn unknown_mode() {
    let e = err("bad_unknown_mode.mrc");
    assert!(e.contains("field mode") && e.contains("mode 5"), "{e}");
}

#[test]
fn zero_or_negative_voxel_size_needs_an_explicit_one() {
    for name in ["zero_voxel_size.mrc", "bad_negative_voxel.mrc"] {
        let e = err(name);
        assert!(e.contains("cella/mx") && e.contains("--voxel-size"), "{e}");
        let v = read_mrc(
            &made(name),
            MrcReadOptions {
                voxel_size: Some(VoxelSize::isotropic(7.0)),
            },
        )
        .unwrap();
        assert_eq!(v.voxel_size.z, 7.0);
    }
    let e = read_mrc(
        &made("mode2_float32.mrc"),
        MrcReadOptions {
            voxel_size: Some(VoxelSize::isotropic(-1.0)),
        },
    )
    .unwrap_err();
    assert!(e.to_string().contains("must be positive"));
}

#[test]
fn empty_file() {
    let e = err("bad_empty.mrc");
    assert!(e.contains("empty"), "{e}");
}

#[test]
fn nan_and_inf_are_counted() {
    let v = read_mrc(&made("has_nan.mrc"), MrcReadOptions::default()).unwrap();
    let s = v.stats();
    assert_eq!((s.nan, s.inf), (1, 1));
    assert_eq!(s.max, 119.0);
}
