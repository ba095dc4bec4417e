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
