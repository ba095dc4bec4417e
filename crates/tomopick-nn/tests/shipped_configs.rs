//! Every training config in `configs/` parses and passes its checks, and gives the simulator a
//! valid view: a recipe named in BENCHMARKS.md or the README that no longer reads is a broken
//! promise to the user who reruns it.

use std::path::PathBuf;
use tomopick_nn::TrainDetectorConfig;
use tomopick_nn::classifier_config::TrainClassifierConfig;

fn configs() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../configs");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    v.sort();
    v
}

#[test]
fn every_detector_and_classifier_config_reads() {
    let (mut detectors, mut classifiers) = (0, 0);
    for path in configs() {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.starts_with("detector_") || name.starts_with("compare_") {
            let c = TrainDetectorConfig::from_toml(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
            c.simulation().unwrap_or_else(|e| panic!("{name}: {e}"));
            detectors += 1;
        } else if name.starts_with("classifier_") && !name.contains("test_tomogram") {
            let c =
                TrainClassifierConfig::from_toml(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
            c.simulation().unwrap_or_else(|e| panic!("{name}: {e}"));
            classifiers += 1;
        }
    }
    assert!(
        detectors >= 10 && classifiers >= 5,
        "{detectors} / {classifiers}"
    );
}
