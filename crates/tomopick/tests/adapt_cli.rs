//! `tomopick adapt` as a user runs it: label, fine-tune, resume, pick with the adapted model.

mod common;
use common::{fails, ok, s, simulate, tomopick};

#[test]
fn adapt_labels_fine_tunes_resumes_and_its_model_picks() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("t");
    simulate(&t, "96,96,64", "40", "31", &[]);
    let tomo = t.join("reconstruction.mrc");
    let run = dir.path().join("adapted");
    let out = tomopick(&["adapt", s(&tomo), "-o", s(&run), "--steps", "2"]);
    let (stdout, log) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{log}");
    assert!(stdout.contains("adapted model:"), "{stdout}");
    assert!(log.contains("picks as its labels"), "{log}");
    assert!(log.contains("(pick threshold 0.6)"), "{log}");
    let labels = run.join("labels").join("00_reconstruction.csv");
    let labelled = std::fs::read_to_string(&labels).unwrap();
    // The labels are the default model's picks of the tomogram, as `pick` gives them.
    let picks = dir.path().join("picks.csv");
    ok(&["pick", s(&tomo), "-o", s(&picks)]);
    let picked = std::fs::read_to_string(&picks).unwrap();
    let without_tomogram: Vec<&str> = picked
        .lines()
        .map(|l| l.rsplit_once(',').unwrap().0)
        .collect();
    assert_eq!(labelled.lines().collect::<Vec<_>>(), without_tomogram);
    assert!(labelled.lines().count() > 5, "{labelled}");
    for f in ["base.bpk", "adapt.toml", "training/train.toml", "model.bpk"] {
        assert!(run.join(f).is_file(), "{f} missing");
    }
    let cfg = std::fs::read_to_string(run.join("adapt.toml")).unwrap();
    assert!(
        cfg.contains("steps = 2") && cfg.contains("[[user_data]]"),
        "{cfg}"
    );
    // The same command again continues the run (here: to 3 steps) without labelling again.
    let out = tomopick(&["adapt", s(&tomo), "-o", s(&run), "--steps", "3"]);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("resuming") && log.contains("step 3"), "{log}");
    assert!(!log.contains("as its labels"), "{log}");
    // Other tomograms cannot continue it.
    let e = fails(&["adapt", s(&t.join("noise_free.mrc")), "-o", s(&run)]);
    assert!(
        e.contains("other tomograms") && e.contains("00_reconstruction"),
        "{e}"
    );
    // The adapted model picks with its own threshold.
    let adapted = dir.path().join("adapted.csv");
    ok(&[
        "pick",
        s(&tomo),
        "--model",
        s(&run.join("model.bpk")),
        "-o",
        s(&adapted),
    ]);
    assert!(std::fs::read_to_string(&adapted).unwrap().lines().count() > 1);
}

#[test]
fn adapt_resamples_a_tomogram_at_another_voxel_size_and_refuses_bad_requests() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("t");
    simulate(&t, "96,96,64", "40", "32", &[]);
    let tomo = t.join("reconstruction.mrc");
    // Claimed 8 Å: the model (10 Å) sees it resampled, and trains on the resampled grid.
    let run = dir.path().join("a8");
    ok(&[
        "adapt",
        s(&tomo),
        "-o",
        s(&run),
        "--steps",
        "1",
        "--voxel-size",
        "8",
    ]);
    let grid = run.join("tomograms").join("00_reconstruction.mrc");
    let info = ok(&["info", s(&grid)]);
    assert!(info.contains("10"), "{info}");
    // Resuming it with other options would keep the saved ones without a word: refused.
    let e = fails(&["adapt", s(&tomo), "-o", s(&run), "--steps", "2"]);
    assert!(
        e.contains("--voxel-size") && e.contains("8 8 8") && e.contains("from the header"),
        "{e}"
    );
    let e = fails(&[
        "adapt",
        s(&tomo),
        "-o",
        s(&run),
        "--voxel-size",
        "8",
        "--seed",
        "5",
    ]);
    assert!(e.contains("--seed 1 (now 5)"), "{e}");
    // A folder that holds something else is not overwritten.
    let busy = dir.path().join("busy");
    std::fs::create_dir_all(&busy).unwrap();
    std::fs::write(busy.join("notes.txt"), "mine").unwrap();
    let e = fails(&["adapt", s(&tomo), "-o", s(&busy), "--steps", "1"]);
    assert!(e.contains("busy") && e.contains("not an adapt run"), "{e}");
    let e = fails(&[
        "adapt",
        s(&tomo),
        "-o",
        s(&dir.path().join("f")),
        "--user-fraction",
        "0",
    ]);
    assert!(e.contains("--user-fraction 0"), "{e}");
    let e = fails(&[
        "adapt",
        s(&dir.path().join("missing.mrc")),
        "-o",
        s(&dir.path().join("m")),
    ]);
    assert!(e.contains("missing.mrc"), "{e}");
    // Refused before anything is written: no folder left behind.
    assert!(!dir.path().join("m").exists());
}

#[test]
fn adapt_with_template_matching_labels_the_classes_as_pick_match_templates_does() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("t");
    simulate(&t, "96,96,64", "40", "33", &[]);
    let tomo = t.join("reconstruction.mrc");
    let tm = [
        "--match-templates",
        "--tilt-max",
        "60",
        "--template-rotations",
        "20",
    ];
    let run = dir.path().join("tm");
    let mut args = vec!["adapt", s(&tomo), "-o", s(&run), "--steps", "1"];
    args.extend_from_slice(&tm);
    let out = tomopick(&args);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("pick threshold 0.5"), "{log}");
    let picks = dir.path().join("picks.csv");
    let mut args = vec!["pick", s(&tomo), "-o", s(&picks)];
    args.extend_from_slice(&tm);
    ok(&args);
    let classes = |text: &str| -> Vec<String> {
        text.lines()
            .skip(1)
            .map(|l| l.split(',').next().unwrap().to_string())
            .collect()
    };
    let labels = std::fs::read_to_string(run.join("labels").join("00_reconstruction.csv")).unwrap();
    let picked = std::fs::read_to_string(&picks).unwrap();
    assert!(classes(&labels).len() > 5);
    assert_eq!(classes(&labels), classes(&picked));
    let e = fails(&[
        "adapt",
        s(&tomo),
        "-o",
        s(&dir.path().join("bad")),
        "--match-templates",
        "--template-rotations",
        "0",
    ]);
    assert!(e.contains("orientation"), "{e}");
}

#[test]
fn adapt_with_the_samples_classes_labels_as_pick_classes_does_and_refuses_others() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("t");
    simulate(&t, "96,96,64", "40", "34", &[]);
    let tomo = t.join("reconstruction.mrc");
    let run = dir.path().join("three");
    let three = "4v94,1bxn,3cf3";
    let out = tomopick(&[
        "adapt",
        s(&tomo),
        "-o",
        s(&run),
        "--steps",
        "1",
        "--classes",
        three,
    ]);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    // The labels are the picks `pick --classes` gives: the same rows, named among the three.
    let picks = dir.path().join("picks.csv");
    ok(&["pick", s(&tomo), "-o", s(&picks), "--classes", three]);
    let labels = std::fs::read_to_string(run.join("labels").join("00_reconstruction.csv")).unwrap();
    let picked = std::fs::read_to_string(&picks).unwrap();
    // The labels are the picks without their score.
    let picked: Vec<&str> = picked
        .lines()
        .map(|l| l.rsplit_once(',').unwrap().0)
        .collect();
    let labels: Vec<&str> = labels.lines().collect();
    assert_eq!(labels, picked);
    assert!(labels.len() > 5);
    for l in labels.iter().skip(1) {
        let class = l.split(',').next().unwrap();
        assert!(three.split(',').any(|c| c == class), "{l}");
    }
    // A resume with other classes is refused, naming the option.
    let e = fails(&["adapt", s(&tomo), "-o", s(&run), "--steps", "2"]);
    assert!(e.contains("--classes") && e.contains(three), "{e}");
    // A class the model lacks, or classes with given labels, are refused before anything is written.
    let bad = dir.path().join("bad");
    let e = fails(&[
        "adapt",
        s(&tomo),
        "-o",
        s(&bad),
        "--classes",
        "4v94,ribosome",
    ]);
    assert!(e.contains("ribosome") && e.contains("--classes"), "{e}");
    assert!(!bad.exists(), "a refused run left {}", bad.display());
    let e = fails(&[
        "adapt",
        s(&tomo),
        "-o",
        s(&bad),
        "--classes",
        "4v94",
        "--labels",
        s(&picks),
    ]);
    assert!(e.contains("--labels with --classes"), "{e}");
}

#[test]
fn adapt_fine_tunes_on_given_labels_and_refuses_bad_ones() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("t");
    simulate(&t, "96,96,64", "40", "34", &[]);
    let tomo = t.join("reconstruction.mrc");
    let truth = t.join("particle_locations.txt");
    let run = dir.path().join("given");
    // Labels the model does not have, or outside the tomogram, are refused naming the file.
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "class,x,y,z\nribosome,100,100,100\n").unwrap();
    let e = fails(&["adapt", s(&tomo), "--labels", s(&bad), "-o", s(&run)]);
    assert!(e.contains("bad.csv") && e.contains("'ribosome'"), "{e}");
    let far = dir.path().join("far.csv");
    std::fs::write(&far, "class,x,y,z\n4v94,100,100,100\n4v94,9999,100,100\n").unwrap();
    let e = fails(&["adapt", s(&tomo), "--labels", s(&far), "-o", s(&run)]);
    assert!(
        e.contains("far.csv") && e.contains("particle 2") && e.contains("lies outside"),
        "{e}"
    );
    let e = fails(&[
        "adapt",
        s(&tomo),
        s(&tomo),
        "--labels",
        s(&truth),
        "-o",
        s(&run),
    ]);
    assert!(e.contains("1 lists for 2 tomograms"), "{e}");
    // Nothing was written for the refused requests.
    assert!(!run.exists(), "a refused request left {}", run.display());
    // Given labels (here the tomogram's truth, SHREC text in voxels) are what it trains on.
    let out = tomopick(&[
        "adapt",
        s(&tomo),
        "--labels",
        s(&truth),
        "-o",
        s(&run),
        "--steps",
        "1",
    ]);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("labels from"), "{log}");
    let n_truth = std::fs::read_to_string(&truth)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count();
    let labelled =
        std::fs::read_to_string(run.join("labels").join("00_reconstruction.csv")).unwrap();
    assert_eq!(labelled.lines().count(), n_truth + 1, "{labelled}");
    assert!(run.join("model.bpk").is_file());
    // Continuing it as self-training would silently keep the given labels: refused.
    let e = fails(&["adapt", s(&tomo), "-o", s(&run), "--steps", "2"]);
    assert!(e.contains("--labels") && e.contains("own picks"), "{e}");
}
