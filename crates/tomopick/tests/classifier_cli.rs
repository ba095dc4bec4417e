//! `tomopick train classifier`, `classify`, `evaluate-classifier` and `pick --refine-classes`
//! as a user runs them, on a tiny classifier (configs/classifier_smoke.toml, 20 Å).

mod common;
use common::{fails, ok, s, simulate};

/// Trains the smoke classifier into `run` (4 steps), then resumes it to 6.
fn train(run: &std::path::Path) {
    ok(&[
        "train",
        "classifier",
        "--config",
        "configs/classifier_smoke.toml",
        "-o",
        s(run),
    ]);
    let curve = std::fs::read_to_string(run.join("curve.csv")).unwrap();
    assert_eq!(curve.lines().count(), 1 + 4, "{curve}");
    assert!(curve.starts_with("step,loss,class,seg,accuracy"));
    // Validation every 2 steps fills the last two columns.
    let row2: Vec<&str> = curve.lines().nth(2).unwrap().split(',').collect();
    assert!(!row2[6].is_empty() && !row2[7].is_empty(), "{curve}");
    assert!(run.join("curve.png").is_file() && run.join("model.bpk").is_file());
    // The best validated weights are kept beside the last ones.
    assert!(run.join("best.bpk").is_file());
    ok(&[
        "train",
        "classifier",
        "-o",
        s(run),
        "--resume",
        "--steps",
        "6",
    ]);
    let curve = std::fs::read_to_string(run.join("curve.csv")).unwrap();
    assert_eq!(curve.lines().count(), 1 + 6);
}

#[test]
fn classifier_train_classify_and_evaluate() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("cls");
    train(&run);
    let model = run.join("model.bpk");
    let tomo = dir.path().join("t");
    simulate(
        &tomo,
        "64,64,32",
        "12",
        "3",
        &["--voxel-size", "20", "--classes", "1bxn,4v94,3qm1"],
    );
    let rec = tomo.join("reconstruction.mrc");
    let picks = tomo.join("particles.csv");
    let n_picks = std::fs::read_to_string(&picks).unwrap().lines().count() - 1;
    assert!(n_picks > 5);
    // CSV with probabilities, per-particle masks and a label volume.
    let out = dir.path().join("classified.csv");
    let masks = dir.path().join("masks");
    let labels = dir.path().join("labels.mrc");
    ok(&[
        "classify",
        s(&rec),
        "--picks",
        s(&picks),
        "--model",
        s(&model),
        "-o",
        s(&out),
        "--masks",
        s(&masks),
        "--labels",
        s(&labels),
    ]);
    let text = std::fs::read_to_string(&out).unwrap();
    let header = text.lines().next().unwrap();
    assert_eq!(
        header,
        "class,x,y,z,score,input_class,padded,p_1bxn,p_4v94,p_3qm1,p_membrane"
    );
    assert_eq!(
        text.lines().count(),
        1 + n_picks,
        "every pick is classified (padded)"
    );
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let p: f64 = f[7..].iter().map(|v| v.parse::<f64>().unwrap()).sum();
        assert!((p - 1.0).abs() < 2e-3, "{line}");
    }
    assert_eq!(std::fs::read_dir(&masks).unwrap().count(), n_picks);
    let info = ok(&["info", s(&labels)]);
    assert!(info.contains("64") && info.contains("32"), "{info}");
    // Other list formats get class and probability.
    let star = dir.path().join("classified.star");
    ok(&[
        "classify",
        s(&rec),
        "--picks",
        s(&picks),
        "--model",
        s(&model),
        "-o",
        s(&star),
    ]);
    assert!(ok(&["info", s(&star)]).contains(&n_picks.to_string()));
    // A pick near the corner: padded by default, skipped with --skip-border, counted either way.
    let border = dir.path().join("border.csv");
    let mut text = std::fs::read_to_string(&picks).unwrap();
    text.push_str("1bxn,40.0,40.0,320.0,,0,0,0\n");
    std::fs::write(&border, text).unwrap();
    let o = common::tomopick(&[
        "classify",
        s(&rec),
        "--picks",
        s(&border),
        "--model",
        s(&model),
        "-o",
        s(&dir.path().join("padded.csv")),
    ]);
    assert!(o.status.success());
    let padded = std::fs::read_to_string(dir.path().join("padded.csv")).unwrap();
    assert_eq!(padded.lines().count(), 1 + n_picks + 1);
    assert_eq!(
        padded.lines().filter(|l| l.contains(",true,")).count(),
        1,
        "{padded}"
    );
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("1 boxes crossed the border and were padded")
    );
    let o = common::tomopick(&[
        "classify",
        s(&rec),
        "--picks",
        s(&border),
        "--model",
        s(&model),
        "-o",
        s(&dir.path().join("inner.csv")),
        "--skip-border",
    ]);
    assert!(o.status.success());
    let inner = std::fs::read_to_string(dir.path().join("inner.csv")).unwrap();
    assert_eq!(inner.lines().count(), 1 + n_picks);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("1 picks skipped"), "{err}");
    // The evaluation on the simulation's truth.
    let report = dir.path().join("report");
    let stdout = ok(&[
        "evaluate-classifier",
        s(&tomo),
        "--model",
        s(&model),
        "-o",
        s(&report),
    ]);
    assert!(
        stdout.contains(&format!("{n_picks} boxes: accuracy")),
        "{stdout}"
    );
    let md = std::fs::read_to_string(report.join("report.md")).unwrap();
    assert!(
        md.contains("pixel accuracy") && md.contains("Confusion"),
        "{md}"
    );

    // Bad input: a detector is not a classifier; the voxel size must match; a bad pick line.
    let e = fails(&[
        "classify",
        s(&rec),
        "--picks",
        s(&picks),
        "--model",
        "models/detector_shrec10a.bpk",
        "-o",
        s(&dir.path().join("x.csv")),
    ]);
    assert!(e.contains("detector model, not a classifier"), "{e}");
    // A tomogram at another voxel size is resampled to the model's (here 10 Å → 20 Å); one more
    // than 4× away is refused.
    let (x, resampled) = (dir.path().join("x.csv"), dir.path().join("resampled.csv"));
    // (At the pretended 10 Å the tomogram spans half the Å: picks inside that.)
    let near = dir.path().join("near.csv");
    std::fs::write(&near, "class,x,y,z\n1bxn,300,300,150\n4v94,200,400,100\n").unwrap();
    let args = |vs, out| {
        [
            "classify",
            s(&rec),
            "--picks",
            s(&near),
            "--model",
            s(&model),
            "--voxel-size",
            vs,
            "-o",
            out,
        ]
    };
    let o = common::tomopick(&args("10", s(&resampled)));
    let log = String::from_utf8_lossy(&o.stderr);
    assert!(
        o.status.success() && log.contains("resampled to the model's 20 Å"),
        "{log}"
    );
    let e = fails(&args("90", s(&x)));
    assert!(e.contains("trained at 20"), "{e}");
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "class,x,y,z,score\n1bxn,10,abc,3,1\n").unwrap();
    let e = fails(&[
        "classify",
        s(&rec),
        "--picks",
        s(&bad),
        "--model",
        s(&model),
        "-o",
        s(&out),
    ]);
    assert!(e.contains("bad.csv") && e.contains("line 2"), "{e}");
    assert!(!dir.path().join("x.csv").exists());
}

#[test]
fn refine_classes_refuses_a_classifier_at_another_voxel_size_or_class_set_before_picking() {
    let dir = tempfile::tempdir().unwrap();
    // The smoke classifier changed to: (a) the detector's 13 classes at 20 Å; (b) 3 classes at 10 Å.
    let smoke = std::fs::read_to_string(common::root().join("configs/classifier_smoke.toml"))
        .unwrap()
        .replace("validate_every = 2", "validate_every = 0");
    let train = |name: &str, cfg: String| {
        let path = dir.path().join(format!("{name}.toml"));
        std::fs::write(&path, cfg).unwrap();
        let run = dir.path().join(name);
        ok(&[
            "train",
            "classifier",
            "--config",
            s(&path),
            "-o",
            s(&run),
            "--steps",
            "1",
        ]);
        run.join("model.bpk")
    };
    let at20 = train(
        "at20",
        smoke.replace("classes = [\"1bxn\", \"4v94\", \"3qm1\"]", "classes = []"),
    );
    let three = train(
        "three",
        smoke.replace("voxel_size_a = 20.0", "voxel_size_a = 10.0"),
    );
    let tomo = dir.path().join("t");
    simulate(&tomo, "64,64,32", "5", "2", &[]);
    let rec = tomo.join("reconstruction.mrc");
    let out = dir.path().join("p.csv");
    for (model, message) in [(&at20, "trained at 20"), (&three, "are not the detector's")] {
        let e = fails(&[
            "pick",
            s(&rec),
            "-o",
            s(&out),
            "--refine-classes",
            "--classifier",
            s(model),
        ]);
        assert!(e.contains(message), "{e}");
        assert!(!out.exists());
    }
    // Pixel-based picks on a tomogram without a voxel size: the unit cannot be resolved.
    let e = fails(&[
        "classify",
        "tests/fixtures/made/zero_voxel_size.mrc",
        "--picks",
        "tests/fixtures/made/relion4_particles.star",
        "--model",
        s(&three),
        "-o",
        s(&dir.path().join("c.csv")),
    ]);
    assert!(
        e.contains("zero_voxel_size.mrc") && e.contains("--voxel-size"),
        "{e}"
    );
}

#[test]
fn pick_refine_classes_takes_the_classifiers_classes() {
    let dir = tempfile::tempdir().unwrap();
    // The smoke classifier at the detector's 10 Å, with the 13 SHREC classes.
    let cfg = std::fs::read_to_string(common::root().join("configs/classifier_smoke.toml"))
        .unwrap()
        .replace("voxel_size_a = 20.0", "voxel_size_a = 10.0")
        .replace("classes = [\"1bxn\", \"4v94\", \"3qm1\"]", "classes = []")
        .replace("steps = 4", "steps = 1")
        .replace("validate_every = 2", "validate_every = 0");
    let cfg_path = dir.path().join("c10.toml");
    std::fs::write(&cfg_path, cfg).unwrap();
    let run = dir.path().join("cls");
    ok(&[
        "train",
        "classifier",
        "--config",
        s(&cfg_path),
        "-o",
        s(&run),
    ]);
    let tomo = dir.path().join("t");
    simulate(&tomo, "96,96,48", "30", "2", &[]);
    let out = dir.path().join("p.csv");
    let o = common::tomopick(&[
        "pick",
        s(&tomo.join("reconstruction.mrc")),
        "-o",
        s(&out),
        "--refine-classes",
        "--classifier",
        s(&run.join("model.bpk")),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("picks changed class") && err.contains("called membrane"),
        "{err}"
    );
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.lines().skip(1).all(|l| !l.starts_with("membrane,")),
        "{text}"
    );
    // Refinement changes classes only: the same picks at the same places as without it.
    let plain = dir.path().join("plain.csv");
    ok(&["pick", s(&tomo.join("reconstruction.mrc")), "-o", s(&plain)]);
    let places = |t: &str| -> Vec<String> {
        t.lines()
            .skip(1)
            .map(|l| l.split_once(',').unwrap().1.to_string())
            .collect()
    };
    let plain = std::fs::read_to_string(&plain).unwrap();
    assert!(!places(&plain).is_empty());
    assert_eq!(places(&text), places(&plain));
}

#[test]
fn the_embedded_classifier_classifies_a_fresh_simulation() {
    let dir = tempfile::tempdir().unwrap();
    let tomo = dir.path().join("t");
    simulate(&tomo, "96,96,48", "20", "9", &[]);
    let out = dir.path().join("c.csv");
    let stdout = ok(&[
        "classify",
        s(&tomo.join("reconstruction.mrc")),
        "--picks",
        s(&tomo.join("particles.csv")),
        "-o",
        s(&out),
    ]);
    let text = std::fs::read_to_string(&out).unwrap();
    let header = text.lines().next().unwrap();
    // The 13 SHREC 2021 classes and the membrane class.
    assert_eq!(header.matches(",p_").count(), 14, "{header}");
    assert!(header.ends_with(",p_membrane"));
    let n = text.lines().count() - 1;
    assert!(
        n > 10 && stdout.contains(&format!("{n} particles")),
        "{stdout}"
    );
}
