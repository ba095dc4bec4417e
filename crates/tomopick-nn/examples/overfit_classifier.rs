//! Checks that the classification branch can overfit one fixed batch (a debugging aid).
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use burn::tensor::TensorData;
use tomopick_nn::Architecture;
use tomopick_nn::classifier::{ClassifierSegmenter, ClassifierShape};

fn main() {
    let dev = Device::flex().autodiff();
    dev.seed(1);
    for arch in [Architecture::Efficient, Architecture::Paper] {
        let shape = ClassifierShape {
            box_size: 16,
            width: 4,
            hidden: 32,
            classes: 4,
            architecture: arch,
            dropout: 0.0,
        };
        let mut net = ClassifierSegmenter::new(shape, &dev);
        let mut optim = AdamConfig::new().init();
        let b = 8;
        let x = Tensor::<5>::random(
            [b, 1, 16, 16, 16],
            burn::tensor::Distribution::Normal(0.0, 1.0),
            &dev,
        );
        let mut hot = vec![0f32; b * 4];
        for j in 0..b {
            hot[j * 4 + j % 4] = 1.0;
        }
        let hot = Tensor::<2>::from_data(TensorData::new(hot, [b, 4]), &dev);
        for step in 0..40 {
            let out = net.forward(x.clone());
            let loss = (out.log_probs * hot.clone()).sum().neg() / b as f32;
            if step % 5 == 0 {
                println!(
                    "{arch:?} step {step}: {:.4}",
                    loss.clone().into_scalar::<f32>()
                );
            }
            let grads = GradientsParams::from_grads(loss.backward(), &net);
            net = optim.step(1e-3, net.clone(), grads);
        }
    }
}
