//! `pick --classes`: the user names the classes the sample holds, and every pick is named among
//! them.

mod common;
use common::{ok, s, simulate};

#[test]
fn pick_names_every_pick_among_the_classes_the_sample_holds() {
    let dir = tempfile::tempdir().unwrap();
    let tomo = dir.path().join("t");
    simulate(&tomo, "96,96,48", "30", "2", &[]);
    let rec = tomo.join("reconstruction.mrc");
    // One threshold for every class, so that renaming cannot change which picks pass.
    let all = dir.path().join("all.csv");
    ok(&["pick", s(&rec), "-o", s(&all), "--threshold", "0.3"]);
    let some = dir.path().join("some.csv");
    let held = ["1bxn", "3qm1", "4v94"];
    ok(&[
        "pick",
        s(&rec),
        "-o",
        s(&some),
        "--threshold",
        "0.3",
        "--classes",
        "4v94, 1bxn,3qm1",
    ]);
    let rows = |p: &std::path::Path| -> Vec<(String, String)> {
        std::fs::read_to_string(p)
            .unwrap()
            .lines()
            .skip(1)
            .map(|l| {
                let (c, rest) = l.split_once(',').unwrap();
                (c.to_string(), rest.to_string())
            })
            .collect()
    };
    let (all, some) = (rows(&all), rows(&some));
    assert!(all.len() > 5, "{all:?}");
    // The same picks at the same places with the same scores; only classes change.
    assert_eq!(
        all.iter().map(|r| &r.1).collect::<Vec<_>>(),
        some.iter().map(|r| &r.1).collect::<Vec<_>>()
    );
    assert!(
        some.iter().all(|(c, _)| held.contains(&c.as_str())),
        "{some:?}"
    );
    // A pick already named one of them keeps its name; some others were renamed.
    for ((a, _), (b, _)) in all.iter().zip(&some) {
        if held.contains(&a.as_str()) {
            assert_eq!(a, b);
        }
    }
    assert!(
        all.iter().any(|(c, _)| !held.contains(&c.as_str())),
        "{all:?}"
    );
}

#[test]
fn template_matching_matches_only_the_samples_classes_and_names_by_their_scores() {
    let dir = tempfile::tempdir().unwrap();
    let tomo = dir.path().join("t");
    simulate(&tomo, "96,96,48", "30", "2", &[]);
    let rec = tomo.join("reconstruction.mrc");
    let run = |name: &str, extra: &[&str]| -> Vec<std::collections::HashMap<String, String>> {
        let scores = dir.path().join(format!("{name}_scores.csv"));
        let picks = dir.path().join(format!("{name}.csv"));
        let mut args = vec![
            "pick",
            s(&rec),
            "-o",
            s(&picks),
            "--threshold",
            "0.3",
            "--match-templates",
            "--template-rotations",
            "50",
            "--class-scores",
            s(&scores),
        ];
        args.extend_from_slice(extra);
        ok(&args);
        let text = std::fs::read_to_string(&scores).unwrap();
        let mut lines = text.lines();
        let head: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
        lines
            .map(|l| {
                head.iter()
                    .cloned()
                    .zip(l.split(',').map(String::from))
                    .collect()
            })
            .collect()
    };
    let all = run("all", &[]);
    // None of the library's two largest classes (4v94, 5mrc): the boxes and reference places
    // still allow for them, so the sample's classes score as when all are matched.
    let held = ["1bxn", "3qm1", "4cr2"];
    let some = run("some", &["--classes", "4cr2,1bxn,3qm1"]);
    assert_eq!(all.len(), some.len());
    assert!(!all.is_empty());
    let z = |r: &std::collections::HashMap<String, String>, c: &str| -> f64 {
        r[&format!("z_{c}")].parse().unwrap()
    };
    // The sample's class of highest z-score in a row.
    let best_of_held = |r: &std::collections::HashMap<String, String>| -> &str {
        held.iter()
            .copied()
            .max_by(|x, y| z(r, x).total_cmp(&z(r, y)))
            .unwrap()
    };
    for (a, b) in all.iter().zip(&some) {
        // Each class's scores do not depend on which others were matched.
        for c in held {
            assert_eq!(a[&format!("cc_{c}")], b[&format!("cc_{c}")]);
        }
        // A class not matched has no score.
        assert_eq!(b["cc_5mrc"], "NaN");
        // The name is the best of the sample's classes by its standardised score (each class's
        // z-score against the reference places, weighted by its own spread there), and the
        // same as choosing among the sample's classes after matching all of them.
        assert_eq!(b["class"], best_of_held(b));
        assert_eq!(b["class"], best_of_held(a));
    }
}
