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
    let (plain_scores, matched_scores) = (dir.path().join("ps.csv"), dir.path().join("ms.csv"));
    ok(&[
        "pick",
        s(&rec),
        "-o",
        s(&plain),
        "--class-scores",
        s(&plain_scores),
    ]);
    let out = common::tomopick(&[
        "pick",
        s(&rec),
        "-o",
        s(&matched),
        "--class-scores",
        s(&matched_scores),
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
    // --class-scores: one row per pick, in the list's order. Plain: the detector's class
    // probabilities, a distribution whose largest is the pick's class. Matched: the same
    // probabilities, then each class's correlation and z-score, which name the pick's class.
    let header = |p: &std::path::Path| -> Vec<String> {
        let text = std::fs::read_to_string(p).unwrap();
        text.lines()
            .next()
            .unwrap()
            .split(',')
            .map(String::from)
            .collect()
    };
    let classes: Vec<String> = header(&plain_scores)
        .iter()
        .filter_map(|h| h.strip_prefix("p_").map(String::from))
        .collect();
    assert_eq!(classes.len(), 13, "{:?}", header(&plain_scores));
    let argmax = |v: &[String]| -> usize {
        let f: Vec<f64> = v.iter().map(|x| x.parse().unwrap()).collect();
        (0..f.len()).fold(0, |b, i| if f[i] > f[b] { i } else { b })
    };
    let (ps, ms) = (rows(&plain_scores), rows(&matched_scores));
    assert_eq!(ps.len(), a.len());
    assert_eq!(ms.len(), a.len());
    for ((p, m), (x, y)) in ps.iter().zip(&ms).zip(a.iter().zip(&b)) {
        assert_eq!(p[..5], x[..5], "class, position and score as in the list");
        assert_eq!(m[..5], y[..5]);
        let probs = &p[5..18];
        let total: f64 = probs.iter().map(|v| v.parse::<f64>().unwrap()).sum();
        assert!((total - 1.0).abs() < 2e-3, "{total}");
        assert_eq!(classes[argmax(probs)], x[0]);
        assert_eq!(m[5..18], p[5..18], "the detector's probabilities kept");
        assert_eq!(m.len(), 5 + 3 * 13);
        // The class of highest standardised score (against places of the tomogram away from
        // the picks). (Written to 4 decimals: the class's score is the largest, ties allowed.)
        let decides = &m[31..44];
        let own = classes.iter().position(|c| c == &y[0]).unwrap();
        let best = &decides[argmax(decides)];
        assert_eq!(decides[own], *best, "{:?}", decides);
    }
    assert_eq!(header(&matched_scores)[31], format!("z_{}", classes[0]));
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
