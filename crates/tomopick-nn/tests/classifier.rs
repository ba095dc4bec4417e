//! The classifier/segmenter network: shapes and probabilities.

use burn::prelude::*;
use tomopick_nn::classifier::{ClassifierSegmenter, ClassifierShape};

#[test]
fn the_paper_network_classifies_and_segments_a_40_box() {
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
    let dev = Device::flex();
    let shape = ClassifierShape {
        box_size: 24,
        width: 8,
        hidden: 64,
        classes: 3,
    };
    let net = ClassifierSegmenter::new(shape, &dev);
    let out = net.forward(Tensor::<5>::zeros([1, 1, 24, 24, 24], &dev));
    assert_eq!(out.log_probs.dims(), [1, 3]);
    assert_eq!(out.mask_logits.dims(), [1, 3, 24, 24, 24]);
}
