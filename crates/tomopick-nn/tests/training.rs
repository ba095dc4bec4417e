//! Targets, loss, model files and resumable training.
// Index arithmetic spelled out as (base + k) · n + cell, zero terms included, for reading.
#![allow(clippy::identity_op, clippy::erasing_op)]

use burn::prelude::*;
use burn::tensor::TensorData;
use std::path::Path;
use tomopick_nn::encoding::Encoding;
use tomopick_nn::loss::{LossWeights, detection_loss};
use tomopick_nn::targets::{TrueBox, build_targets};
use tomopick_nn::{
    Architecture, DetectorConfig, DetectorModel, DetectorTrainer, TrainDetectorConfig,
};

fn enc() -> Encoding {
    Encoding {
        stride: 4,
        anchors: vec![6.0, 12.0, 24.0],
        classes: 2,
    }
}

fn truth() -> Vec<TrueBox> {
    vec![
        TrueBox {
            centre_vox: [9.0, 5.0, 14.5],
            diameter_vox: 11.0,
            class: 1,
        },
        TrueBox {
            centre_vox: [2.0, 13.0, 3.0],
            diameter_vox: 26.0,
            class: 0,
        },
    ]
}

#[test]
fn each_particle_gets_one_positive_in_its_cell_on_the_nearest_anchor() {
    let e = enc();
    let grid = [4, 4, 4];
    // Background everywhere: very low confidence, and tiny decoded spheres, so that none
    // overlaps a particle (the ignore rule would otherwise exempt them).
    let mut raw = e.encode(&[], grid, 0.5);
    for a in 0..3 {
        for cell in 0..64 {
            raw[(a * 7 + 3) * 64 + cell] = -5.0;
        }
    }
    let t = build_targets(&e, &[truth()], &raw, grid, 0.333);
    assert_eq!(t.positives, 2);
    let n = 64;
    // Particle 1: cell (x 2, y 1, z 3), anchor 12 (nearest to 11 on a log scale).
    let cell = (3 * 4 + 1) * 4 + 2;
    let ia = n + cell;
    assert_eq!(t.obj[ia], 1.0);
    assert_eq!(t.noobj[ia], 0.0);
    assert!((t.xyz[(3 + 0) * n + cell] - 0.25).abs() < 1e-6);
    assert!((t.xyz[(3 + 1) * n + cell] - 0.25).abs() < 1e-6);
    assert!((t.xyz[(3 + 2) * n + cell] - 0.625).abs() < 1e-6);
    assert!((t.log_size[ia] - (11.0f32 / 12.0).ln()).abs() < 1e-6);
    assert_eq!(t.class[(2 + 1) * n + cell], 1.0);
    assert_eq!(t.class[(2 + 0) * n + cell], 0.0);
    // Particle 2 on anchor 24.
    let cell2 = (0 * 4 + 3) * 4;
    assert_eq!(t.obj[2 * n + cell2], 1.0);
    assert_eq!(t.obj.iter().sum::<f32>(), 2.0);
    // Everything else is background.
    assert_eq!(t.noobj.iter().filter(|&&v| v == 0.0).count(), 2);
}

#[test]
fn predictions_that_already_overlap_a_particle_are_not_background() {
    let e = enc();
    let grid = [4, 4, 4];
    // A prediction in a neighbouring cell decoding almost onto particle 1 (centre 0.6 voxel
    // away, same size): IoU well above 0.333, so it is ignored, not pushed to 0.
    let near = ([9.0, 5.0, 15.1], 11.0, 1);
    let raw = e.encode(&[near], grid, 0.01);
    let t = build_targets(&e, &[truth()], &raw, grid, 0.333);
    let n = 64;
    let cell_near = (3 * 4 + 1) * 4 + 2; // the same cell as the particle: it is the positive
    assert_eq!(t.obj[n + cell_near], 1.0);
    // In the next cell along x, 3.1 voxels away: IoU about 0.6.
    let near_x = ([12.1, 5.0, 14.5], 11.0, 1);
    let raw = e.encode(&[near_x], grid, 0.01);
    let t = build_targets(&e, &[truth()], &raw, grid, 0.333);
    let cell_x = (3 * 4 + 1) * 4 + 3;
    assert_eq!(t.obj[n + cell_x], 0.0);
    assert_eq!(
        t.noobj[n + cell_x],
        0.0,
        "IoU 0.6 with the particle: ignored"
    );
    // The same prediction 7 voxels away (IoU 0) stays background.
    let far = ([2.0, 5.0, 14.5], 11.0, 1);
    let raw = e.encode(&[far], grid, 0.01);
    let t = build_targets(&e, &[truth()], &raw, grid, 0.333);
    assert_eq!(t.noobj[n + (3 * 4 + 1) * 4], 1.0);
}

fn loss_of(raw: Vec<f32>, t: &tomopick_nn::targets::Targets) -> f64 {
    let dev = Device::flex();
    let x = Tensor::<5>::from_data(TensorData::new(raw, [1, 3 * 7, 4, 4, 4]), &dev);
    let l = detection_loss(x, t, &LossWeights::default());
    l.total.into_scalar::<f32>() as f64
}

#[test]
fn the_loss_is_near_zero_for_perfect_outputs_and_large_for_blank_ones() {
    let e = enc();
    let grid = [4, 4, 4];
    let boxes: Vec<_> = truth()
        .iter()
        .map(|b| (b.centre_vox, b.diameter_vox, b.class))
        .collect();
    let perfect = e.encode(&boxes, grid, 0.9999);
    let t = build_targets(&e, &[truth()], &perfect, grid, 0.333);
    let good = loss_of(perfect, &t);
    let blank = loss_of(vec![0.0; 3 * 7 * 64], &t);
    assert!(good < 0.01, "perfect outputs: loss {good}");
    // Blank: 190 background logits of 0 (0.1 × ln 2 each), 2 positives at ln 2, class ln 2 × 5
    // each, and box errors.
    let background = 0.1 * 190.0 * std::f64::consts::LN_2;
    assert!(
        blank > background + 2.0 * std::f64::consts::LN_2,
        "blank: {blank}"
    );
}

/// Weight initialisation draws from the device's shared generator, which a trainer seeds just
/// before it draws: tests that initialise networks take turns, or a trainer's weights would
/// depend on what another test drew in between.
static TRAINERS: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn small_config() -> DetectorConfig {
    DetectorConfig {
        architecture: Architecture::Efficient,
        anchors_vox: vec![8.0, 20.0],
        classes: vec!["a".into(), "b".into()],
        class_diameters_vox: vec![8.0, 20.0],
        voxel_size_a: 10.0,
        cube_size: 32,
        pick_threshold: 0.5,
        class_thresholds: Vec::new(),
    }
}

#[test]
fn a_model_file_round_trips_and_foreign_files_are_refused() {
    let _turn = TRAINERS.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let dev = Device::flex();
    let model = DetectorModel::new(small_config(), &dev);
    let path = dir.path().join("m.bpk");
    model.save(&path).unwrap();
    let back = DetectorModel::load(&path, &dev).unwrap();
    assert_eq!(back.config, model.config);
    let input: Vec<f32> = (0..16 * 16 * 16)
        .map(|i| ((i * 7) % 13) as f32 - 6.0)
        .collect();
    assert_eq!(
        model.predict(input.clone(), [16, 16, 16]),
        back.predict(input, [16, 16, 16])
    );
    // Not ours.
    let junk = dir.path().join("junk.bpk");
    std::fs::write(&junk, b"PK\x03\x04 this is a zip, not a model").unwrap();
    let e = DetectorModel::load(&junk, &dev).unwrap_err().to_string();
    assert!(
        e.contains("junk.bpk") && e.contains("not a tomopick model"),
        "{e}"
    );
    // A different class set.
    let e = back
        .check_classes(&["a".into(), "c".into()], Path::new("m.bpk"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("differ"), "{e}");
    // Per-class thresholds round trip; a file with the wrong number of them is refused.
    let mut with = DetectorModel::new(small_config(), &dev);
    with.config.class_thresholds = vec![0.9, 0.35];
    with.save(&path).unwrap();
    let back = DetectorModel::load(&path, &dev).unwrap();
    assert_eq!(back.config.class_thresholds(), Some(vec![0.9, 0.35]));
    with.config.class_thresholds = vec![0.9];
    with.save(&path).unwrap();
    let e = DetectorModel::load(&path, &dev).unwrap_err().to_string();
    assert!(
        e.contains("m.bpk") && e.contains("class_thresholds has 1 values for 2 classes"),
        "{e}"
    );
}

const RUN: &str = r#"
architecture = "efficient"
classes = ["1bxn", "4v94"]
voxel_size_a = 10.0
cube_size = 32
batch = 2
steps = 4
learning_rate = 1e-3
anchors = 2
seed = 3
checkpoint_every = 2
particles_per_cube = { uniform = [2, 5] }
gold_per_cube = 0
"#;

#[test]
fn a_resumed_run_gives_the_same_losses_as_an_uninterrupted_one() {
    let _turn = TRAINERS.lock().unwrap_or_else(|e| e.into_inner());
    let cfg = TrainDetectorConfig::from_toml_str(RUN, "test").unwrap();
    let dev = Device::flex();
    let mut straight = DetectorTrainer::new(cfg.clone(), &dev).unwrap();
    let mut losses = Vec::new();
    for _ in 0..4 {
        losses.push(straight.train_step().unwrap().0.loss);
    }
    let dir = tempfile::tempdir().unwrap();
    let ck = dir.path().join("checkpoint");
    let mut first = DetectorTrainer::new(cfg.clone(), &dev).unwrap();
    first.train_step().unwrap();
    first.train_step().unwrap();
    first.save_checkpoint(&ck).unwrap();
    drop(first);
    let mut resumed = DetectorTrainer::resume(cfg, &ck, &dev).unwrap();
    assert_eq!(resumed.step(), 2);
    let l3 = resumed.train_step().unwrap().0.loss;
    let l4 = resumed.train_step().unwrap().0.loss;
    assert_eq!([l3, l4], [losses[2], losses[3]], "straight: {losses:?}");
    assert_eq!(resumed.curve().len(), 4);
    assert!(losses.iter().all(|l| l.is_finite() && *l > 0.0));
}

#[test]
fn training_configs_name_the_bad_field() {
    let bad = RUN.replace("cube_size = 32", "cube_size = 36");
    let e = TrainDetectorConfig::from_toml_str(&bad, "train.toml")
        .unwrap_err()
        .to_string();
    assert!(e.contains("train.toml") && e.contains("cube_size"), "{e}");
    let bad = RUN.replace("learning_rate = 1e-3", "learning_rate = -1");
    let e = TrainDetectorConfig::from_toml_str(&bad, "train.toml")
        .unwrap_err()
        .to_string();
    assert!(e.contains("learning_rate"), "{e}");
    let bad = RUN.replace(
        "classes = [\"1bxn\", \"4v94\"]",
        "classes = [\"1bxn\"]\nbogus = 1",
    );
    let e = TrainDetectorConfig::from_toml_str(&bad, "train.toml")
        .unwrap_err()
        .to_string();
    assert!(e.contains("bogus"), "{e}");
    let bad =
        format!("{RUN}[calibration]\nshape_xyz = [512, 512, 16]\nparticles = 100\nseed = 2\n");
    let e = TrainDetectorConfig::from_toml_str(&bad, "train.toml")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("calibration: shape_xyz [512, 512, 16]") && e.contains("cube_size = 32"),
        "{e}"
    );
}

#[test]
fn folding_batch_norm_keeps_the_outputs() {
    // Train a few steps so the running statistics and affine parameters are not trivial.
    let _turn = TRAINERS.lock().unwrap_or_else(|e| e.into_inner());
    let cfg = TrainDetectorConfig::from_toml_str(RUN, "test").unwrap();
    let dev = Device::flex();
    let mut t = DetectorTrainer::new(cfg, &dev).unwrap();
    t.train_step().unwrap();
    t.train_step().unwrap();
    let plain = t.inference_model(&dev).unwrap();
    let folded = t.inference_model(&dev).unwrap().into_inference();
    let input: Vec<f32> = (0..32 * 24 * 16)
        .map(|i| ((i * 31) % 17) as f32 / 8.0 - 1.0)
        .collect();
    let (a, grid) = plain.predict(input.clone(), [32, 24, 16]);
    let (b, _) = folded.predict(input, [32, 24, 16]);
    assert_eq!(grid, [8, 6, 4]);
    let worst = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0f32, f32::max);
    let scale = a.iter().map(|x| x.abs()).fold(0.0f32, f32::max);
    assert!(
        worst <= 1e-4 * scale.max(1.0),
        "max difference {worst} (scale {scale})"
    );
}
