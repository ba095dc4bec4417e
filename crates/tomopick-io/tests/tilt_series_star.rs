//! A RELION 5 project's `tomograms.star` and its tilt series' STAR files: the microscope, the
//! tilt angles and the defocus that template matching gives each tomogram's templates.

use std::path::Path;
use tomopick_io::lists::tomograms_star::{read_tilt_series_star, read_tomograms_star};

/// `tomograms.star` as RELION 5's Reconstruct job writes it (columns abridged), two folders
/// below the project.
const TOMOGRAMS: &str = "
# version 50001

data_global

loop_
_rlnTomoName #1
_rlnVoltage #2
_rlnSphericalAberration #3
_rlnAmplitudeContrast #4
_rlnMicrographOriginalPixelSize #5
_rlnTomoHand #6
_rlnTomoTiltSeriesPixelSize #7
_rlnTomoTiltSeriesStarFile #8
_rlnTomoTomogramBinning #9
_rlnTomoSizeX #10
_rlnTomoSizeY #11
_rlnTomoSizeZ #12
_rlnTomoReconstructedTomogram #13
TS_01   200.000000     2.700000     0.100000     1.350000    -1.000000     2.700000 CtfFind/job003/tilt_series/TS_01.star     3.703704   4000   4000   1500 Tomograms/job006/tomograms/rec_TS_01.mrc
TS_02   300.000000     2.700000     0.070000     1.350000    -1.000000     2.700000 CtfFind/job003/tilt_series/TS_02.star     3.703704   4000   4000   1500 Tomograms/job006/tomograms/rec_TS_02.mrc
";

/// A tilt series' STAR file as RELION 5's CtfFind job writes it (columns abridged): one row
/// per tilt image, defocus in Å.
fn tilt_series(name: &str, rows: &[(f64, f64, f64)]) -> String {
    let mut s = format!(
        "\n# version 50001\n\ndata_{name}\n\nloop_\n_rlnMicrographMovieName #1\n\
         _rlnTomoNominalStageTiltAngle #2\n_rlnMicrographPreExposure #3\n_rlnDefocusU #4\n\
         _rlnDefocusV #5\n_rlnDefocusAngle #6\n_rlnCtfMaxResolution #7\n"
    );
    for (i, (t, u, v)) in rows.iter().enumerate() {
        s += &format!(
            "frames/{name}_{i:03}_{t:.2}.eer {t:.6} {:.6} {u:.6} {v:.6} 45.0 8.5\n",
            3.0 * i as f64
        );
    }
    s
}

fn project(dir: &Path) -> std::path::PathBuf {
    let job = dir.join("Tomograms/job006");
    let ts = dir.join("CtfFind/job003/tilt_series");
    std::fs::create_dir_all(&job).unwrap();
    std::fs::create_dir_all(&ts).unwrap();
    std::fs::write(job.join("tomograms.star"), TOMOGRAMS).unwrap();
    let rows = [
        (0.0, 31_000.0, 29_000.0),
        (3.0, 30_500.0, 29_500.0),
        (-3.0, 32_000.0, 30_000.0),
        (-57.0, 33_000.0, 31_000.0),
    ];
    std::fs::write(ts.join("TS_01.star"), tilt_series("TS_01", &rows)).unwrap();
    job.join("tomograms.star")
}

#[test]
fn the_microscope_tilts_and_mean_defocus_of_each_tomogram() {
    let dir = tempfile::tempdir().unwrap();
    let star = project(dir.path());
    let tomos = read_tomograms_star(&star).unwrap();
    assert_eq!(tomos.len(), 2);
    let t = &tomos[0];
    assert_eq!(
        (t.voltage_kv, t.cs_mm, t.amplitude_contrast),
        (Some(200.0), Some(2.7), Some(0.1))
    );
    // Relative to the project folder, found two levels above the STAR file.
    let ts = t.tilt_series_star.clone().unwrap();
    assert_eq!(ts, dir.path().join("CtfFind/job003/tilt_series/TS_01.star"));
    let read = read_tilt_series_star(&ts, "TS_01").unwrap();
    assert_eq!(read.tilts_deg, vec![0.0, 3.0, -3.0, -57.0]);
    assert_eq!(read.tilt_max_deg(), Some(57.0));
    // Each image's defocus is the mean of U and V; the tomogram's, the mean over the images.
    assert_eq!(read.defocus_a, vec![30_000.0, 30_000.0, 31_000.0, 32_000.0]);
    assert_eq!(read.mean_defocus_a(), Some(30_750.0));
}

#[test]
fn a_tilt_series_without_ctf_or_tilts_states_nothing_and_bad_values_name_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("TS_09.star");
    std::fs::write(
        &p,
        "data_TS_09\nloop_\n_rlnMicrographMovieName #1\nframes/a.eer\nframes/b.eer\n",
    )
    .unwrap();
    let r = read_tilt_series_star(&p, "TS_09").unwrap();
    assert_eq!((r.tilt_max_deg(), r.mean_defocus_a()), (None, None));

    let bad = |rows: &[(f64, f64, f64)], want: &[&str]| {
        std::fs::write(&p, tilt_series("TS_09", rows)).unwrap();
        let e = read_tilt_series_star(&p, "TS_09").unwrap_err().to_string();
        for w in want {
            assert!(e.contains(w), "{e} lacks {w}");
        }
        assert!(e.contains("TS_09.star"), "{e}");
    };
    // Line 15 is the second image (13 lines of header).
    bad(
        &[(0.0, 30_000.0, 30_000.0), (3.0, -2.0, 30_000.0)],
        &["line 15", "rlnDefocusU", "positive defocus"],
    );
    bad(&[(95.0, 30_000.0, 30_000.0)], &["line 14", "95"]);
    // Another tomogram's file, with one block of another name, is taken as the only block;
    // one with several blocks and none of the tomogram's name is refused.
    std::fs::write(&p, tilt_series("TS_01", &[(10.0, 1e4, 1e4)])).unwrap();
    assert_eq!(
        read_tilt_series_star(&p, "TS_09").unwrap().tilt_max_deg(),
        Some(10.0)
    );
    let two = tilt_series("A", &[(1.0, 1e4, 1e4)]) + &tilt_series("B", &[(2.0, 1e4, 1e4)]);
    std::fs::write(&p, two).unwrap();
    let e = read_tilt_series_star(&p, "TS_09").unwrap_err().to_string();
    assert!(e.contains("data_TS_09"), "{e}");
}
