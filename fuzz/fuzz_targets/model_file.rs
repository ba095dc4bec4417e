#![no_main]
//! Fuzz target: model files (`.bpk`), as a colleague's file would be loaded: the checksum
//! trailer, burnpack's header and metadata, the model's config, the weights' shapes.

use std::path::Path;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let dev = tomopick_nn::inference_device();
    let path = Path::new("model.bpk");
    let _ = tomopick_nn::DetectorModel::from_bytes(data.to_vec(), path, &dev);
    let _ = tomopick_nn::ClassifierModel::from_bytes(data.to_vec(), path, &dev);
});
