//! The classifier/segmenter: shapes and probabilities, training (resume, learning), model files
//! and configs.

use burn::prelude::*;
use tomopick_nn::classifier::{ClassifierSegmenter, ClassifierShape};
use tomopick_nn::{ClassifierConfig, ClassifierModel, ClassifierTrainer, TrainClassifierConfig};

#[test]
fn the_paper_network_classifies_and_segments_a_40_box() {
    let _turn = TRAINERS.lock().unwrap_or_else(|e| e.into_inner());
    let dev = Device::flex();
    let net = ClassifierSegmenter::new(ClassifierShape::paper(14), &dev);
    let x = Tensor::<5>::random(
        [2, 1, 40, 40, 40],
        burn::tensor::Distribution::Normal(0.0, 1.0),
        &dev,
    );
    let out = net.forward(x);
    assert_eq!(out.log_probs.dims(), [2, 14]);
    assert_eq!(out.mask_logits.dims(), [2, 14, 40, 40, 40]);
    // Log-softmax: the probabilities of each box sum to 1.
    let sums: Vec<f32> = out
        .log_probs
        .exp()
        .sum_dim(1)
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
    assert!(sums.iter().all(|s| (s - 1.0).abs() < 1e-5), "{sums:?}");
}

#[test]
fn a_narrow_variant_takes_other_box_sizes() {
    let _turn = TRAINERS.lock().unwrap_or_else(|e| e.into_inner());
    let dev = Device::flex();
    let shape = ClassifierShape {
        box_size: 24,
        width: 8,
        hidden: 64,
        classes: 3,
        architecture: tomopick_nn::Architecture::Paper,
        dropout: 0.5,
    };
    let net = ClassifierSegmenter::new(shape, &dev);
    let out = net.forward(Tensor::<5>::zeros([1, 1, 24, 24, 24], &dev));
    assert_eq!(out.log_probs.dims(), [1, 3]);
    assert_eq!(out.mask_logits.dims(), [1, 3, 24, 24, 24]);
    // The efficient design: half resolution inside, full-resolution masks out.
    let net = ClassifierSegmenter::new(
        ClassifierShape {
            architecture: tomopick_nn::Architecture::Efficient,
            ..shape
        },
        &dev,
    );
    let out = net.forward(Tensor::<5>::zeros([2, 1, 24, 24, 24], &dev));
    assert_eq!(out.log_probs.dims(), [2, 3]);
    assert_eq!(out.mask_logits.dims(), [2, 3, 24, 24, 24]);
}

const RUN: &str = r#"
classes = ["1bxn", "4v94"]
membrane = true
voxel_size_a = 20.0
box_size = 16
width = 2
hidden = 16
batch = 3
steps = 4
learning_rate = 5e-3
seed = 5
checkpoint_every = 2
"#;

/// Weight initialisation, random inputs and dropout draw from the backend's one seeded
/// generator, which tests running in parallel would share: tests that use it take turns.
static TRAINERS: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn a_resumed_classifier_run_gives_the_same_losses() {
    let _turn = TRAINERS.lock().unwrap_or_else(|e| e.into_inner());
    let cfg = TrainClassifierConfig::from_toml_str(RUN, "test").unwrap();
    let dev = Device::flex();
    let mut straight = ClassifierTrainer::new(cfg.clone(), &dev).unwrap();
    assert_eq!(
        straight.model_config().classes,
        ["1bxn", "4v94", "membrane"]
    );
    let losses: Vec<f64> = (0..4)
        .map(|_| straight.train_step().unwrap().0.loss)
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let ck = dir.path().join("checkpoint");
    let mut first = ClassifierTrainer::new(cfg.clone(), &dev).unwrap();
    first.train_step().unwrap();
    first.train_step().unwrap();
    first.save_checkpoint(&ck).unwrap();
    drop(first);
    let mut resumed = ClassifierTrainer::resume(cfg, &ck, &dev).unwrap();
    assert_eq!(resumed.step(), 2);
    let l3 = resumed.train_step().unwrap().0.loss;
    let l4 = resumed.train_step().unwrap().0.loss;
    assert_eq!([l3, l4], [losses[2], losses[3]], "straight: {losses:?}");
    assert_eq!(resumed.curve().len(), 4);
    // Initial loss ≈ λ·ln(3) + (1 − λ)·ln(2) for an untrained network.
    let expected = 0.15 * 3f64.ln() + 0.85 * 2f64.ln();
    assert!(
        (losses[0] - expected).abs() < 0.3,
        "{losses:?} vs {expected}"
    );
}

#[test]
fn the_classifier_learns_two_easy_classes() {
    let _turn = TRAINERS.lock().unwrap_or_else(|e| e.into_inner());
    // Ribosome against the small CDK dimer at high SNR: the class loss must fall.
    let run = RUN
        .replace("membrane = true", "membrane = false")
        .replace(
            "classes = [\"1bxn\", \"4v94\"]",
            "classes = [\"3qm1\", \"4v94\"]",
        )
        .replace(
            "steps = 4",
            "steps = 60\noptimizer = \"adam\"\ndropout = 0.0",
        )
        .replace("learning_rate = 5e-3", "learning_rate = 1e-3")
        .replace("batch = 3", "batch = 8")
        .replace("width = 2", "width = 4")
        + "[imaging]\nsnr = 5.0\ntilt_max_deg = 60.0\ndefocus_um = 3.0\ncs_mm = 2.7\nvoltage_kv = 300.0\namplitude_contrast = 0.07\nenvelope_b_a2 = 0.0\nscale_jitter = 0.0\ninvert_contrast_probability = 0.0\nmtf = true\n";
    let cfg = TrainClassifierConfig::from_toml_str(&run, "test").unwrap();
    let mut t = ClassifierTrainer::new(cfg, &Device::flex()).unwrap();
    let rows: Vec<_> = (0..60).map(|_| t.train_step().unwrap().0).collect();
    let mean = |r: &[tomopick_nn::classifier_train::ClassifierCurveRow]| {
        r.iter().map(|x| x.class_loss).sum::<f64>() / r.len() as f64
    };
    let (early, late) = (mean(&rows[..10]), mean(&rows[50..]));
    assert!(late < 0.6 * early, "class loss {early:.3} -> {late:.3}");
}

#[test]
fn classifier_files_round_trip_and_other_kinds_are_refused() {
    let _turn = TRAINERS.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let dev = Device::flex();
    let config = ClassifierConfig {
        shape: ClassifierShape {
            box_size: 16,
            width: 2,
            hidden: 8,
            classes: 2,
            architecture: tomopick_nn::Architecture::Efficient,
            dropout: 0.7,
        },
        classes: vec!["a".into(), "b".into()],
        voxel_size_a: 10.0,
        smoothing_sigma_vox: 1.0,
    };
    let model = ClassifierModel::new(config, &dev);
    let path = dir.path().join("c.bpk");
    model.save(&path).unwrap();
    let back = ClassifierModel::load(&path, &dev).unwrap();
    assert_eq!(back.config, model.config);
    let input: Vec<f32> = (0..2 * 16 * 16 * 16)
        .map(|i| ((i * 7) % 13) as f32 - 6.0)
        .collect();
    let (p, q) = (model.predict(input.clone(), 2), back.predict(input, 2));
    assert_eq!(p, q);
    assert_eq!(p[0].mask.len(), 16 * 16 * 16);
    assert!((p[0].probabilities.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    // A classifier is not a detector, and the other way round.
    let e = tomopick_nn::DetectorModel::load(&path, &dev)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("c.bpk") && e.contains("classifier model, not a detector"),
        "{e}"
    );
    let det = tomopick_nn::DetectorModel::new(
        tomopick_nn::DetectorConfig {
            architecture: tomopick_nn::Architecture::Efficient,
            anchors_vox: vec![5.0],
            classes: vec!["a".into()],
            class_diameters_vox: vec![5.0],
            voxel_size_a: 10.0,
            cube_size: 16,
            pick_threshold: 0.5,
            class_thresholds: Vec::new(),
        },
        &dev,
    );
    let dpath = dir.path().join("d.bpk");
    det.save(&dpath).unwrap();
    let e = ClassifierModel::load(&dpath, &dev).unwrap_err().to_string();
    assert!(e.contains("detector model, not a classifier"), "{e}");
}

#[test]
fn classifier_configs_name_the_bad_field() {
    for (from, to, field) in [
        ("box_size = 16", "box_size = 20", "box_size"),
        ("width = 2", "width = 0", "width"),
        ("learning_rate = 5e-3", "learning_rate = 0", "learning_rate"),
        ("seed = 5", "seed = 5\nlambda = 2", "lambda"),
        (
            "seed = 5",
            "seed = 5\narchitecture = \"efficient_deep\"",
            "efficient_deep\" is a detector network",
        ),
    ] {
        let e = TrainClassifierConfig::from_toml_str(&RUN.replace(from, to), "c.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("c.toml") && e.contains(field), "{e}");
    }
}

#[test]
fn a_run_can_start_from_another_classifiers_weights() {
    let _turn = TRAINERS.lock().unwrap_or_else(|e| e.into_inner());
    let dev = Device::flex();
    let cfg = TrainClassifierConfig::from_toml_str(RUN, "test").unwrap();
    let mut first = ClassifierTrainer::new(cfg.clone(), &dev).unwrap();
    first.train_step().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("init.bpk");
    first.inference_model(&dev).unwrap().save(&path).unwrap();
    let text = format!("{RUN}init_model = {:?}\nseed = 9\n", path.to_str().unwrap())
        .replace("seed = 5\n", "");
    let second = ClassifierTrainer::new(
        TrainClassifierConfig::from_toml_str(&text, "test").unwrap(),
        &dev,
    )
    .unwrap();
    let input: Vec<f32> = (0..16 * 16 * 16)
        .map(|i| ((i * 5) % 11) as f32 - 5.0)
        .collect();
    let a = ClassifierModel::load(&path, &dev)
        .unwrap()
        .predict(input.clone(), 1);
    let b = second.inference_model(&dev).unwrap().predict(input, 1);
    assert_eq!(a, b, "the second run starts from the first one's weights");
    // Another class set is refused, naming the file.
    let other = text.replace("classes = [\"1bxn\", \"4v94\"]", "classes = [\"1bxn\"]");
    let e = ClassifierTrainer::new(
        TrainClassifierConfig::from_toml_str(&other, "t").unwrap(),
        &dev,
    )
    .err()
    .unwrap()
    .to_string();
    assert!(
        e.contains("init.bpk") && e.contains("cannot start from this model"),
        "{e}"
    );
}
