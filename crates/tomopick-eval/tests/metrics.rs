//! The metrics on known cases.

use ndarray::Array3;
use tomopick_eval::{ClassTable, CziiOptions, Occupancy, dilate_labels, evaluate, f_beta};
use tomopick_io::{Particle, PosAngstrom, Volume, VoxelSize};

const VS: f64 = 10.0;
const SHAPE: [usize; 3] = [100, 100, 50];

/// A grid of well-separated particles of two classes.
fn truth() -> Vec<Particle> {
    let mut v = Vec::new();
    for i in 0..5 {
        for j in 0..5 {
            let class = if (i + j) % 2 == 0 { "ribosome" } else { "apo" };
            v.push(Particle::new(
                class,
                PosAngstrom::new(100.0 + 180.0 * i as f64, 100.0 + 180.0 * j as f64, 250.0),
            ));
        }
    }
    v
}

fn classes() -> ClassTable {
    let mut t = ClassTable::default();
    t.radius_a.insert("ribosome".into(), 60.0);
    t.radius_a.insert("apo".into(), 40.0);
    t
}

fn run(picks: &[Particle]) -> tomopick_eval::EvalReport {
    let occ = Occupancy::Spheres {
        shape_xyz: SHAPE,
        voxel_size: VoxelSize::isotropic(VS),
    };
    evaluate(
        picks,
        &truth(),
        &classes(),
        occ,
        CziiOptions::default(),
        ("picks", "truth"),
    )
    .unwrap()
}

#[test]
fn truth_as_picks_scores_one() {
    let r = run(&truth());
    for m in [r.shrec.as_ref().unwrap(), &r.czii] {
        assert_eq!(
            (
                m.overall.precision,
                m.overall.recall,
                m.overall.f1,
                m.overall.f_beta
            ),
            (1.0, 1.0, 1.0, 1.0),
            "{}",
            m.metric
        );
        assert!(m.per_class.values().all(|s| s.f1 == 1.0));
        assert_eq!(m.mean_distance_a, Some(0.0));
        assert_eq!(m.confusion.get("apo", "apo"), 12);
        assert_eq!(m.confusion.get("ribosome", "ribosome"), 13);
    }
    assert_eq!(r.czii.weighted_f_beta, Some(1.0));
}

#[test]
fn picks_shifted_less_than_the_threshold_still_match() {
    // CZII reach is 0.5 × radius: 20 Å for apo, 30 Å for ribosome. Shift by 15 Å.
    let picks: Vec<Particle> = truth()
        .into_iter()
        .map(|mut p| {
            p.pos_a.x += 15.0;
            p
        })
        .collect();
    let r = run(&picks);
    assert_eq!(r.czii.overall.tp, 25);
    assert_eq!(r.shrec.as_ref().unwrap().overall.tp, 25);
    assert!((r.czii.mean_distance_a.unwrap() - 15.0).abs() < 1e-9);
    // Shifted by 25 Å: the apo particles (reach 20 Å) are lost, the ribosomes (30 Å) kept.
    let far: Vec<Particle> = truth()
        .into_iter()
        .map(|mut p| {
            p.pos_a.y += 25.0;
            p
        })
        .collect();
    let r = run(&far);
    assert_eq!(r.czii.per_class["ribosome"].tp, 13);
    assert_eq!(r.czii.per_class["apo"].tp, 0);
}

#[test]
fn random_picks_score_about_zero() {
    // A deterministic low-discrepancy scatter of 500 picks over the volume.
    let picks: Vec<Particle> = (0..500)
        .map(|i| {
            let f = |k: f64| ((i as f64 + 0.5) * k).fract();
            Particle::new(
                "ribosome",
                PosAngstrom::new(
                    f(0.618034) * 990.0,
                    f(0.7548777) * 990.0,
                    f(0.5698403) * 490.0,
                ),
            )
        })
        .collect();
    let r = run(&picks);
    assert!(r.czii.overall.precision < 0.05, "{:?}", r.czii.overall);
    assert!(
        r.shrec.as_ref().unwrap().overall.precision < 0.1,
        "{:?}",
        r.shrec.as_ref().unwrap().overall
    );
}

#[test]
fn duplicates_lower_precision_not_recall() {
    let mut picks = truth();
    picks.extend(truth());
    let r = run(&picks);
    let s = &r.shrec.as_ref().unwrap().overall;
    assert_eq!(
        (s.tp, s.duplicates, s.recall, s.precision),
        (25, 25, 1.0, 0.5)
    );
    assert_eq!(
        (
            r.czii.overall.tp,
            r.czii.overall.fp,
            r.czii.overall.precision
        ),
        (25, 25, 0.5)
    );
}

#[test]
fn wrong_class_counts_against_the_class_but_not_class_agnostic() {
    let picks: Vec<Particle> = truth()
        .into_iter()
        .map(|mut p| {
            p.class = "ribosome".into();
            p
        })
        .collect();
    let r = run(&picks);
    for m in [r.shrec.as_ref().unwrap(), &r.czii] {
        assert_eq!(m.overall.tp, 25, "{}", m.metric);
        assert_eq!(m.per_class["ribosome"].tp, 13);
        assert_eq!(m.per_class["ribosome"].fp, 12);
        assert_eq!(m.per_class["apo"].recall, 0.0);
        assert_eq!(m.confusion.get("apo", "ribosome"), 12);
    }
}

#[test]
fn f_beta_on_known_numbers() {
    // p = 0.75, r = 0.5: F1 = 0.6, F4 = 17·0.375 / (16·0.75 + 0.5) = 0.51.
    assert!((f_beta(0.75, 0.5, 1.0) - 0.6).abs() < 1e-12);
    assert!((f_beta(0.75, 0.5, 4.0) - 0.51).abs() < 1e-12);
    assert_eq!(f_beta(0.0, 0.0, 4.0), 0.0);
}

#[test]
fn dilation_is_the_six_connected_cross() {
    let mut l = Array3::<u32>::zeros((3, 3, 3));
    l[[1, 1, 1]] = 7;
    let d = dilate_labels(&l);
    assert_eq!(d.iter().filter(|&&v| v == 7).count(), 7);
    assert_eq!(d[[0, 1, 1]], 7);
    assert_eq!(d[[0, 0, 1]], 0);
}

#[test]
fn occupancy_mask_labels_follow_the_truth_order_and_outside_picks_are_counted() {
    let mut occ = Array3::<f32>::zeros((10, 10, 10));
    occ[[5, 5, 2]] = 1.0; // truth[0] at x = 2
    occ[[5, 5, 7]] = 2.0; // truth[1] at x = 7
    let vol = Volume::new(occ, VoxelSize::isotropic(1.0));
    let truth = vec![
        Particle::new("a", PosAngstrom::new(2.0, 5.0, 5.0)),
        Particle::new("b", PosAngstrom::new(7.0, 5.0, 5.0)),
    ];
    let picks = vec![
        Particle::new("b", PosAngstrom::new(7.4, 5.0, 5.0)),
        Particle::new("a", PosAngstrom::new(2.0, 4.2, 5.0)),
        Particle::new("a", PosAngstrom::new(50.0, 5.0, 5.0)),
    ];
    let r = evaluate(
        &picks,
        &truth,
        &ClassTable::uniform(3.0),
        Occupancy::Mask(&vol),
        CziiOptions::default(),
        ("p", "t"),
    )
    .unwrap();
    let s = r.shrec.unwrap();
    assert_eq!((s.overall.tp, s.overall.fp), (2, 1));
    assert_eq!(r.picks_outside_volume, 1);
    let too_few = vec![truth[0].clone()];
    let e = evaluate(
        &picks,
        &too_few,
        &ClassTable::uniform(3.0),
        Occupancy::Mask(&vol),
        CziiOptions::default(),
        ("p", "t"),
    )
    .unwrap_err();
    assert!(e.to_string().contains("label 2"), "{e}");
}

#[test]
fn a_class_missing_from_the_radius_table_is_an_error() {
    let mut picks = truth();
    picks[0].class = "proteasome".into();
    let occ = Occupancy::None;
    let e = evaluate(
        &picks,
        &truth(),
        &classes(),
        occ,
        CziiOptions::default(),
        ("p", "t"),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("'proteasome'") && e.contains("apo, ribosome"),
        "{e}"
    );
}

#[test]
fn tomogram_names_only_separate_particles_when_both_lists_name_one() {
    // Picks named after their tomogram file against SHREC-style truth without names: all match.
    let named: Vec<Particle> = truth()
        .into_iter()
        .map(|mut p| {
            p.tomogram = Some("TS_01".into());
            p
        })
        .collect();
    assert_eq!(run(&named).czii.overall.tp, 25);
    // Named on both sides but different tomograms: nothing matches.
    let r = evaluate(
        &named,
        &truth()
            .into_iter()
            .map(|mut p| {
                p.tomogram = Some("TS_02".into());
                p
            })
            .collect::<Vec<_>>(),
        &classes(),
        Occupancy::None,
        CziiOptions {
            threshold: 0.5,
            beta: 4.0,
        },
        ("p", "t"),
    )
    .unwrap();
    assert_eq!(r.czii.overall.tp, 0);
}

#[test]
fn classifier_scores_on_a_hand_counted_case() {
    use tomopick_eval::ClassificationEval;
    let classes = vec!["a".to_string(), "b".to_string()];
    let mut e = ClassificationEval::new(&classes);
    // Box 1: class a, called a; 4 voxels: truth [1,1,0,0], prediction [1,0,0,0].
    e.add(
        0,
        0,
        &[true, true, false, false],
        &[true, false, false, false],
    );
    // Box 2: class b, called a; truth [0,1,1,0], prediction [0,1,1,0] (but labelled a).
    e.add(
        1,
        0,
        &[false, true, true, false],
        &[false, true, true, false],
    );
    let r = e.report();
    assert_eq!(r.boxes, 2);
    assert_eq!(r.accuracy, 0.5);
    assert_eq!(r.per_class[0].accuracy, Some(1.0));
    assert_eq!(r.per_class[1].accuracy, Some(0.0));
    // Voxel labels: truth  [a,a,0,0, 0,b,b,0]; prediction [a,0,0,0, 0,a,a,0].
    // Right: voxels 0,2,3,4,7 = 5 of 8.
    assert_eq!(r.pixel_accuracy, 5.0 / 8.0);
    // IoU background: truth {2,3,4,7} ∪ pred {1,2,3,4,7} = 5, ∩ = 4 → 0.8.
    // IoU a: truth {0,1}, pred {0,5,6}: ∩ 1, ∪ 4 → 0.25. IoU b: truth {5,6}, pred {} → 0.
    assert_eq!(r.background_iou, Some(0.8));
    assert_eq!(r.per_class[0].iou, Some(0.25));
    assert_eq!(r.per_class[1].iou, Some(0.0));
    assert!((r.miou - (0.8 + 0.25 + 0.0) / 3.0).abs() < 1e-12);
    assert_eq!(r.confusion.get("b", "a"), 1);
    let md = r.to_markdown();
    assert!(md.contains("| 2 | 0.500 | 0.625 | 0.350 |"), "{md}");
}

#[test]
fn the_report_shows_an_f_beta_column_only_when_beta_is_not_one() {
    let report = |beta: f64| {
        let occ = Occupancy::Spheres {
            shape_xyz: SHAPE,
            voxel_size: VoxelSize::isotropic(VS),
        };
        let opts = CziiOptions {
            beta,
            ..CziiOptions::default()
        };
        evaluate(&truth(), &truth(), &classes(), occ, opts, ("p", "t"))
            .unwrap()
            .to_markdown()
    };
    let one = report(1.0);
    assert!(one.contains("| recall | F1 |\n"), "{one}");
    assert!(one.contains("| 1.000 | 1.000 | 1.000 |\n"), "{one}");
    let four = report(4.0);
    assert!(four.contains("| recall | F1 | F4 |\n"), "{four}");
    assert!(
        four.contains("| 1.000 | 1.000 | 1.000 | 1.000 |\n"),
        "{four}"
    );
}
