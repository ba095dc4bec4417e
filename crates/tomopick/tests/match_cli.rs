//! `tomopick simulate template` and `tomopick match-templates` as a user runs them, on a small
//! simulated tomogram at 20 Å with three classes of different size (73 % named right at their
//! true positions when written; chance is 33 %).

mod common;
use common::{fails, ok, s, simulate};

/// Fraction of rows of a match-templates CSV whose new class is the class they came with.
fn agreement(csv: &str) -> f64 {
    let rows: Vec<Vec<&str>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    rows.iter().filter(|r| r[0] == r[5]).count() as f64 / rows.len() as f64
}

#[test]
fn templates_name_particles_at_their_true_positions() {
    let dir = tempfile::tempdir().unwrap();
    let tomo = dir.path().join("t");
    let classes = "1bxn,2cg9,3qm1";
    simulate(
        &tomo,
        "128,128,48",
        "60",
        "5",
        &["--voxel-size", "20", "--classes", classes],
    );
    let rec = tomo.join("reconstruction.mrc");
    let truth = tomo.join("particles.csv");
    let n = std::fs::read_to_string(&truth).unwrap().lines().count() - 1;
    assert!(n >= 30, "{n} particles: too few for z-scores");
    let matched = dir.path().join("matched.csv");
    let args = |templates: &[&str], out: &std::path::Path| {
        let mut a = vec![
            "match-templates",
            s(&rec),
            "--picks",
            s(&truth),
            "--lowpass",
            "50",
            "--highpass",
            "300",
            "--rotations",
            "200",
            "-o",
            s(out),
        ];
        a.extend_from_slice(templates);
        a.iter().map(|v| v.to_string()).collect::<Vec<_>>()
    };
    let run = |a: Vec<String>| ok(&a.iter().map(String::as_str).collect::<Vec<_>>());
    run(args(&["--classes", classes], &matched));
    let csv = std::fs::read_to_string(&matched).unwrap();
    let head = csv.lines().next().unwrap();
    assert!(
        head.starts_with("class,x,y,z,score,input_class,cc_1bxn,cc_2cg9,cc_3qm1,z_1bxn"),
        "{head}"
    );
    assert_eq!(csv.lines().count(), n + 1);
    let acc = agreement(&csv);
    assert!(
        acc >= 0.6,
        "accuracy (chance: 0.33) at the true positions {acc}\n{csv}"
    );

    // The same templates written by `simulate template` and read back give the same scores.
    let tdir = dir.path().join("templates");
    let out = ok(&[
        "simulate",
        "template",
        "--classes",
        classes,
        "--voxel-size",
        "20",
        "-o",
        s(&tdir),
    ]);
    assert!(out.contains("wrote 3 templates"), "{out}");
    let again = dir.path().join("again.csv");
    run(args(&["--templates", s(&tdir)], &again));
    assert_eq!(std::fs::read_to_string(&again).unwrap(), csv);

    // Other list formats carry the class and the z-score.
    let star = dir.path().join("matched.star");
    run(args(&["--classes", classes], &star));
    assert!(
        std::fs::read_to_string(&star)
            .unwrap()
            .contains("_rlnCoordinateX")
    );

    // A template at another voxel size is refused, naming it.
    let t10 = dir.path().join("t10");
    ok(&["simulate", "template", "--classes", "3qm1", "-o", s(&t10)]);
    let err = fails(
        &args(
            &["--templates", s(&t10.join("3qm1.mrc"))],
            &dir.path().join("x.csv"),
        )
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>(),
    );
    assert!(
        err.contains("3qm1.mrc") && err.contains("the tomogram's 20.000 Å"),
        "{err}"
    );
    assert!(!dir.path().join("x.csv").exists());
}

/// `pick --match-templates`: the same picks (positions, scores) as a plain pick, with classes
/// from template matching, and the log says how many changed.
#[test]
fn pick_can_name_its_picks_by_template_matching() {
    let dir = tempfile::tempdir().unwrap();
    let tomo = dir.path().join("t");
    simulate(&tomo, "96,96,48", "30", "3", &[]);
    let rec = tomo.join("reconstruction.mrc");
    let plain = dir.path().join("plain.csv");
    let matched = dir.path().join("matched.csv");
    ok(&["pick", s(&rec), "-o", s(&plain)]);
    let out = common::tomopick(&[
        "pick",
        s(&rec),
        "-o",
        s(&matched),
        "--match-templates",
        "--tilt-max",
        "60",
        "--template-rotations",
        "50",
    ]);
    assert!(out.status.success());
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(
        log.contains("template matching:") && log.contains("picks changed class"),
        "{log}"
    );
    let rows = |p: &std::path::Path| -> Vec<Vec<String>> {
        std::fs::read_to_string(p)
            .unwrap()
            .lines()
            .skip(1)
            .map(|l| l.split(',').map(String::from).collect())
            .collect()
    };
    let (a, b) = (rows(&plain), rows(&matched));
    assert!(a.len() >= 10, "{} picks", a.len());
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x[1..], y[1..], "position and score kept");
    }
    let err = fails(&[
        "pick",
        s(&rec),
        "-o",
        s(&matched),
        "--match-templates",
        "--refine-classes",
    ]);
    assert!(err.contains("--refine-classes"), "{err}");
}
