#![no_main]
//! Fuzz target: training configs (TOML) of the detector and the classifier.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = tomopick_nn::TrainDetectorConfig::from_toml_str(text, "train.toml");
        let _ = tomopick_nn::TrainClassifierConfig::from_toml_str(text, "train.toml");
    }
});
