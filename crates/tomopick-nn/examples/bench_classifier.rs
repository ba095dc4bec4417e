//! Inference speed of the classifier/segmenter on the flex CPU backend: boxes per second for
//! the paper's network (width 32, hidden 1024) and the default efficient one (width 16,
//! hidden 256), 40³ boxes, 14 classes, batches of 16, and the share spent outside the network
//! (class probabilities and the chosen mask copied out).
//!
//! `cargo run --release -p tomopick-nn --example bench_classifier -- [batches] [paper|efficient]`
//! (both networks unless one is named).

use burn::prelude::*;
use std::time::Instant;
use tomopick_nn::classifier::{ClassifierSegmenter, ClassifierShape};
use tomopick_nn::{Architecture, ClassifierConfig, ClassifierModel};

fn main() {
    let batches: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let dev = Device::flex();
    let b = 16;
    let only = std::env::args().nth(2);
    for (arch, width, hidden) in [
        (Architecture::Paper, 32, 1024),
        (Architecture::Efficient, 16, 256),
    ]
    .into_iter()
    .filter(|(a, ..)| {
        only.as_ref()
            .is_none_or(|o| format!("{a:?}").eq_ignore_ascii_case(o))
    }) {
        let shape = ClassifierShape {
            box_size: 40,
            width,
            hidden,
            classes: 14,
            architecture: arch,
            dropout: 0.5,
        };
        let model = ClassifierModel {
            config: ClassifierConfig {
                shape,
                classes: (0..14).map(|i| format!("c{i}")).collect(),
                voxel_size_a: 10.0,
                smoothing_sigma_vox: 1.0,
            },
            net: ClassifierSegmenter::new(shape, &dev),
        };
        let input: Vec<f32> = (0..b * 64000)
            .map(|i| ((i * 7919) % 101) as f32 / 50.0 - 1.0)
            .collect();
        let _ = model.predict(input.clone(), b);
        let t = Instant::now();
        for _ in 0..batches {
            let _ = model.predict(input.clone(), b);
        }
        let all = t.elapsed().as_secs_f64();
        let x = Tensor::<5>::from_data(
            burn::tensor::TensorData::new(input.clone(), [b, 1, 40, 40, 40]),
            &dev,
        );
        let t = Instant::now();
        for _ in 0..batches {
            let out = model.net.forward(x.clone());
            let _ = out.log_probs.into_data();
            let _ = out.mask_logits.into_data();
        }
        let net = t.elapsed().as_secs_f64();
        println!(
            "{arch:?} width {width} hidden {hidden}: {:.1} boxes/s ({:.1} ms per box; network alone {:.1} ms)",
            (batches * b) as f64 / all,
            all / (batches * b) as f64 * 1e3,
            net / (batches * b) as f64 * 1e3
        );
    }
}
