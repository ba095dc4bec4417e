//! Weight averaging of detector files (`tomopick average-models`).

use burn::prelude::*;
use burn::store::ModuleSnapshot;
use tomopick_nn::average::average_detectors;
use tomopick_nn::{Architecture, DetectorConfig, DetectorModel};

fn config(classes: &[&str]) -> DetectorConfig {
    DetectorConfig {
        architecture: Architecture::Efficient,
        anchors_vox: vec![8.0, 20.0],
        classes: classes.iter().map(|c| c.to_string()).collect(),
        class_diameters_vox: vec![8.0; classes.len()],
        voxel_size_a: 10.0,
        cube_size: 32,
        pick_threshold: 0.5,
        class_thresholds: Vec::new(),
    }
}

/// Every tensor of `net` as f32 values, in collection order.
fn values(m: &DetectorModel) -> Vec<Vec<f32>> {
    m.net
        .collect(None, None, false)
        .iter()
        .map(|t| {
            t.to_bytes()
                .unwrap()
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
                .collect()
        })
        .collect()
}

#[test]
fn the_average_is_the_weighted_mean_of_every_tensor() {
    let dir = tempfile::tempdir().unwrap();
    let dev = Device::flex();
    let paths: Vec<_> = (0..3)
        .map(|i| dir.path().join(format!("m{i}.bpk")))
        .collect();
    let mut models = Vec::new();
    for (i, p) in paths.iter().enumerate() {
        dev.seed(100 + i as u64);
        let m = DetectorModel::new(config(&["a", "b"]), &dev);
        m.save(p).unwrap();
        models.push(values(&m));
    }
    assert_ne!(models[0], models[1], "differently seeded networks differ");
    let weights = [2.0, 1.0, 1.0];
    let soup = average_detectors(&paths, &weights, &dev).unwrap();
    let got = values(&soup);
    let mut checked = 0;
    for (t, out) in got.iter().enumerate() {
        for (j, v) in out.iter().enumerate() {
            let want = (2.0 * models[0][t][j] + models[1][t][j] + models[2][t][j]) / 4.0;
            assert!(
                (v - want).abs() <= 1e-6 * (1.0 + want.abs()),
                "tensor {t}[{j}]: {v} vs {want}"
            );
            checked += 1;
        }
    }
    assert!(checked > 1000, "{checked} values");
    // Equal shares by default; a model averaged with itself is itself, bit for bit.
    let same = average_detectors(&[paths[1].clone(), paths[1].clone()], &[], &dev).unwrap();
    assert_eq!(values(&same), models[1]);
    let out = dir.path().join("same.bpk");
    same.save(&out).unwrap();
    assert_eq!(
        std::fs::read(&out).unwrap(),
        std::fs::read(&paths[1]).unwrap()
    );
}

#[test]
fn networks_that_differ_are_refused_with_the_file_named() {
    let dir = tempfile::tempdir().unwrap();
    let dev = Device::flex();
    let a = dir.path().join("two.bpk");
    let b = dir.path().join("three.bpk");
    DetectorModel::new(config(&["a", "b"]), &dev)
        .save(&a)
        .unwrap();
    DetectorModel::new(config(&["a", "b", "c"]), &dev)
        .save(&b)
        .unwrap();
    let e = average_detectors(&[a.clone(), b.clone()], &[], &dev)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("three.bpk") && e.contains("different network"),
        "{e}"
    );
    let e = average_detectors(&[a.clone(), a.clone()], &[1.0], &dev)
        .unwrap_err()
        .to_string();
    assert!(e.contains("1 weights given for 2 model files"), "{e}");
    let e = average_detectors(&[a.clone(), a], &[0.0, 0.0], &dev)
        .unwrap_err()
        .to_string();
    assert!(e.contains("not all zero"), "{e}");
}
