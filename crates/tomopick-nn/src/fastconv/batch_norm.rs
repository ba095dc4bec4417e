//! Batch norm with the batch's own statistics, then LeakyReLU, as one operation for training
//! (issue 15): two passes over the activation forward (the per-channel moments, then the output)
//! and two backward (the per-channel sums of the gradient, then the input's gradient), where
//! burn's generic `batch_norm_train` and its backward make a dozen full-size temporaries, two of
//! them transposed copies. Sums run in f32 lanes over chunks of 512 values and in f64 across
//! chunks and planes, in one fixed order, so the result does not depend on the number of threads.
//! [`batch_norm_leaky`] is what the networks call; the operation's autodiff side lives here too,
//! the extension trait that carries it in [`super::train`].

use super::flex_tensor;
use super::train::{TrainConvBackend, fast_train_on, leaky_relu};
use burn::backend::autodiff::NodeId;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops};
use burn::backend::{Flex, tensor::FloatTensor};
use burn::prelude::*;
use rayon::prelude::*;
use std::sync::Arc;

/// A channels-first activation `[batch, channels, voxels]` as the passes see it.
#[derive(Debug, Clone, Copy)]
pub struct Planes {
    /// Items in the batch.
    pub batch: usize,
    /// Channels.
    pub channels: usize,
    /// Voxels per channel of one item.
    pub voxels: usize,
}

impl Planes {
    /// Values per channel over the batch.
    fn count(&self) -> f64 {
        (self.batch * self.voxels) as f64
    }
    /// Per channel, the sums over its planes (one per item, added in item order) of what
    /// `per_plane(plane index, channel)` returns for each: the same bits whatever the threads.
    fn per_channel(
        &self,
        per_plane: impl Fn(usize, usize) -> (f64, f64) + Sync,
    ) -> Vec<(f64, f64)> {
        let planes: Vec<(f64, f64)> = (0..self.batch * self.channels)
            .into_par_iter()
            .map(|i| per_plane(i, i % self.channels))
            .collect();
        (0..self.channels)
            .map(|ch| {
                (0..self.batch).fold((0.0, 0.0), |(s, t), b| {
                    let (u, v) = planes[b * self.channels + ch];
                    (s + u, t + v)
                })
            })
            .collect()
    }
}

/// Lanes of the f32 partial sums (the compiler keeps them in vector registers).
const LANES: usize = 16;
/// Values summed in f32 lanes before the partial sums join an f64 total.
const CHUNK: usize = 512;

/// `(Σ f(a, b).0, Σ f(a, b).1)` over two equally long slices, in f32 lanes within chunks of
/// `CHUNK` values and in f64 across them, in one fixed order.
fn pair_sums(a: &[f32], b: &[f32], f: impl Fn(f32, f32) -> (f32, f32)) -> (f64, f64) {
    let (mut s, mut t) = (0.0f64, 0.0f64);
    for (ca, cb) in a.chunks(CHUNK).zip(b.chunks(CHUNK)) {
        let (mut ls, mut lt) = ([0.0f32; LANES], [0.0f32; LANES]);
        let (ia, ib) = (ca.chunks_exact(LANES), cb.chunks_exact(LANES));
        let (ra, rb) = (ia.remainder(), ib.remainder());
        for (va, vb) in ia.zip(ib) {
            for l in 0..LANES {
                let (u, v) = f(va[l], vb[l]);
                ls[l] += u;
                lt[l] += v;
            }
        }
        for (&x, &y) in ra.iter().zip(rb) {
            let (u, v) = f(x, y);
            s += u as f64;
            t += v as f64;
        }
        s += ls.iter().map(|&v| v as f64).sum::<f64>();
        t += lt.iter().map(|&v| v as f64).sum::<f64>();
    }
    (s, t)
}

/// Per channel, `(mean, biased variance)` of `x` (sums taken about the channel's first value,
/// so that a mean far from zero costs no precision).
pub fn moments(x: &[f32], p: Planes) -> Vec<(f64, f64)> {
    let n = p.voxels;
    let pivot = |ch: usize| x[ch * n];
    let sums = p.per_channel(|i, ch| {
        let x0 = pivot(ch);
        let row = &x[i * n..][..n];
        pair_sums(row, row, |v, _| {
            let d = v - x0;
            (d, d * d)
        })
    });
    sums.iter()
        .enumerate()
        .map(|(ch, &(s1, s2))| {
            let m = s1 / p.count();
            (pivot(ch) as f64 + m, (s2 / p.count() - m * m).max(0.0))
        })
        .collect()
}

/// LeakyReLU without a branch (the signs are random: a branch mispredicts half the time, and
/// a loop with one does not vectorise).
#[inline(always)]
fn leaky(z: f32, slope: f32) -> f32 {
    z.max(0.0) + slope * z.min(0.0)
}

/// LeakyReLU's derivative at `z`: `slope` where `z` is negative, 1 elsewhere, without a branch.
#[inline(always)]
fn leaky_slope(z: f32, slope: f32) -> f32 {
    let negative = (z.to_bits() >> 31) as f32;
    1.0 + (slope - 1.0) * negative
}

/// Per channel, the affine map `x ↦ a·x + b` that batch norm applies: `a = γ / √(var + ε)`,
/// `b = β − mean·a`.
fn affine(m: &[(f64, f64)], gamma: &[f32], beta: &[f32], eps: f64) -> Vec<(f32, f32)> {
    m.iter()
        .zip(gamma.iter().zip(beta))
        .map(|(&(mean, var), (&g, &b))| {
            let a = g as f64 / (var + eps).sqrt();
            (a as f32, (b as f64 - mean * a) as f32)
        })
        .collect()
}

/// LeakyReLU(`slope`) of `γ (x − mean) / √(var + ε) + β` with the moments `m` of `x`.
pub fn forward(
    x: &[f32],
    p: Planes,
    m: &[(f64, f64)],
    gamma: &[f32],
    beta: &[f32],
    eps: f64,
    slope: f32,
) -> Vec<f32> {
    let ab = affine(m, gamma, beta, eps);
    // Not zeroed first: every value is written below.
    let mut out = Vec::<f32>::with_capacity(x.len());
    out.spare_capacity_mut()[..x.len()]
        .par_chunks_mut(p.voxels)
        .zip(x.par_chunks(p.voxels))
        .enumerate()
        .for_each(|(plane, (y, x))| {
            let (a, b) = ab[plane % p.channels];
            for (y, &x) in y.iter_mut().zip(x) {
                y.write(leaky(a * x + b, slope));
            }
        });
    // SAFETY: the chunks above cover all x.len() values, each written once.
    unsafe { out.set_len(x.len()) };
    out
}

/// The gradients of [`forward`] with respect to `x`, `γ` and `β`, given the output's `g`.
#[allow(clippy::too_many_arguments)]
pub fn backward(
    x: &[f32],
    g: &[f32],
    p: Planes,
    m: &[(f64, f64)],
    gamma: &[f32],
    beta: &[f32],
    eps: f64,
    slope: f32,
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let ab = affine(m, gamma, beta, eps);
    // The pre-activation's gradient dz = g (times the slope where z < 0), and per channel
    // Σ dz (β's gradient) and Σ dz·x̂ (γ's), x̂ = (x − mean)/σ.
    let n = p.voxels;
    let sums = p.per_channel(|i, ch| {
        let ((a, b), mean) = (ab[ch], m[ch].0 as f32);
        let inv_std = 1.0 / (m[ch].1 + eps).sqrt();
        let (sd, sdx) = pair_sums(&x[i * n..][..n], &g[i * n..][..n], |x, g| {
            let dz = g * leaky_slope(a * x + b, slope);
            (dz, dz * (x - mean))
        });
        (sd, sdx * inv_std)
    });
    let n = p.count();
    // dx = γ/σ · (dz − Σdz/n − x̂ Σdz·x̂/n), per channel as k·dz + u·(x − mean) + w.
    let coef: Vec<[f32; 4]> = (0..p.channels)
        .map(|ch| {
            let (mean, inv_std) = (m[ch].0, 1.0 / (m[ch].1 + eps).sqrt());
            let k = gamma[ch] as f64 * inv_std;
            let (md, mdx) = (sums[ch].0 / n, sums[ch].1 / n);
            [
                k as f32,
                (-k * mdx * inv_std) as f32,
                (-k * md) as f32,
                mean as f32,
            ]
        })
        .collect();
    assert_eq!(g.len(), x.len(), "gradient length");
    // Not zeroed first: every value is written below.
    let mut dx = Vec::<f32>::with_capacity(x.len());
    dx.spare_capacity_mut()[..x.len()]
        .par_chunks_mut(p.voxels)
        .zip(x.par_chunks(p.voxels).zip(g.par_chunks(p.voxels)))
        .enumerate()
        .for_each(|(plane, (d, (x, g)))| {
            let ch = plane % p.channels;
            let ((a, b), [k, u, w, mean]) = (ab[ch], coef[ch]);
            for ((d, &x), &g) in d.iter_mut().zip(x).zip(g) {
                let dz = g * leaky_slope(a * x + b, slope);
                d.write(dz * k + (x - mean) * u + w);
            }
        });
    // SAFETY: the chunks above cover all x.len() values (g is as long), each written once.
    unsafe { dx.set_len(x.len()) };
    let dgamma = sums.iter().map(|s| s.1 as f32).collect();
    let dbeta = sums.iter().map(|s| s.0 as f32).collect();
    (dx, dgamma, dbeta)
}

/// `bn` in training (the batch's own statistics, the running averages updated as burn's
/// `BatchNorm::forward` updates them), then LeakyReLU(`slope`): one fused, differentiable
/// operation where [`fast_train_on`] and the device tracks gradients and `bn` is not frozen,
/// burn's `BatchNorm::forward` and LeakyReLU otherwise (also with `TOMOPICK_FAST_BN=0`).
pub fn batch_norm_leaky(bn: &burn::nn::BatchNorm, x: Tensor<5>, slope: f32) -> Tensor<5> {
    let device = x.device();
    // TOMOPICK_FAST_BN=0 keeps burn's batch norm on the fast path (to time the two).
    let fused = std::env::var("TOMOPICK_FAST_BN").map_or(true, |v| v != "0");
    if !(fused && fast_train_on(&device) && device.is_autodiff() && bn.training.is_enabled()) {
        return leaky_relu(bn.forward(x), slope);
    }
    type D = burn::backend::Dispatch;
    let (y, stats) = <D as TrainConvBackend>::batch_norm_leaky_train(
        x.into_dispatch(),
        bn.gamma.val().into_dispatch(),
        bn.beta.val().into_dispatch(),
        bn.epsilon,
        slope,
    );
    let stats: Tensor<2> = Tensor::from_dispatch(stats);
    let c = stats.dims()[1];
    let mean = stats.clone().slice([0..1, 0..c]).reshape([c]);
    let var = stats.slice([1..2, 0..c]).reshape([c]);
    let blend = |running: Tensor<1>, batch: Tensor<1>| {
        running
            .to_device(&device)
            .mul_scalar(1.0 - bn.momentum)
            .add(batch.mul_scalar(bn.momentum))
            .detach()
    };
    bn.running_mean
        .update(blend(bn.running_mean.value_sync(), mean));
    bn.running_var
        .update(blend(bn.running_var.value_sync(), var));
    Tensor::from_dispatch(y)
}

/// The activation's planes and contiguous copies of `x`, `gamma` and `beta`.
fn bn_inputs(x: FloatTensor<Flex>) -> (FloatTensor<Flex>, Planes) {
    let x = x.to_contiguous();
    let shape = x.layout().shape().to_vec();
    let p = Planes {
        batch: shape[0],
        channels: shape[1],
        voxels: shape[2..].iter().product(),
    };
    (x, p)
}

/// [`TrainConvBackend::batch_norm_leaky_train`]'s output and the batch's moments.
pub(super) fn bn_forward(
    x: FloatTensor<Flex>,
    gamma: &FloatTensor<Flex>,
    beta: &FloatTensor<Flex>,
    epsilon: f64,
    slope: f32,
) -> (FloatTensor<Flex>, Vec<(f64, f64)>) {
    let (x, p) = bn_inputs(x);
    let (gamma, beta) = (gamma.clone().to_contiguous(), beta.clone().to_contiguous());
    let xs = x.storage::<f32>();
    let m = moments(xs, p);
    let y = forward(xs, p, &m, gamma.storage(), beta.storage(), epsilon, slope);
    (flex_tensor(y, x.layout().shape().to_vec()), m)
}

/// The moments as a `[2, C]` tensor: means, then biased variances.
pub(super) fn stats_tensor(m: &[(f64, f64)]) -> FloatTensor<Flex> {
    let mut v: Vec<f32> = m.iter().map(|s| s.0 as f32).collect();
    v.extend(m.iter().map(|s| s.1 as f32));
    flex_tensor(v, vec![2, m.len()])
}

/// The gradients of [`TrainConvBackend::batch_norm_leaky_train`] with respect to the input,
/// `gamma` and `beta`; the state holds the input's checkpoint, `gamma`, `beta`, the moments
/// (f64, as the forward pass used them), epsilon and the slope.
#[derive(Debug)]
pub(super) struct BatchNormLeakyBackward;

type BnState = (
    NodeId,
    FloatTensor<Flex>,
    FloatTensor<Flex>,
    Arc<Vec<(f64, f64)>>,
    f64,
    f32,
);

impl Backward<Flex, 3> for BatchNormLeakyBackward {
    type State = BnState;

    fn backward(
        self,
        ops: Ops<Self::State, 3>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let [node_x, node_gamma, node_beta] = ops.parents;
        let grad = grads.consume::<Flex>(&ops.node).to_contiguous();
        let (x_state, gamma, beta, m, epsilon, slope) = ops.state;
        let (x, p) = bn_inputs(checkpointer.retrieve_node_output::<FloatTensor<Flex>>(x_state));
        let (dx, dgamma, dbeta) = backward(
            x.storage(),
            grad.storage(),
            p,
            &m,
            gamma.storage(),
            beta.storage(),
            epsilon,
            slope,
        );
        if let Some(node) = node_x {
            grads.register::<Flex>(node.id, flex_tensor(dx, x.layout().shape().to_vec()));
        }
        if let Some(node) = node_gamma {
            grads.register::<Flex>(node.id, flex_tensor(dgamma, vec![p.channels]));
        }
        if let Some(node) = node_beta {
            grads.register::<Flex>(node.id, flex_tensor(dbeta, vec![p.channels]));
        }
    }
}
