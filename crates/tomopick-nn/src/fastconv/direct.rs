//! The inference convolution on plain `f32` slices, channels-last (`[batch, depth, height,
//! width, channels]`) in and out, with the bias and an optional LeakyReLU applied as each output
//! block leaves the registers.
//!
//! Each task computes one output row: blocks of `V` consecutive voxels × `16·CB` output channels
//! accumulate in AVX-512 registers while the kernel walks the taps; along a kernel row the `k·cin`
//! inputs are contiguous in the channels-last volume (zero padding is never copied: taps outside
//! are skipped), and so are the weight rows
//! they meet, so the inner loop is one broadcast and `CB` fused multiply-adds per voxel.

use rayon::prelude::*;

/// Lanes of one AVX-512 register.
pub(super) const L: usize = 16;

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

/// A raw pointer that rayon tasks share; each writes its own rows (or elements).
#[derive(Clone, Copy)]
pub(super) struct SendPtr(pub(super) *mut f32);
// SAFETY: tasks write disjoint rows of one output buffer that outlives them.
unsafe impl Send for SendPtr {}
unsafe impl Sync for SendPtr {}

/// What every row task reads.
struct Plan<'a> {
    /// Channels-last input.
    xp: &'a [f32],
    /// Weights as `[kd, kh, kw, cin] × coutp`.
    wp: &'a [f32],
    bias: &'a [f32],
    s: ConvShape,
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
    let coutp = s.cout.div_ceil(L) * L;
    let plan = Plan {
        xp: x,
        wp: &pack_weights(weight, s, coutp),
        bias,
        s: *s,
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

/// How a block walks its input: kernel rows `kd ∈ kd_range`, `kh ∈ kh_range` (those inside the
/// volume; the rest meet zero padding), each `run` contiguous values from kernel column `kw0`,
/// consecutive output voxels `step` apart; row `(kd, kh)` starts `kd·dz + kh·dy` after the
/// block's input index. Padding is never copied: rows outside are skipped and, at both ends of an
/// output row, single voxels take the columns inside. (Gathering the 1-channel input layer's
/// short rows into per-voxel patches first was tried: 1.8× slower.)
#[derive(Clone, Copy)]
struct Walk {
    kd_range: (usize, usize),
    kh_range: (usize, usize),
    kw0: usize,
    run: usize,
    step: usize,
    dz: usize,
    dy: usize,
}

/// The kernel taps `[lo, hi)` of one axis that land inside `0..n` for output position `o`.
pub(super) fn inside(o: usize, s: &ConvShape, n: usize) -> (usize, usize) {
    let start = (o * s.stride) as isize - s.pad as isize;
    let lo = (-start).clamp(0, s.kernel as isize) as usize;
    let hi = (n as isize - start).clamp(0, s.kernel as isize) as usize;
    (lo, hi.max(lo))
}

/// One output row: register blocks of 12 voxels × 16 channels or 8 voxels × 32 channels (24 or
/// 16 of the 32 vector registers accumulate), then blocks of 4 and single voxels; voxels whose
/// kernel reaches past the row's ends run singly with the columns inside.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn row_avx512(p: &Plan, b: usize, z: usize, y: usize, out: SendPtr) {
    let s = &p.s;
    let (k, c, st) = (s.kernel, s.cin, s.stride);
    let [d, h, w] = s.input;
    let [od, oh, ow] = s.output();
    let orow = ((b * od + z) * oh + y) * ow;
    let full = Walk {
        kd_range: inside(z, s, d),
        kh_range: inside(y, s, h),
        kw0: 0,
        run: k * c,
        step: st * c,
        dz: h * w * c,
        dy: w * c,
    };
    // Input index of kernel tap (0, 0, kw) for output voxel x; may point before the row.
    let origin = |x: usize, kw: usize| -> isize {
        ((((b * d) as isize + (z * st) as isize - s.pad as isize) * h as isize + (y * st) as isize
            - s.pad as isize)
            * w as isize
            + (x * st + kw) as isize
            - s.pad as isize)
            * c as isize
    };
    // Output voxels whose every kernel column is inside the row.
    let (first, end) = {
        let mut a = 0;
        while a < ow && inside(a, s, w) != (0, k) {
            a += 1;
        }
        let mut e = ow;
        while e > a && inside(e - 1, s, w) != (0, k) {
            e -= 1;
        }
        (a, e)
    };
    let blocks = p.coutp / L;
    for cb in (0..blocks).step_by(2) {
        let two = blocks - cb >= 2;
        let mut x = 0;
        while x < ow {
            let o = orow + x;
            if x < first || x >= end {
                let (lo, hi) = inside(x, s, w);
                let walk = Walk {
                    kw0: lo,
                    run: (hi - lo) * c,
                    ..full
                };
                let at = origin(x, lo);
                // SAFETY: avx512f is enabled here; `block` bounds its own reads and writes.
                x += unsafe {
                    if two {
                        block::<1, 2>(p, &walk, at, o, cb, out)
                    } else {
                        block::<1, 1>(p, &walk, at, o, cb, out)
                    }
                };
                continue;
            }
            let at = origin(x, 0);
            // SAFETY: as above.
            x += unsafe {
                match (two, end - x) {
                    (true, 8..) => block::<8, 2>(p, &full, at, o, cb, out),
                    (false, 12..) => block::<12, 1>(p, &full, at, o, cb, out),
                    (true, 4..) => block::<4, 2>(p, &full, at, o, cb, out),
                    (false, 4..) => block::<4, 1>(p, &full, at, o, cb, out),
                    (true, _) => block::<1, 2>(p, &full, at, o, cb, out),
                    (false, _) => block::<1, 1>(p, &full, at, o, cb, out),
                }
            };
        }
    }
}

/// `V` output voxels from flat voxel `orow` (its input from index `xin`, walked as `walk` says)
/// × channel registers `cb..cb + CB`; returns `V`.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx512f")]
#[allow(clippy::too_many_arguments)]
unsafe fn block<const V: usize, const CB: usize>(
    p: &Plan,
    walk: &Walk,
    xin: isize,
    orow: usize,
    cb: usize,
    out: SendPtr,
) -> usize {
    use std::arch::x86_64::*;
    let s = &p.s;
    let input = p.xp;
    let k = s.kernel;
    let Walk {
        kd_range,
        kh_range,
        kw0,
        run,
        step,
        dz,
        dy,
    } = *walk;
    let mut acc = [[_mm512_setzero_ps(); CB]; V];
    for kd in kd_range.0..kd_range.1 {
        for kh in kh_range.0..kh_range.1 {
            if run == 0 {
                continue;
            }
            let xbase = (xin + (kd * dz + kh * dy) as isize) as usize;
            let wbase = ((kd * k + kh) * k + kw0) * s.cin * p.coutp + cb * L;
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
