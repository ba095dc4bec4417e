//! `tomopick demo`, `pick` and `train detector` as a user runs them, with the embedded model.

mod common;
use common::{fails, ok, s, simulate};

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
    // Voxel size far from the model's 10 Å.
    let e = fails(&[
        "pick",
        s(&tomo),
        "-o",
        s(&dir.path().join("x.csv")),
        "--voxel-size",
        "4",
    ]);
    assert!(
        e.contains("trained at 10") && e.contains("reconstruction.mrc"),
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
