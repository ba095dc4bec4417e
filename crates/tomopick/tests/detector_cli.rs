//! `tomopick demo`, `pick` and `train detector` as a user runs them, with the embedded model.

mod common;
use common::{fails, ok, s, shrec_f1, simulate};

#[test]
fn the_demo_finds_most_particles_of_a_fresh_simulation() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    // A seed the default model never trained on (training cubes use seed 1's stream; the
    // demo's tomogram is a different simulation altogether).
    let stdout = ok(&[
        "demo",
        "-o",
        s(&out),
        "--seed",
        "4242",
        "--size",
        "128",
        "--particles",
        "80",
    ]);
    for f in [
        "tomogram.mrc",
        "picks.csv",
        "picks.star",
        "truth.csv",
        "report.md",
        "report.json",
        "preview_picks.png",
        "preview_truth.png",
    ] {
        assert!(out.join(f).is_file(), "{f} missing; {stdout}");
    }
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let f1 = report["shrec"]["overall"]["f_beta"].as_f64().unwrap();
    assert_eq!(report["beta"].as_f64(), Some(1.0));
    assert!(f1 > 0.5, "class-agnostic F1 {f1}");
    // The demo never overwrites.
    let e = fails(&["demo", "-o", s(&out)]);
    assert!(e.contains("already exists"), "{e}");
}

#[test]
fn pick_writes_every_format_and_refuses_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("t");
    simulate(&t, "96,96,48", "30", "11", &[]);
    let tomo = t.join("reconstruction.mrc");
    let csv = dir.path().join("p.csv");
    let stdout = ok(&[
        "pick",
        s(&tomo),
        "-o",
        s(&csv),
        "--preview",
        s(&dir.path().join("p.png")),
    ]);
    assert!(stdout.contains("particles"), "{stdout}");
    let streamed = dir.path().join("streamed.csv");
    ok(&["pick", s(&tomo), "-o", s(&streamed)]);
    assert_eq!(
        std::fs::read_to_string(&csv).unwrap(),
        std::fs::read_to_string(&streamed).unwrap(),
        "streaming from disk and picking in memory agree"
    );
    ok(&["pick", s(&tomo), "-o", s(&dir.path().join("p.star"))]);
    // A voxel size 10× from the model's 10 Å (IMOD's "unknown" 1 Å): refused, not resampled.
    let e = fails(&[
        "pick",
        s(&tomo),
        "-o",
        s(&dir.path().join("x.csv")),
        "--voxel-size",
        "1",
    ]);
    assert!(
        e.contains("trained at 10")
            && e.contains("reconstruction.mrc")
            && e.contains("--voxel-size"),
        "{e}"
    );
    assert!(!dir.path().join("x.csv").exists());
    // An output folder that does not exist: refused before any work.
    let e = fails(&[
        "pick",
        s(&tomo),
        "-o",
        s(&dir.path().join("no/such/dir/p.csv")),
    ]);
    assert!(e.contains("no/such/dir"), "{e}");
    // A model that is not ours.
    let junk = dir.path().join("junk.bpk");
    std::fs::write(&junk, b"not a model").unwrap();
    let e = fails(&[
        "pick",
        s(&tomo),
        "-o",
        s(&dir.path().join("y.csv")),
        "--model",
        s(&junk),
    ]);
    assert!(
        e.contains("junk.bpk") && e.contains("not a tomopick model"),
        "{e}"
    );
    // NaNs in the tomogram.
    let nan = dir.path().join("nan.mrc");
    let mut bytes = std::fs::read(&tomo).unwrap();
    let at = 1024 + 4 * 500;
    bytes[at..at + 4].copy_from_slice(&f32::NAN.to_le_bytes());
    std::fs::write(&nan, bytes).unwrap();
    let e = fails(&["pick", s(&nan), "-o", s(&dir.path().join("z.csv"))]);
    assert!(e.contains("NaN") && e.contains("nan.mrc"), "{e}");
    assert!(!dir.path().join("z.csv").exists());
    // A tomogram that is not there: the OS's words once, with the path.
    let e = fails(&["pick", s(&dir.path().join("gone.mrc")), "-o", s(&csv)]);
    assert!(e.contains("gone.mrc"), "{e}");
    assert_eq!(e.matches("os error").count(), 1, "{e}");
    // Out-of-range options name the option and the value.
    let e = fails(&["pick", s(&tomo), "-o", s(&csv), "--threshold", "1.5"]);
    assert!(e.contains("--threshold 1.5"), "{e}");
    let e = fails(&["pick", s(&tomo), "-o", s(&csv), "--tile", "16"]);
    assert!(e.contains("--tile 16"), "{e}");
}

#[test]
fn a_tomogram_at_another_voxel_size_is_resampled_and_picks_stay_in_its_frame() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("t7a");
    ok(&[
        "simulate",
        "tomogram",
        "--config",
        "configs/tomogram_7a.toml",
        "--seed",
        "11",
        "-o",
        s(&t),
    ]);
    let tomo = t.join("reconstruction.mrc");
    let csv = dir.path().join("p.csv");
    let o = common::tomopick(&["pick", s(&tomo), "-o", s(&csv)]);
    let log = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{log}");
    assert!(log.contains("resampled to the model's 10 Å"), "{log}");
    // Scored against the simulation's own truth (positions in Å at 7 Å voxels).
    let f1 = shrec_f1(&csv, &t, &dir.path().join("report"));
    // Release build, seeds 11-13: 0.67-0.72; pretending the voxels are 10 Å: 0.2-0.3 lower.
    assert!(f1 > 0.5, "class-agnostic F1 {f1}");
    // Pixel lists count the tomogram's own 7 Å voxels: back to Å with 7, the same positions.
    let star = dir.path().join("p.star");
    ok(&["pick", s(&tomo), "-o", s(&star)]);
    let back = dir.path().join("back.csv");
    ok(&["convert", s(&star), s(&back), "--voxel-size", "7"]);
    let xyz = |p: &std::path::Path| -> Vec<[f64; 3]> {
        std::fs::read_to_string(p)
            .unwrap()
            .lines()
            .skip(1)
            .map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                [1, 2, 3].map(|i| f[i].parse().unwrap())
            })
            .collect()
    };
    let (a, b) = (xyz(&csv), xyz(&back));
    assert_eq!(a.len(), b.len());
    for (p, q) in a.iter().zip(&b) {
        assert!((0..3).all(|i| (p[i] - q[i]).abs() < 0.01), "{p:?} vs {q:?}");
    }
    // The in-memory path (taken for --preview) resamples the same way.
    let mem = dir.path().join("mem.csv");
    ok(&[
        "pick",
        s(&tomo),
        "-o",
        s(&mem),
        "--preview",
        s(&dir.path().join("p.png")),
    ]);
    assert_eq!(
        std::fs::read_to_string(&csv).unwrap(),
        std::fs::read_to_string(&mem).unwrap()
    );
}

#[test]
fn a_tomogram_smaller_than_a_tile_is_padded() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("t");
    simulate(&t, "40,36,20", "3", "2", &[]);
    ok(&[
        "pick",
        s(&t.join("reconstruction.mrc")),
        "-o",
        s(&dir.path().join("p.csv")),
    ]);
}

#[test]
fn train_detector_runs_checkpoints_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    ok(&[
        "train",
        "detector",
        "--config",
        "configs/detector_smoke.toml",
        "-o",
        s(&run),
        "--steps",
        "2",
    ]);
    for f in [
        "train.toml",
        "curve.csv",
        "curve.png",
        "model.bpk",
        "checkpoint/model.bpk",
        "checkpoint/optimizer.bpk",
    ] {
        assert!(run.join(f).is_file(), "{f} missing");
    }
    // A stop in the middle of a checkpoint swap leaves only checkpoint.old: resume restores it.
    std::fs::rename(run.join("checkpoint"), run.join("checkpoint.old")).unwrap();
    ok(&["train", "detector", "-o", s(&run), "--resume"]);
    let curve = std::fs::read_to_string(run.join("curve.csv")).unwrap();
    assert_eq!(curve.lines().count(), 1 + 4, "{curve}");
    assert!(
        curve.lines().nth(2).unwrap().split(',').nth(6).unwrap() != "",
        "validation F1 at step 2: {curve}"
    );
    // The model carries the confidence threshold calibrated on the validation tomogram.
    let model = run.join("model.bpk");
    let bytes = std::fs::read(&model).unwrap();
    let t = tomopick_nn::model_file::read_config(&bytes, &model)
        .unwrap()
        .pick_threshold;
    let k = (t - 0.10) / 0.05;
    assert!(
        (0.1..=0.9).contains(&t) && (k - k.round()).abs() < 1e-9,
        "threshold {t}"
    );
    let e = fails(&[
        "train",
        "detector",
        "--config",
        "configs/detector_smoke.toml",
        "-o",
        s(&run),
    ]);
    assert!(e.contains("--resume"), "{e}");
}

#[test]
fn fine_tuning_mixes_in_user_tomograms_and_picks() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base");
    ok(&[
        "train",
        "detector",
        "--config",
        "configs/detector_smoke.toml",
        "-o",
        s(&base),
        "--steps",
        "1",
    ]);
    let t = dir.path().join("t");
    simulate(&t, "64,64,32", "8", "5", &["--classes", "4v94,1bxn"]);
    let smoke = std::fs::read_to_string("../../configs/detector_smoke.toml").unwrap();
    let with_user = |picks: &std::path::Path| {
        smoke.replace(
            "[validation]",
            &format!(
                "init_model = {:?}\nuser_fraction = 1.0\n[validation]",
                base.join("model.bpk")
            ),
        ) + &format!(
            "[[user_data]]\ntomogram = {:?}\npicks = {:?}\n",
            t.join("reconstruction.mrc"),
            picks
        )
    };
    let cfg = dir.path().join("finetune.toml");
    std::fs::write(&cfg, with_user(&t.join("particles.csv"))).unwrap();
    let run = dir.path().join("ft");
    ok(&[
        "train",
        "detector",
        "--config",
        s(&cfg),
        "-o",
        s(&run),
        "--steps",
        "2",
    ]);
    assert!(run.join("model.bpk").is_file());
    // Picks of a class the model does not know.
    let odd = dir.path().join("odd.csv");
    std::fs::write(&odd, "class,x,y,z\nribosome,100,100,100\n").unwrap();
    let cfg2 = dir.path().join("bad.toml");
    std::fs::write(&cfg2, with_user(&odd)).unwrap();
    let e = fails(&[
        "train",
        "detector",
        "--config",
        s(&cfg2),
        "-o",
        s(&dir.path().join("bad")),
    ]);
    assert!(e.contains("odd.csv") && e.contains("ribosome"), "{e}");
}

#[test]
fn calibrate_fits_thresholds_on_annotated_folders_and_pick_uses_them() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    simulate(&a, "96,96,48", "40", "21", &[]);
    simulate(&b, "96,96,48", "40", "22", &[]);
    let model = dir.path().join("cal.bpk");
    let out = ok(&["calibrate", s(&a), s(&b), "-o", s(&model)]);
    assert!(out.contains("mean F1 over 2 tomograms"), "{out}");
    assert!(
        out.contains("F1") && out.contains("with the model's thresholds"),
        "{out}"
    );
    // The printed mean is the mean of the two tomograms' F1s under the written thresholds.
    let mean: f64 = out
        .split("mean F1 over 2 tomograms: ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap()
        .parse()
        .unwrap();
    let mut f1s = Vec::new();
    for t in [&a, &b] {
        let picks = dir.path().join("p.csv");
        ok(&[
            "pick",
            s(&t.join("reconstruction.mrc")),
            "-o",
            s(&picks),
            "--model",
            s(&model),
        ]);
        f1s.push(shrec_f1(&picks, t, &dir.path().join("r")));
    }
    // Printed to 3 decimals; calibration picks the volume in memory and `pick` streams the file,
    // whose standardisation can differ in the last bit and flip a pick at a threshold's edge
    // (one pick of ~40 particles moves F1 by ~0.01).
    let got = (f1s[0] + f1s[1]) / 2.0;
    assert!(
        (got - mean).abs() < 0.02,
        "picking with the model: {got}, calibration: {mean}"
    );
    // --single writes one threshold for every class.
    let single = dir.path().join("single.bpk");
    ok(&["calibrate", s(&a), "--single", "-o", s(&single)]);
    let o = common::tomopick(&[
        "pick",
        s(&a.join("reconstruction.mrc")),
        "-o",
        s(&dir.path().join("q.csv")),
        "--model",
        s(&single),
    ]);
    let log = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success() && !log.contains("per class"), "{log}");
    // A folder without its occupancy mask: refused by name, nothing written.
    std::fs::remove_file(b.join("occupancy_mask.mrc")).unwrap();
    let bad = dir.path().join("bad.bpk");
    let e = fails(&["calibrate", s(&a), s(&b), "-o", s(&bad)]);
    assert!(e.contains("occupancy_mask.mrc"), "{e}");
    assert!(!bad.exists());
}
