//! Writing MRC: round trips in every write mode, header fields, no partial files, and a
//! check of our output with mrcfile (run when python3 has mrcfile; CI requires it).

mod common;
use common::made;
use ndarray::Array3;
use tomopick_io::{
    MrcMode, MrcReadOptions, MrcWriteMode, PosAngstrom, Volume, VoxelSize, read_header, read_mrc,
    write_mrc,
};

fn sample() -> Volume {
    let data = Array3::from_shape_fn((3, 4, 5), |(z, y, x)| {
        (z as f32 * 20.0 + y as f32 * 5.0 + x as f32) - 30.0
    });
    let mut v = Volume::new(
        data,
        VoxelSize {
            x: 10.0,
            y: 10.5,
            z: 12.0,
        },
    );
    v.origin_a = PosAngstrom::new(1.0, 2.0, 3.0);
    v
}

#[test]
fn round_trip_every_write_mode() {
    let dir = tempfile::tempdir().unwrap();
    let v = sample();
    for (mode, code) in [
        (MrcWriteMode::Float32, MrcMode::Float32),
        (MrcWriteMode::Int8, MrcMode::Int8),
        (MrcWriteMode::Float16, MrcMode::Float16),
    ] {
        let p = dir.path().join(format!("{mode:?}.mrc"));
        write_mrc(&p, &v, mode).unwrap();
        let h = read_header(&p).unwrap();
        assert_eq!(h.mode, code);
        assert_eq!(h.shape_xyz, [5, 4, 3]);
        let vs = h.voxel_size.unwrap();
        assert!(
            (vs.x - 10.0).abs() < 1e-5 && (vs.y - 10.5).abs() < 1e-5 && (vs.z - 12.0).abs() < 1e-5
        );
        let [dmin, dmax, dmean, _] = h.header_stats;
        assert_eq!((dmin, dmax), (-30.0, 29.0), "{mode:?}");
        assert!((dmean + 0.5).abs() < 1e-4, "{mode:?} mean {dmean}");
        let back = read_mrc(&p, MrcReadOptions::default()).unwrap();
        assert_eq!(
            back.data, v.data,
            "{mode:?}: these integers are exact in every mode"
        );
        assert_eq!(back.origin_a, v.origin_a);
    }
}

#[test]
fn a_failed_write_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("out.mrc");
    let mut v = sample();
    v.voxel_size = VoxelSize::isotropic(0.0);
    assert!(write_mrc(&p, &v, MrcWriteMode::Float32).is_err());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no temporary or partial file may remain"
    );
    let missing = dir.path().join("no/such/dir/out.mrc");
    assert!(write_mrc(&missing, &sample(), MrcWriteMode::Float32).is_err());
}

#[test]
fn rewriting_a_mrcfile_fixture_keeps_its_values() {
    let dir = tempfile::tempdir().unwrap();
    let v = read_mrc(&made("anisotropic.mrc"), MrcReadOptions::default()).unwrap();
    let p = dir.path().join("copy.mrc");
    write_mrc(&p, &v, MrcWriteMode::Float32).unwrap();
    assert_eq!(read_mrc(&p, MrcReadOptions::default()).unwrap(), v);
}

/// Our files must open in mrcfile (hence napari, IMOD readers) with the right voxel size.
#[test]
fn mrcfile_reads_what_we_write() {
    let has_mrcfile = std::process::Command::new("python3")
        .args(["-c", "import mrcfile"])
        .status()
        .is_ok_and(|s| s.success());
    if !has_mrcfile {
        assert!(
            std::env::var("TOMOPICK_REQUIRE_PYTHON").is_err(),
            "TOMOPICK_REQUIRE_PYTHON is set but python3 cannot import mrcfile"
        );
        eprintln!("skipped: python3 with mrcfile not found");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for mode in [
        MrcWriteMode::Float32,
        MrcWriteMode::Int8,
        MrcWriteMode::Float16,
    ] {
        let p = dir.path().join("w.mrc");
        write_mrc(&p, &sample(), mode).unwrap();
        let script = r#"
import sys, mrcfile, numpy as np
assert mrcfile.validate(sys.argv[1], print_file=open('/dev/null', 'w')), 'mrcfile.validate failed'
with mrcfile.open(sys.argv[1]) as m:
    z, y, x = np.mgrid[0:3, 0:4, 0:5]
    assert np.array_equal(m.data.astype(np.float32), (z * 20.0 + y * 5.0 + x - 30.0).astype(np.float32)), m.data
    vs = m.voxel_size
    assert abs(vs.x - 10) < 1e-5 and abs(vs.y - 10.5) < 1e-5 and abs(vs.z - 12) < 1e-5, vs
    assert tuple(m.header.origin.item()) == (1.0, 2.0, 3.0), m.header.origin
"#;
        let out = std::process::Command::new("python3")
            .args(["-c", script])
            .arg(&p)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{mode:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
