//! Training the classifier/segmenter on simulated subtomograms made on the fly (the
//! domain-randomisation paper's recipe).
//!
//! Step `k` trains on subtomograms `k·B … k·B + B − 1` of the seeded stream, so a resumed run
//! sees exactly what an uninterrupted run would have. Loss = λ · NLL(class) + (1 − λ) · BCE of
//! the true class's mask channel against the particle's mask (the other channels get no loss).
//! SGD with Nesterov momentum (or Adam). Each box is standardised on its own (zero mean, unit variance),
//! here and at test time, so a box's input does not depend on the others in its batch.

use crate::checkpoint;
use crate::classifier_config::{OptimizerKind, TrainClassifierConfig};
use crate::classifier_model::{ClassifierConfig, ClassifierModel, argmax};
use crate::error::{NnError, Result, model_err};
use crate::prefetch::Prefetch;
use crate::train::standardized;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer, SgdConfig};
use burn::prelude::*;
use burn::tensor::TensorData;
use burn::tensor::activation::log_sigmoid;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;
use tomopick_sim::{SubtomoGenerator, Subtomogram};

/// One row of the classifier's training curve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassifierCurveRow {
    /// Step number (1-based: the step just taken).
    pub step: u64,
    /// Total loss.
    pub loss: f64,
    /// Classification part (NLL).
    pub class_loss: f64,
    /// Segmentation part (BCE per voxel).
    pub seg_loss: f64,
    /// Share of the batch classified right (before the update).
    pub accuracy: f64,
    /// Learning rate used.
    pub learning_rate: f64,
    /// Validation accuracy, when measured at this step.
    pub val_accuracy: Option<f64>,
    /// Validation mIoU, when measured at this step.
    pub val_miou: Option<f64>,
}

/// A classifier training run.
pub struct ClassifierTrainer {
    cfg: TrainClassifierConfig,
    model: ClassifierModel,
    optim: ModuleOptimizer,
    generator: Arc<SubtomoGenerator>,
    prefetch: Prefetch<Vec<Subtomogram>>,
    step: u64,
    curve: Vec<ClassifierCurveRow>,
    device: Device,
}

fn optimizer(cfg: &TrainClassifierConfig) -> ModuleOptimizer {
    if cfg.optimizer == OptimizerKind::Adam {
        return AdamConfig::new().init();
    }
    let momentum = MomentumConfig::new()
        .with_momentum(cfg.momentum)
        .with_dampening(0.0)
        .with_nesterov(cfg.momentum > 0.0);
    SgdConfig::new().with_momentum(Some(momentum)).init()
}

impl ClassifierTrainer {
    /// Starts a run: the subtomogram generator and a network initialised from the seed, or
    /// from `init_model`.
    pub fn new(cfg: TrainClassifierConfig, device: &Device) -> Result<Self> {
        let mut t = Self::build(cfg, device)?;
        if let Some(path) = t.cfg.init_model.clone() {
            let init = ClassifierModel::load(&path, &t.device)?;
            let (a, b) = (&init.config, &t.model.config);
            if a.shape != b.shape || a.classes != b.classes || a.voxel_size_a != b.voxel_size_a {
                return Err(model_err(
                    &path,
                    format!(
                        "cannot start from this model: it has classes [{}], sizes {:?} at {} Å; the config asks for [{}], {:?} at {} Å",
                        a.classes.join(", "),
                        a.shape,
                        a.voxel_size_a,
                        b.classes.join(", "),
                        b.shape,
                        b.voxel_size_a
                    ),
                ));
            }
            t.model.net = init.net;
        }
        Ok(t)
    }

    /// The run's generator and a freshly initialised network.
    fn build(cfg: TrainClassifierConfig, device: &Device) -> Result<Self> {
        let generator = Arc::new(SubtomoGenerator::new(cfg.simulation()?)?);
        let classes = generator.class_names().to_vec();
        let config = ClassifierConfig {
            shape: cfg.shape(classes.len()),
            classes,
            voxel_size_a: cfg.voxel_size_a,
            smoothing_sigma_vox: cfg.smoothing_sigma_vox,
        };
        let device = device.clone().autodiff();
        device.seed(cfg.seed);
        Ok(ClassifierTrainer {
            model: ClassifierModel::new(config, &device),
            optim: optimizer(&cfg),
            prefetch: Prefetch::new(cfg.steps, {
                let (generator, seed, b) = (generator.clone(), cfg.seed, cfg.batch);
                move |step| generator.batch(seed, step * b as u64, b)
            }),
            cfg,
            generator,
            step: 0,
            curve: Vec::new(),
            device,
        })
    }

    /// Continues the run saved in checkpoint folder `dir`, with the config it was started with.
    pub fn resume(cfg: TrainClassifierConfig, dir: &Path, device: &Device) -> Result<Self> {
        let mut t = Self::build(cfg, device)?;
        let ck = checkpoint::read(dir, optimizer(&t.cfg))?;
        let loaded = ClassifierModel::from_bytes(ck.model_bytes, &ck.model_path, &t.device)?;
        if loaded.config != t.model.config {
            return Err(model_err(
                &ck.model_path,
                "the checkpoint was made with another configuration (classes, sizes or voxel size differ)",
            ));
        }
        t.model = loaded;
        t.optim = ck.optim;
        t.step = checkpoint::step_of(&ck.state, &ck.state_path)?;
        t.curve = serde_json::from_value(ck.state["curve"].clone())
            .map_err(|e| model_err(&ck.state_path, format!("curve is malformed: {e}")))?;
        Ok(t)
    }

    /// Steps taken so far.
    pub fn step(&self) -> u64 {
        self.step
    }
    /// The configuration.
    pub fn config(&self) -> &TrainClassifierConfig {
        &self.cfg
    }
    /// The model's configuration.
    pub fn model_config(&self) -> &ClassifierConfig {
        &self.model.config
    }
    /// The curve so far.
    pub fn curve(&self) -> &[ClassifierCurveRow] {
        &self.curve
    }
    /// The subtomogram generator (for validation sets).
    pub fn generator(&self) -> &SubtomoGenerator {
        &self.generator
    }

    /// Takes one step; returns its curve row and the seconds spent (data, network).
    pub fn train_step(&mut self) -> Result<(ClassifierCurveRow, [f64; 2])> {
        let t0 = Instant::now();
        let (b, n, c) = (
            self.cfg.batch,
            self.cfg.box_size,
            self.model.config.classes.len(),
        );
        let subs = self.prefetch.next(self.step);
        let vox = n * n * n;
        let mut input = Vec::with_capacity(b * vox);
        let mut masks = Vec::with_capacity(b * vox);
        let mut onehot = vec![0f32; b * c];
        for (j, s) in subs.iter().enumerate() {
            input.extend(standardized(s.image.as_slice().expect("standard layout")));
            masks.extend(s.mask.iter().map(|&m| f32::from(m)));
            onehot[j * c + s.class_index] = 1.0;
        }
        let data_s = t0.elapsed().as_secs_f64();
        let t1 = Instant::now();
        let dev = &self.device;
        // Dropout draws from the device's generator: seeding it per step makes step k's masks
        // the same whether or not the run was resumed.
        dev.seed(tomopick_sim::subtomo::mix_seed(
            self.cfg.seed ^ 0x6472_6f70,
            self.step,
        ));
        let x = Tensor::<5>::from_data(TensorData::new(input, [b, 1, n, n, n]), dev);
        let y = Tensor::<5>::from_data(TensorData::new(masks, [b, 1, n, n, n]), dev);
        let hot = Tensor::<2>::from_data(TensorData::new(onehot, [b, c]), dev);
        let out = self.model.net.forward(x);
        let predicted: Vec<f32> = out
            .log_probs
            .clone()
            .detach()
            .into_data()
            .try_to_vec::<f32>()
            .expect("f32 output");
        let right = subs
            .iter()
            .enumerate()
            .filter(|(j, s)| argmax(&predicted[j * c..(j + 1) * c]) == s.class_index)
            .count();
        let class_loss = (out.log_probs * hot.clone()).sum().neg() / b as f32;
        let logits = (out.mask_logits * hot.reshape([b, c, 1, 1, 1])).sum_dim(1);
        let seg_loss = (log_sigmoid(logits.clone()) * y.clone()
            + log_sigmoid(logits.neg()) * (y.neg() + 1.0))
            .mean()
            .neg();
        let lambda = self.cfg.lambda as f32;
        let loss = class_loss.clone() * lambda + seg_loss.clone() * (1.0 - lambda);
        let scalar = |t: &Tensor<1>| t.clone().into_scalar::<f32>() as f64;
        let total = scalar(&loss);
        if !total.is_finite() {
            return Err(NnError::Config(format!(
                "the loss became {total} at step {}: lower learning_rate",
                self.step + 1
            )));
        }
        let grads = GradientsParams::from_grads(loss.backward(), &self.model.net);
        let lr = self.cfg.learning_rate_at(self.step);
        self.model.net = self.optim.step(lr, self.model.net.clone(), grads);
        self.step += 1;
        let row = ClassifierCurveRow {
            step: self.step,
            loss: total,
            class_loss: scalar(&class_loss),
            seg_loss: scalar(&seg_loss),
            accuracy: right as f64 / b as f64,
            learning_rate: lr,
            val_accuracy: None,
            val_miou: None,
        };
        self.curve.push(row.clone());
        Ok((row, [data_s, t1.elapsed().as_secs_f64()]))
    }
    /// Records validation figures for the last step.
    pub fn record_validation(&mut self, accuracy: f64, miou: f64) {
        if let Some(last) = self.curve.last_mut() {
            last.val_accuracy = Some(accuracy);
            last.val_miou = Some(miou);
        }
    }

    /// The current weights as a model on a plain (inference) device.
    pub fn inference_model(&self, device: &Device) -> Result<ClassifierModel> {
        let path = Path::new("<training model>");
        ClassifierModel::from_bytes(self.model.to_bytes(path)?, path, device)
    }

    /// Writes a checkpoint folder `dir` (see [`crate::checkpoint`]).
    pub fn save_checkpoint(&self, dir: &Path) -> Result<()> {
        let state = serde_json::json!({ "step": self.step, "curve": self.curve });
        checkpoint::write(dir, &self.model.to_bytes(dir)?, &self.optim, &state)
    }
}

/// Writes the curve as CSV: `step,loss,class,seg,accuracy,learning_rate,val_accuracy,val_miou`.
pub fn write_classifier_curve_csv(path: &Path, curve: &[ClassifierCurveRow]) -> Result<()> {
    let opt = |v: Option<f64>| v.map(|f| format!("{f:.4}")).unwrap_or_default();
    let mut text =
        String::from("step,loss,class,seg,accuracy,learning_rate,val_accuracy,val_miou\n");
    for r in curve {
        text.push_str(&format!(
            "{},{:.6},{:.6},{:.6},{:.4},{:.3e},{},{}\n",
            r.step,
            r.loss,
            r.class_loss,
            r.seg_loss,
            r.accuracy,
            r.learning_rate,
            opt(r.val_accuracy),
            opt(r.val_miou)
        ));
    }
    crate::pack::write_file(path, text.as_bytes())
}
