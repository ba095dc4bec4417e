//! Training the detector on simulated cubes made on the fly.
//!
//! Step `k` trains on cubes `k·B … k·B + B − 1` of the seeded cube stream, so a run resumed
//! from a checkpoint sees exactly the cubes an uninterrupted run would have seen. A checkpoint
//! holds the weights (with their parameter ids), Adam's state, the step, and the curve so far;
//! resuming from it gives the same losses as not stopping.

use crate::checkpoint;
use crate::encoding::kmeans_anchors;
use crate::error::{NnError, Result, model_err};
use crate::loss::{LossWeights, detection_loss};
use crate::model_file::{DetectorConfig, DetectorModel};
use crate::pack::write_file;
use crate::prefetch::Prefetch;
use crate::targets::{TrueBox, build_targets};
use crate::train_config::TrainDetectorConfig;
use crate::user_data::UserCubes;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use burn::tensor::TensorData;
use std::path::Path;
use std::time::Instant;
use tomopick_sim::cubes::{Cube, CubeGenerator, CubeSpec};

/// One row of the training curve.
#[derive(Debug, Clone, PartialEq)]
pub struct CurveRow {
    /// Step number (1-based: the step just taken).
    pub step: u64,
    /// Total loss.
    pub loss: f64,
    /// Box part.
    pub box_loss: f64,
    /// Confidence part.
    pub conf_loss: f64,
    /// Class part.
    pub class_loss: f64,
    /// Learning rate used.
    pub learning_rate: f64,
    /// Validation F1, when measured at this step.
    pub val_f1: Option<f64>,
}

/// Timing of one step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepTiming {
    /// Seconds making the cubes.
    pub data_s: f64,
    /// Seconds in forward, backward and update.
    pub train_s: f64,
}

/// A training run.
pub struct DetectorTrainer {
    cfg: TrainDetectorConfig,
    model: DetectorModel,
    optim: ModuleOptimizer,
    user: Option<UserCubes>,
    /// The next step's cubes, being made on another thread while this step trains.
    prefetch: Prefetch<tomopick_sim::Result<Vec<Cube>>>,
    step: u64,
    curve: Vec<CurveRow>,
    device: Device,
}

impl DetectorTrainer {
    /// Starts a run: builds the cube generator, the anchors (k-means over the classes'
    /// diameters) and a network initialised from the seed.
    pub fn new(cfg: TrainDetectorConfig, device: &Device) -> Result<Self> {
        Self::build(cfg, device, true)
    }

    /// The run's generator, user data and network; the network starts from `init_model` only
    /// when `use_init` (a resumed run takes its weights from the checkpoint instead).
    fn build(cfg: TrainDetectorConfig, device: &Device, use_init: bool) -> Result<Self> {
        let generator = CubeGenerator::new(CubeSpec {
            size: cfg.cube_size,
            particles: cfg.particles_per_cube,
            gold: cfg.gold_per_cube,
            vesicles: cfg.vesicles_per_cube,
            ice_surface_fraction: cfg.ice_surface_fraction,
            noise_reference_particles: cfg.noise_reference_particles,
            tilt_series: cfg.tilt_series.clone(),
            particle_scale: cfg.particle_scale,
            randomization: cfg.simulation()?,
        })?;
        let diameters: Vec<f64> = generator
            .class_radii_vox()
            .iter()
            .map(|r| 2.0 * r)
            .collect();
        let k = cfg.anchors.min(diameters.len());
        let config = DetectorConfig {
            architecture: cfg.architecture,
            anchors_vox: kmeans_anchors(&diameters, k),
            classes: generator.class_names().to_vec(),
            class_diameters_vox: diameters,
            voxel_size_a: cfg.voxel_size_a,
            cube_size: cfg.cube_size,
            pick_threshold: 0.5,
            class_thresholds: Vec::new(),
        };
        let device = device.clone().autodiff();
        device.seed(cfg.seed);
        let mut model = DetectorModel::new(config, &device);
        if let Some(path) = cfg.init_model.as_ref().filter(|_| use_init) {
            let init = DetectorModel::load(path, &device)?;
            let (a, b) = (&init.config, &model.config);
            if a.architecture != b.architecture
                || a.classes != b.classes
                || a.anchors_vox.len() != b.anchors_vox.len()
                || (a.voxel_size_a / b.voxel_size_a - 1.0).abs() > 0.1
            {
                return Err(model_err(
                    path,
                    format!(
                        "cannot fine-tune from this model: it is {:?} with classes [{}] at {} Å, the config asks for {:?} with [{}] at {} Å",
                        a.architecture,
                        a.classes.join(", "),
                        a.voxel_size_a,
                        b.architecture,
                        b.classes.join(", "),
                        b.voxel_size_a
                    ),
                ));
            }
            // The init model's anchors go with its weights; the cubes are this run's, and its
            // class thresholds are recalibrated (when this run calibrates them).
            model = DetectorModel {
                config: DetectorConfig {
                    cube_size: cfg.cube_size,
                    class_thresholds: Vec::new(),
                    ..init.config
                },
                net: init.net,
            };
        }
        let user = if cfg.user_data.is_empty() {
            None
        } else {
            Some(UserCubes::load(
                &cfg.user_data,
                &model.config.classes,
                &model.config.class_diameters_vox,
                cfg.voxel_size_a,
                cfg.cube_size,
            )?)
        };
        let (seed, b) = (cfg.seed, cfg.batch);
        Ok(DetectorTrainer {
            user,
            optim: AdamConfig::new().init(),
            prefetch: Prefetch::new(cfg.steps, move |step| {
                generator.batch(seed, step * b as u64, b)
            }),
            cfg,
            model,
            step: 0,
            curve: Vec::new(),
            device,
        })
    }

    /// Continues the run saved in checkpoint folder `dir`, with the config it was started with.
    pub fn resume(cfg: TrainDetectorConfig, dir: &Path, device: &Device) -> Result<Self> {
        let mut t = Self::build(cfg, device, false)?;
        let ck = checkpoint::read(dir, AdamConfig::new().init())?;
        let loaded = DetectorModel::from_bytes(ck.model_bytes, &ck.model_path, &t.device)?;
        // A fine-tuned run keeps the anchors, sizes and voxel size of its init model.
        let mut expected = t.model.config.clone();
        if t.cfg.init_model.is_some() {
            expected.anchors_vox = loaded.config.anchors_vox.clone();
            expected.class_diameters_vox = loaded.config.class_diameters_vox.clone();
            expected.voxel_size_a = loaded.config.voxel_size_a;
        }
        // Calibrated at each validation, and at the end of the run.
        expected.pick_threshold = loaded.config.pick_threshold;
        expected.class_thresholds = loaded.config.class_thresholds.clone();
        if loaded.config != expected {
            return Err(model_err(
                &ck.model_path,
                "the checkpoint was made with another configuration (classes, anchors, architecture or voxel size differ)",
            ));
        }
        t.model = loaded;
        t.optim = ck.optim;
        t.step = checkpoint::step_of(&ck.state, &ck.state_path)?;
        t.curve = read_curve(&ck.state["curve"])
            .ok_or_else(|| model_err(&ck.state_path, "curve is malformed"))?;
        Ok(t)
    }

    /// Steps taken so far.
    pub fn step(&self) -> u64 {
        self.step
    }
    /// The configuration.
    pub fn config(&self) -> &TrainDetectorConfig {
        &self.cfg
    }
    /// The model's configuration.
    pub fn model_config(&self) -> &DetectorConfig {
        &self.model.config
    }
    /// The curve so far.
    pub fn curve(&self) -> &[CurveRow] {
        &self.curve
    }

    /// Takes one step; returns its curve row and timing.
    pub fn train_step(&mut self) -> Result<(CurveRow, StepTiming)> {
        let t0 = Instant::now();
        let b = self.cfg.batch;
        let n = self.cfg.cube_size;
        let cubes = self.prefetch.next(self.step)?;
        let mut input = Vec::with_capacity(b * n * n * n);
        let mut truth = Vec::with_capacity(b);
        for (j, cube) in cubes.iter().enumerate() {
            let index = self.step * b as u64 + j as u64;
            if let Some(user) = &self.user
                && user_cube(self.cfg.seed, index, self.cfg.user_fraction)
            {
                let (image, boxes) = user.cube(self.cfg.seed, index);
                input.extend(image);
                truth.push(boxes);
                continue;
            }
            input.extend(standardized(
                cube.image.as_slice().expect("standard layout"),
            ));
            truth.push(
                cube.boxes
                    .iter()
                    .map(|bx| TrueBox {
                        centre_vox: bx.centre_vox,
                        diameter_vox: 2.0 * bx.radius_vox,
                        class: bx.class_index,
                    })
                    .collect::<Vec<_>>(),
            );
        }
        let data_s = t0.elapsed().as_secs_f64();
        let t1 = Instant::now();
        let x = Tensor::<5>::from_data(TensorData::new(input, [b, 1, n, n, n]), &self.device);
        let raw = self.model.net.forward(x);
        let [_, _, gd, gh, gw] = raw.dims();
        let raw_host: Vec<f32> = raw
            .clone()
            .detach()
            .into_data()
            .try_to_vec::<f32>()
            .expect("f32 output");
        let enc = self.model.config.encoding();
        let targets = build_targets(&enc, &truth, &raw_host, [gd, gh, gw], 0.333);
        let loss = detection_loss(raw, &targets, &LossWeights::default());
        let scalar = |t: &Tensor<1>| t.clone().into_scalar::<f32>() as f64;
        let (total, box_loss, conf_loss, class_loss) = (
            scalar(&loss.total),
            scalar(&loss.box_),
            scalar(&loss.conf),
            scalar(&loss.class),
        );
        if !total.is_finite() {
            return Err(NnError::Config(format!(
                "the loss became {total} at step {}: lower learning_rate",
                self.step + 1
            )));
        }
        let grads = GradientsParams::from_grads(loss.total.backward(), &self.model.net);
        let lr = self.cfg.learning_rate_at(self.step);
        self.model.net = self.optim.step(lr, self.model.net.clone(), grads);
        self.step += 1;
        let row = CurveRow {
            step: self.step,
            loss: total,
            box_loss,
            conf_loss,
            class_loss,
            learning_rate: lr,
            val_f1: None,
        };
        self.curve.push(row.clone());
        Ok((
            row,
            StepTiming {
                data_s,
                train_s: t1.elapsed().as_secs_f64(),
            },
        ))
    }

    /// Records a validation F1 for the last step, reached at confidence threshold `threshold`,
    /// which the model files written from now on carry as their pick threshold.
    pub fn record_validation(&mut self, f1: f64, threshold: f64) {
        if let Some(last) = self.curve.last_mut() {
            last.val_f1 = Some(f1);
        }
        self.model.config.pick_threshold = threshold;
    }

    /// Sets the per-class pick thresholds that the model files written from now on carry.
    pub fn record_class_thresholds(&mut self, thresholds: Vec<f64>) {
        self.model.config.class_thresholds = thresholds;
    }

    /// The current weights as a model on a plain (inference) device.
    pub fn inference_model(&self, device: &Device) -> Result<DetectorModel> {
        let path = Path::new("<training model>");
        DetectorModel::from_bytes(self.model.to_bytes(path)?, path, device)
    }

    /// Writes a checkpoint folder `dir` (see [`crate::checkpoint`]).
    pub fn save_checkpoint(&self, dir: &Path) -> Result<()> {
        let state = serde_json::json!({
            "step": self.step,
            "curve": self.curve.iter().map(|r| serde_json::json!([
                r.step, r.loss, r.box_loss, r.conf_loss, r.class_loss, r.learning_rate, r.val_f1
            ])).collect::<Vec<_>>(),
        });
        checkpoint::write(dir, &self.model.to_bytes(dir)?, &self.optim, &state)
    }
}

/// Whether cube `index` comes from the user's tomograms (a seeded coin with `fraction`).
fn user_cube(seed: u64, index: u64, fraction: f64) -> bool {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(tomopick_sim::subtomo::mix_seed(
        seed ^ 0x636f_696e,
        index,
    ));
    rng.random::<f64>() < fraction
}

fn read_curve(v: &serde_json::Value) -> Option<Vec<CurveRow>> {
    v.as_array()?
        .iter()
        .map(|r| {
            let f = |i: usize| r.get(i).and_then(|x| x.as_f64());
            Some(CurveRow {
                step: r.get(0)?.as_u64()?,
                loss: f(1)?,
                box_loss: f(2)?,
                conf_loss: f(3)?,
                class_loss: f(4)?,
                learning_rate: f(5)?,
                val_f1: f(6),
            })
        })
        .collect()
}

/// Zero mean, unit variance (a constant input becomes zeros).
pub fn standardized(v: &[f32]) -> impl Iterator<Item = f32> + '_ {
    let n = v.len().max(1) as f64;
    let mean = v.iter().map(|&x| x as f64).sum::<f64>() / n;
    let var = v.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / n;
    let inv = if var > 0.0 { 1.0 / var.sqrt() } else { 0.0 };
    v.iter().map(move |&x| ((x as f64 - mean) * inv) as f32)
}

/// Writes the curve as CSV: `step,loss,box,conf,class,learning_rate,val_f1`.
pub fn write_curve_csv(path: &Path, curve: &[CurveRow]) -> Result<()> {
    let mut text = String::from("step,loss,box,conf,class,learning_rate,val_f1\n");
    for r in curve {
        text.push_str(&format!(
            "{},{:.6},{:.6},{:.6},{:.6},{:.3e},{}\n",
            r.step,
            r.loss,
            r.box_loss,
            r.conf_loss,
            r.class_loss,
            r.learning_rate,
            r.val_f1.map(|f| format!("{f:.4}")).unwrap_or_default()
        ));
    }
    write_file(path, text.as_bytes())
}
