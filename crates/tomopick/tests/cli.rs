//! The binary as a user runs it: README commands, conversions, and bad input
//! (non-zero exit, a message naming the file, no partial output).

use std::path::Path;
use std::process::Output;

mod common;
use common::{fails, ok, s, tomopick};

/// `tomopick evaluate` of `picks` against the shipped SHREC-style example, report into `out`.
fn evaluate_example(picks: &str, out: &str) -> Output {
    let e = "examples/shrec_small";
    tomopick(&[
        "evaluate",
        "--picks",
        picks,
        "--truth",
        &format!("{e}/particle_locations.txt"),
        "--occupancy",
        &format!("{e}/occupancy_mask.mrc"),
        "--classes",
        &format!("{e}/classes.toml"),
        "-o",
        out,
    ])
}

fn dir_is_empty(d: &Path) -> bool {
    std::fs::read_dir(d).unwrap().next().is_none()
}

#[test]
fn readme_evaluate_example() {
    let out = tempfile::tempdir().unwrap();
    let o = out.path().to_str().unwrap();
    let o_ = evaluate_example("examples/shrec_small/picks.csv", o);
    assert!(
        o_.status.success(),
        "{}",
        String::from_utf8_lossy(&o_.stderr)
    );
    let text = String::from_utf8_lossy(&o_.stdout).into_owned();
    assert!(text.contains("SHREC") && text.contains("CZII"));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("report.json")).unwrap())
            .unwrap();
    // By construction (scripts/make_fixtures.py): 20 of 24 found, 1 duplicate, 3 random picks.
    let s = &report["shrec"]["overall"];
    assert_eq!(
        (
            s["tp"].as_u64(),
            s["duplicates"].as_u64(),
            s["n_picks"].as_u64()
        ),
        (Some(20), Some(1), Some(24))
    );
    assert!((s["precision"].as_f64().unwrap() - 20.0 / 24.0).abs() < 1e-12);
    assert_eq!(
        report["shrec"]["confusion"]["counts"]["1bxn"]["3cf3"].as_u64(),
        Some(2)
    );
    assert!(out.path().join("report.md").exists());
}

/// A report piped into a reader that stops early (`| head -1`) ends quietly: no panic message.
#[test]
fn a_closed_pipe_ends_the_output_quietly() {
    use std::process::{Command, Stdio};
    let out = tempfile::tempdir().unwrap();
    let e = "examples/shrec_small";
    let mut child = Command::new(env!("CARGO_BIN_EXE_tomopick"))
        .current_dir(common::root())
        .args(["evaluate", "--picks", &format!("{e}/picks.csv"), "--truth"])
        .arg(format!("{e}/particle_locations.txt"))
        .args(["--occupancy", &format!("{e}/occupancy_mask.mrc")])
        .args([
            "--classes",
            &format!("{e}/classes.toml"),
            "-o",
            s(out.path()),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the reader goes away before the report is printed
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn info_on_an_mrc() {
    let t = ok(&["info", "tests/fixtures/made/anisotropic.mrc"]);
    assert!(
        t.contains("6 × 5 × 4") && t.contains("10.0000 × 11.0000 × 12.0000 Å"),
        "{t}"
    );
}

#[test]
fn star_to_copick_json_and_back() {
    let d = tempfile::tempdir().unwrap();
    let json = d.path().join("picks");
    let star = d.path().join("back.star");
    ok(&[
        "convert",
        "tests/fixtures/made/relion4_particles.star",
        json.to_str().unwrap(),
        "--to",
        "copick",
    ]);
    ok(&[
        "convert",
        json.to_str().unwrap(),
        star.to_str().unwrap(),
        "--voxel-size",
        "10",
        "--out-binning",
        "4",
    ]);
    let a = ok(&["info", "tests/fixtures/made/relion4_particles.star"]);
    let b = ok(&["info", star.to_str().unwrap()]);
    assert_eq!(
        a.lines().skip(1).collect::<Vec<_>>(),
        b.lines().skip(1).collect::<Vec<_>>()
    );
    let csv_a = d.path().join("a.csv");
    let csv_b = d.path().join("b.csv");
    ok(&[
        "convert",
        "tests/fixtures/made/relion4_particles.star",
        csv_a.to_str().unwrap(),
    ]);
    ok(&["convert", star.to_str().unwrap(), csv_b.to_str().unwrap()]);
    let (ta, tb) = (
        std::fs::read_to_string(csv_a).unwrap(),
        std::fs::read_to_string(csv_b).unwrap(),
    );
    // Same particles, positions and angles; the copick hop adds a score of 1.
    let strip = |t: &str| {
        t.lines()
            .map(|l| {
                l.split(',')
                    .enumerate()
                    .filter(|(i, _)| *i != 4)
                    .map(|(_, s)| s.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .collect::<Vec<_>>()
    };
    let (mut la, mut lb) = (strip(&ta), strip(&tb));
    la.sort();
    lb.sort();
    assert_eq!(la, lb);
}

#[test]
fn relion5_with_tomo_size() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("r5.csv");
    ok(&[
        "convert",
        "tests/fixtures/made/relion5_particles.star",
        out.to_str().unwrap(),
        "--voxel-size",
        "10",
        "--tomo-size",
        "64,64,32",
    ]);
    let t = std::fs::read_to_string(&out).unwrap();
    assert!(
        t.lines().nth(1).unwrap().starts_with("1,100,200,300,"),
        "{t}"
    );
    let e = fails(&[
        "convert",
        "tests/fixtures/made/relion5_particles.star",
        out.to_str().unwrap(),
        "--voxel-size",
        "10",
        "--tomo-size",
        "64,64",
    ]);
    assert!(e.contains("--tomo-size"), "{e}");
}

#[test]
fn volume_conversion_writes_mrc_with_the_voxel_size() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("t.mrc");
    ok(&[
        "convert",
        "tests/fixtures/made/tomo.zarr",
        out.to_str().unwrap(),
        "--voxel-size",
        "20",
        "--mode",
        "float16",
    ]);
    let t = ok(&["info", out.to_str().unwrap()]);
    assert!(
        t.contains("6 × 5 × 4") && t.contains("20.0000 Å") && t.contains("float16"),
        "{t}"
    );
}

#[test]
fn bad_volumes() {
    for (file, needle) in [
        ("bad_truncated.mrc", "need 1504 bytes"),
        ("bad_dims_too_large.mrc", "6×5×4000"),
        ("bad_unknown_mode.mrc", "mode 5"),
        ("zero_voxel_size.mrc", "--voxel-size"),
        ("bad_negative_voxel.mrc", "--voxel-size"),
        ("bad_empty.mrc", "empty"),
        ("has_nan.mrc", "1 NaN"),
    ] {
        let path = format!("tests/fixtures/made/{file}");
        let e = fails(&["validate", &path]);
        assert!(e.contains(file) && e.contains(needle), "{file}: {e}");
        // Converting leaves no output behind.
        let d = tempfile::tempdir().unwrap();
        let out = d.path().join("out.mrc");
        fails(&["convert", &path, out.to_str().unwrap()]);
        assert!(dir_is_empty(d.path()), "{file}: partial output left");
    }
}

#[test]
fn bad_lists() {
    for (file, needle) in [
        ("bad_no_coordinates.star", "rlnCoordinateX"),
        ("bad_non_numeric.csv", "line 3"),
        ("bad_not_copick.json", "not a copick picks file"),
    ] {
        let d = tempfile::tempdir().unwrap();
        let out = d.path().join("out.csv");
        let e = fails(&[
            "convert",
            &format!("tests/fixtures/made/{file}"),
            out.to_str().unwrap(),
        ]);
        assert!(e.contains(file) && e.contains(needle), "{file}: {e}");
        assert!(dir_is_empty(d.path()), "{file}: partial output left");
    }
}

#[test]
fn picks_outside_the_volume_are_warned_about_and_counted() {
    let d = tempfile::tempdir().unwrap();
    let picks = d.path().join("picks.csv");
    std::fs::write(&picks, "class,x,y,z,score\n1bxn,5000,5000,5000,1\n").unwrap();
    let o = evaluate_example(picks.to_str().unwrap(), d.path().to_str().unwrap());
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("1 picks lie outside the tomogram"));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.path().join("report.json")).unwrap())
            .unwrap();
    assert_eq!(report["picks_outside_volume"].as_u64(), Some(1));
}

#[test]
fn a_class_missing_from_the_radius_table_fails_clearly() {
    let d = tempfile::tempdir().unwrap();
    let picks = d.path().join("picks.csv");
    std::fs::write(&picks, "class,x,y,z,score\nproteasome,50,50,50,1\n").unwrap();
    let e = fails(&[
        "evaluate",
        "--picks",
        picks.to_str().unwrap(),
        "--truth",
        "examples/shrec_small/particle_locations.txt",
        "--voxel-size",
        "10",
        "--classes",
        "examples/shrec_small/classes.toml",
        "-o",
        d.path().join("r").to_str().unwrap(),
    ]);
    assert!(
        e.contains("'proteasome'") && e.contains("radius table"),
        "{e}"
    );
    assert!(
        !d.path().join("r").exists(),
        "no report folder may be left behind"
    );
}

#[test]
fn unit_mixing_is_refused() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("o.txt");
    // SHREC output is in voxels: without a voxel size it cannot be written.
    let e = fails(&[
        "convert",
        "tests/fixtures/made/copick_ribosome.json",
        out.to_str().unwrap(),
    ]);
    assert!(e.contains("--voxel-size"), "{e}");
    // A binning that contradicts the STAR file's pixel size.
    let e = fails(&[
        "convert",
        "tests/fixtures/made/relion4_particles.star",
        d.path().join("o.csv").to_str().unwrap(),
        "--voxel-size",
        "10",
        "--binning",
        "2",
    ]);
    assert!(e.contains("rlnMicrographOriginalPixelSize"), "{e}");
    assert!(dir_is_empty(d.path()));
}

#[test]
fn simulate_subtomograms_is_reproducible_and_refuses_bad_input() {
    let d = tempfile::tempdir().unwrap();
    let a = d.path().join("a");
    let b = d.path().join("b");
    ok(&[
        "simulate",
        "subtomograms",
        "-n",
        "5",
        "--seed",
        "4",
        "--classes",
        "3qm1,1bxn",
        "-o",
        a.to_str().unwrap(),
    ]);
    ok(&[
        "simulate",
        "subtomograms",
        "-n",
        "5",
        "--seed",
        "4",
        "--config",
        a.join("config.toml").to_str().unwrap(),
        "-o",
        b.to_str().unwrap(),
    ]);
    for f in ["subtomo_000004.mrc", "mask_000004.mrc", "labels.csv"] {
        assert_eq!(
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
            "{f}"
        );
    }
    let labels = std::fs::read_to_string(a.join("labels.csv")).unwrap();
    assert_eq!(labels.lines().count(), 6);
    let t = ok(&["info", a.join("subtomo_000000.mrc").to_str().unwrap()]);
    assert!(t.contains("40 × 40 × 40") && t.contains("10.0000 Å"), "{t}");
    // An existing folder is refused and left as it was.
    let e = fails(&[
        "simulate",
        "subtomograms",
        "-n",
        "1",
        "-o",
        a.to_str().unwrap(),
    ]);
    assert!(e.contains("already exists"), "{e}");
    // Out-of-range values name the field; nothing is written.
    let c = d.path().join("bad.toml");
    std::fs::write(
        &c,
        std::fs::read_to_string(a.join("config.toml"))
            .unwrap()
            .replace("voxel_size_a = 10.0", "voxel_size_a = -10.0"),
    )
    .unwrap();
    let out = d.path().join("c");
    let e = fails(&[
        "simulate",
        "subtomograms",
        "-n",
        "1",
        "--config",
        c.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(e.contains("voxel_size_a"), "{e}");
    let e = fails(&[
        "simulate",
        "subtomograms",
        "-n",
        "1",
        "--classes",
        "9xyz",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(e.contains("class '9xyz': not a shipped class"), "{e}");
    assert!(!out.exists());
    assert_eq!(
        std::fs::read_dir(d.path()).unwrap().count(),
        3,
        "no staging folders left behind"
    );
}

#[test]
fn simulate_tomogram_gives_exact_truth_that_evaluate_accepts() {
    let d = tempfile::tempdir().unwrap();
    let a = d.path().join("a");
    let args = |out: &Path| {
        vec![
            "simulate".to_string(),
            "tomogram".into(),
            "--shape".into(),
            "96,96,48".into(),
            "--particles".into(),
            "20".into(),
            "--classes".into(),
            "1bxn,3qm1".into(),
            "--seed".into(),
            "3".into(),
            "-o".into(),
            out.to_str().unwrap().into(),
        ]
    };
    let run = |out: &Path| {
        let v = args(out);
        ok(&v.iter().map(String::as_str).collect::<Vec<_>>())
    };
    run(&a);
    for f in [
        "reconstruction.mrc",
        "noise_free.mrc",
        "class_mask.mrc",
        "occupancy_mask.mrc",
        "particle_locations.txt",
        "particles.csv",
        "classes.toml",
        "config.toml",
    ] {
        assert!(a.join(f).exists(), "{f}");
    }
    let info = ok(&["info", a.join("reconstruction.mrc").to_str().unwrap()]);
    assert!(
        info.contains("96 × 96 × 48") && info.contains("10.0000 Å"),
        "{info}"
    );
    // The truth scored against itself is perfect with both metrics.
    let report = d.path().join("rep");
    let p = |f: &str| a.join(f).to_str().unwrap().to_string();
    ok(&[
        "evaluate",
        "--picks",
        &p("particles.csv"),
        "--truth",
        &p("particle_locations.txt"),
        "--occupancy",
        &p("occupancy_mask.mrc"),
        "--classes",
        &p("classes.toml"),
        "-o",
        report.to_str().unwrap(),
    ]);
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("report.json")).unwrap())
            .unwrap();
    assert_eq!(
        r["shrec"]["overall"]["f1"].as_f64(),
        Some(1.0),
        "{}",
        r["shrec"]["overall"]
    );
    assert_eq!(r["czii"]["overall"]["f1"].as_f64(), Some(1.0));
    // Same seed, same bits; and the resolved config reproduces it.
    let b = d.path().join("b");
    run(&b);
    assert_eq!(
        std::fs::read(a.join("reconstruction.mrc")).unwrap(),
        std::fs::read(b.join("reconstruction.mrc")).unwrap()
    );
    let c = d.path().join("c");
    ok(&[
        "simulate",
        "tomogram",
        "--config",
        &p("config.toml"),
        "--seed",
        "3",
        "-o",
        c.to_str().unwrap(),
    ]);
    assert_eq!(
        std::fs::read(a.join("occupancy_mask.mrc")).unwrap(),
        std::fs::read(c.join("occupancy_mask.mrc")).unwrap()
    );
    // Physical ranges are checked before any work.
    let bad = d.path().join("bad.toml");
    assert!(
        std::fs::read_to_string(a.join("config.toml"))
            .unwrap()
            .contains("[imaging.tilt_max_deg]\nfixed = 60.0")
    );
    std::fs::write(
        &bad,
        std::fs::read_to_string(a.join("config.toml"))
            .unwrap()
            .replace(
                "[imaging.tilt_max_deg]\nfixed = 60.0",
                "[imaging.tilt_max_deg]\nfixed = 95.0",
            ),
    )
    .unwrap();
    let e = fails(&[
        "simulate",
        "tomogram",
        "--config",
        bad.to_str().unwrap(),
        "-o",
        d.path().join("x").to_str().unwrap(),
    ]);
    assert!(e.contains("imaging.tilt_max_deg"), "{e}");
}

#[test]
fn users_bring_their_own_structures() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("t");
    let o = tomopick(&[
        "simulate",
        "tomogram",
        "--shape",
        "64,64,32",
        "--particles",
        "6",
        "--seed",
        "1",
        "--classes",
        "cdk=tests/fixtures/made/3qm1.cif:1,1qvr",
        "-o",
        out.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("read as carbon: Pt ×23"), "{err}");
    let locations = std::fs::read_to_string(out.join("particle_locations.txt")).unwrap();
    assert!(
        locations.lines().any(|l| l.starts_with("cdk ")),
        "{locations}"
    );
    let e = fails(&[
        "simulate",
        "tomogram",
        "--classes",
        "nothing_here.pdb",
        "-o",
        d.path().join("u").to_str().unwrap(),
    ]);
    assert!(e.contains("nothing_here.pdb"), "{e}");
    let e = fails(&[
        "simulate",
        "tomogram",
        "--classes",
        "x=tests/fixtures/made/3qm1.cif:7",
        "--shape",
        "32,32,16",
        "-o",
        d.path().join("v").to_str().unwrap(),
    ]);
    assert!(e.contains("assembly '7' does not exist"), "{e}");
    let e = fails(&[
        "simulate",
        "tomogram",
        "--classes",
        "tests/fixtures/made/bad_no_atoms.pdb",
        "--shape",
        "32,32,16",
        "-o",
        d.path().join("w").to_str().unwrap(),
    ]);
    assert!(
        e.contains("bad_no_atoms.pdb") && e.contains("no atoms"),
        "{e}"
    );
}

#[test]
fn info_shows_pixel_lists_in_pixels_and_refuses_text_that_is_not_shrec() {
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("p.txt");
    std::fs::write(&list, "1bxn 10 20 30\n4v94 40 50 60 0 90 0\n").unwrap();
    let out = ok(&["info", s(&list)]);
    assert!(out.contains("2 particles"), "{out}");
    assert!(
        out.contains("from (10.0, 20.0, 30.0) to (40.0, 50.0, 60.0) px"),
        "{out}"
    );
    let out = ok(&["info", s(&list), "--voxel-size", "10"]);
    assert!(out.contains("to (400.0, 500.0, 600.0) Å"), "{out}");
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "hello world\nthis is not a list\n").unwrap();
    let e = fails(&["info", s(&notes)]);
    assert!(
        e.contains("notes.txt: line 1") && e.contains("SHREC") && e.contains("--format"),
        "{e}"
    );
}

#[test]
fn a_corrupted_model_file_is_refused_by_its_checksum() {
    let dir = tempfile::tempdir().unwrap();
    for (model, flag) in [
        ("models/detector_shrec10a.bpk", "--model"),
        ("models/classifier_shrec10a.bpk", "--classifier"),
    ] {
        let mut bytes = std::fs::read(common::root().join(model)).unwrap();
        assert_eq!(
            &bytes[bytes.len() - 12..bytes.len() - 8],
            b"TPCK",
            "{model} has a checksum"
        );
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0x10;
        let bad = dir.path().join("flipped.bpk");
        std::fs::write(&bad, &bytes).unwrap();
        let out = dir.path().join("p.csv");
        let mut args = vec!["pick", "examples/none.mrc", "-o", s(&out), flag, s(&bad)];
        if flag == "--classifier" {
            args.push("--refine-classes");
        }
        let e = fails(&args);
        assert!(
            e.contains("flipped.bpk") && e.contains("checksum mismatch"),
            "{e}"
        );
        assert!(!out.exists());
    }
}
