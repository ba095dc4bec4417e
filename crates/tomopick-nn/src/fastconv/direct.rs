//! The inference convolution on plain `f32` slices, channels-last (`[batch, depth, height,
//! width, channels]`) in and out, with the bias and an optional LeakyReLU applied as each output
//! block leaves the registers.
//!
//! Each task computes one output row: blocks of `V` consecutive voxels × `16·CB` output channels
//! accumulate in AVX-512 registers while the kernel walks the taps; along a kernel row the `k·cin`
//! inputs are contiguous in the (zero-padded) channels-last volume, and so are the weight rows
//! they meet, so the inner loop is one broadcast and `CB` fused multiply-adds per voxel.

use rayon::prelude::*;

/// Lanes of one AVX-512 register.
const L: usize = 16;

/// The shape of one 3D convolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvShape {
    /// Batch size.
    pub batch: usize,
    /// Input channels.
    pub cin: usize,
    /// Output channels.
    pub cout: usize,
    /// Input `[depth, height, width]`.
    pub input: [usize; 3],
    /// Cubic kernel side.
    pub kernel: usize,
    /// Stride, the same along every axis.
    pub stride: usize,
    /// Zero padding on every side.
    pub pad: usize,
}

impl ConvShape {
    /// Output `[depth, height, width]`.
    pub fn output(&self) -> [usize; 3] {
        self.input
            .map(|n| (n + 2 * self.pad - self.kernel) / self.stride + 1)
    }
    /// Multiply-adds of the whole convolution.
    pub fn macs(&self) -> f64 {
        let [d, h, w] = self.output();
        (self.batch * d * h * w) as f64 * (self.cin * self.cout * self.kernel.pow(3)) as f64
    }
}

/// Whether this CPU runs the kernel (AVX-512F on x86-64).
pub fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// A raw pointer that rayon tasks share; each writes its own rows.
#[derive(Clone, Copy)]
struct SendPtr(*mut f32);
// SAFETY: tasks write disjoint rows of one output buffer that outlives them.
unsafe impl Send for SendPtr {}
unsafe impl Sync for SendPtr {}

/// What every row task reads.
struct Plan<'a> {
    /// Zero-padded channels-last input.
    xp: &'a [f32],
    /// Weights as `[kd, kh, kw, cin] × coutp`.
    wp: &'a [f32],
    bias: &'a [f32],
    s: ConvShape,
    /// Padded `[depth, height, width]`.
    padded: [usize; 3],
    /// Output channels rounded up to whole registers.
    coutp: usize,
    slope: Option<f32>,
    /// Added after the activation (a residual connection), shaped like the output.
    skip: Option<&'a [f32]>,
}

/// Convolution of channels-last `x` (`[batch, D, H, W, cin]`) with `weight` in burn's layout
/// (`[cout, cin, k, k, k]`), plus `bias`, then LeakyReLU(`slope`) when given, then plus `skip`
/// (shaped like the output) when given; channels-last out. Panics unless [`available`].
pub fn conv3d_channels_last(
    x: &[f32],
    weight: &[f32],
    bias: &[f32],
    s: &ConvShape,
    slope: Option<f32>,
    skip: Option<&[f32]>,
) -> Vec<f32> {
    assert!(available(), "the direct convolution needs AVX-512F");
    let [d, h, w] = s.input;
    assert_eq!(x.len(), s.batch * d * h * w * s.cin, "input length");
    assert_eq!(
        weight.len(),
        s.cout * s.cin * s.kernel.pow(3),
        "weight length"
    );
    assert_eq!(bias.len(), s.cout, "bias length");
    let [od, oh, ow] = s.output();
    let n_out = s.batch * od * oh * ow * s.cout;
    assert!(skip.is_none_or(|r| r.len() == n_out), "skip length");
    let padded_copy;
    let xp = if s.pad == 0 {
        x
    } else {
        padded_copy = pad_channels_last(x, s);
        &padded_copy
    };
    let p = s.pad;
    let coutp = s.cout.div_ceil(L) * L;
    let plan = Plan {
        xp,
        wp: &pack_weights(weight, s, coutp),
        bias,
        s: *s,
        padded: [d + 2 * p, h + 2 * p, w + 2 * p],
        coutp,
        slope,
        skip,
    };
    let mut out = vec![0.0f32; n_out];
    let ptr = SendPtr(out.as_mut_ptr());
    (0..s.batch * od * oh).into_par_iter().for_each(|r| {
        let ptr = ptr;
        // SAFETY: `available()` was asserted; each task writes its own output row.
        #[cfg(target_arch = "x86_64")]
        unsafe {
            row_avx512(&plan, r / (od * oh), (r / oh) % od, r % oh, ptr)
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = (r, ptr);
    });
    out
}

/// `x` with `pad` zeros on every side of every spatial axis, channels-last.
fn pad_channels_last(x: &[f32], s: &ConvShape) -> Vec<f32> {
    let (c, p) = (s.cin, s.pad);
    let [d, h, w] = s.input;
    let [dp, hp, wp] = [d + 2 * p, h + 2 * p, w + 2 * p];
    let plane = hp * wp * c;
    let mut xp = vec![0.0f32; s.batch * dp * plane];
    xp.par_chunks_mut(plane).enumerate().for_each(|(i, dst)| {
        let (b, z) = (i / dp, i % dp);
        if z < p || z >= d + p {
            return;
        }
        let src = &x[((b * d + z - p) * h) * w * c..][..h * w * c];
        for y in 0..h {
            dst[((y + p) * wp + p) * c..][..w * c].copy_from_slice(&src[y * w * c..][..w * c]);
        }
    });
    xp
}

/// Weights `[cout, cin, k, k, k]` → `[kd, kh, kw, cin] × coutp` (zeros past `cout`).
fn pack_weights(weight: &[f32], s: &ConvShape, coutp: usize) -> Vec<f32> {
    let taps = s.kernel.pow(3);
    let mut wp = vec![0.0f32; taps * s.cin * coutp];
    for co in 0..s.cout {
        for ci in 0..s.cin {
            for t in 0..taps {
                wp[(t * s.cin + ci) * coutp + co] = weight[(co * s.cin + ci) * taps + t];
            }
        }
    }
    wp
}

/// How a block walks its input: `k²` kernel rows (offsets `kd·dz + kh·dy`, `kd, kh < k`), each
/// `run` contiguous values, consecutive output voxels `step` apart. (Gathering the 1-channel
/// input layer's short rows into per-voxel patches first was tried: 1.8× slower.)
#[derive(Clone, Copy)]
struct Walk {
    k: usize,
    run: usize,
    step: usize,
    dz: usize,
    dy: usize,
}

/// One output row: register blocks of 12 voxels × 16 channels or 8 voxels × 32 channels (24 or
/// 16 of the 32 vector registers accumulate), then blocks of 4 and single voxels at the row's end.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn row_avx512(p: &Plan, b: usize, z: usize, y: usize, out: SendPtr) {
    let s = &p.s;
    let (k, c, st) = (s.kernel, s.cin, s.stride);
    let [dp, hp, wp] = p.padded;
    let [od, oh, ow] = s.output();
    let orow = ((b * od + z) * oh + y) * ow;
    let start = ((b * dp + z * st) * hp + y * st) * wp * c;
    let walk = Walk {
        k,
        run: k * c,
        step: st * c,
        dz: hp * wp * c,
        dy: wp * c,
    };
    let (input, base) = (p.xp, start);
    let blocks = p.coutp / L;
    let mut cb = 0;
    while cb < blocks {
        let two = blocks - cb >= 2;
        let mut x = 0;
        while x < ow {
            let (xin, o) = (base + x * walk.step, orow + x);
            // SAFETY: avx512f is enabled here; `block` bounds its own reads and writes.
            x += unsafe {
                match (two, ow - x) {
                    (true, 8..) => block::<8, 2>(p, input, &walk, xin, o, cb, out),
                    (false, 12..) => block::<12, 1>(p, input, &walk, xin, o, cb, out),
                    (true, 4..) => block::<4, 2>(p, input, &walk, xin, o, cb, out),
                    (false, 4..) => block::<4, 1>(p, input, &walk, xin, o, cb, out),
                    (true, _) => block::<1, 2>(p, input, &walk, xin, o, cb, out),
                    (false, _) => block::<1, 1>(p, input, &walk, xin, o, cb, out),
                }
            };
        }
        cb += if two { 2 } else { 1 };
    }
}

/// `V` output voxels from flat voxel `orow` (its input at `input[xin..]`, walked as `walk` says)
/// × channel registers `cb..cb + CB`; returns `V`.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx512f")]
#[allow(clippy::too_many_arguments)]
unsafe fn block<const V: usize, const CB: usize>(
    p: &Plan,
    input: &[f32],
    walk: &Walk,
    xin: usize,
    orow: usize,
    cb: usize,
    out: SendPtr,
) -> usize {
    use std::arch::x86_64::*;
    let s = &p.s;
    let Walk {
        k,
        run,
        step,
        dz,
        dy,
    } = *walk;
    let mut acc = [[_mm512_setzero_ps(); CB]; V];
    for kd in 0..k {
        for kh in 0..k {
            let xbase = xin + kd * dz + kh * dy;
            let wbase = (kd * k + kh) * run * p.coutp + cb * L;
            assert!(xbase + (V - 1) * step + run <= input.len());
            assert!(wbase + (run - 1) * p.coutp + CB * L <= p.wp.len());
            // SAFETY: the two asserts bound every read below.
            unsafe {
                let xs = input.as_ptr().add(xbase);
                let ws = p.wp.as_ptr().add(wbase);
                for i in 0..run {
                    let mut wv = [_mm512_setzero_ps(); CB];
                    for (j, w) in wv.iter_mut().enumerate() {
                        *w = _mm512_loadu_ps(ws.add(i * p.coutp + j * L));
                    }
                    for (v, a) in acc.iter_mut().enumerate() {
                        let xv = _mm512_set1_ps(*xs.add(v * step + i));
                        for j in 0..CB {
                            a[j] = _mm512_fmadd_ps(xv, wv[j], a[j]);
                        }
                    }
                }
            }
        }
    }
    let [od, oh, ow] = s.output();
    let c0 = cb * L;
    let n = (s.cout - c0).min(CB * L);
    let mut bias = [0.0f32; 32];
    bias[..n].copy_from_slice(&p.bias[c0..c0 + n]);
    assert!((orow + V) * s.cout <= s.batch * od * oh * ow * s.cout);
    for (v, a) in acc.iter().enumerate() {
        let mut lanes = [0.0f32; 32];
        for (j, r) in a.iter().enumerate() {
            // SAFETY: 16 lanes into a 32-float buffer at 0 or 16.
            unsafe { _mm512_storeu_ps(lanes.as_mut_ptr().add(j * L), *r) };
        }
        for (l, bv) in lanes[..n].iter_mut().zip(&bias) {
            let t = *l + bv;
            *l = match p.slope {
                Some(a) if t < 0.0 => a * t,
                _ => t,
            };
        }
        let at = (orow + v) * s.cout + c0;
        if let Some(skip) = p.skip {
            for (l, r) in lanes[..n].iter_mut().zip(&skip[at..at + n]) {
                *l += r;
            }
        }
        // SAFETY: the assert above bounds the row; tasks write disjoint rows.
        unsafe { std::ptr::copy_nonoverlapping(lanes.as_ptr(), out.0.add(at), n) };
    }
    V
}
