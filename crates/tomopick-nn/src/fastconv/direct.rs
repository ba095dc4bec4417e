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

/// The vector instruction set the kernels run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isa {
    /// AVX-512F: 16 lanes, 32 registers.
    Avx512,
    /// AVX2 with FMA: 8 lanes, 16 registers (every x86-64 CPU since about 2013-2015 without
    /// AVX-512: AMD Zen 1-3, most Intel desktop parts).
    Avx2,
}

impl Isa {
    /// `f32` lanes of one register.
    pub fn lanes(self) -> usize {
        match self {
            Isa::Avx512 => L,
            Isa::Avx2 => 8,
        }
    }
    /// Whether this CPU runs it.
    pub fn supported(self) -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            match self {
                Isa::Avx512 => std::arch::is_x86_feature_detected!("avx512f"),
                Isa::Avx2 => {
                    std::arch::is_x86_feature_detected!("avx2")
                        && std::arch::is_x86_feature_detected!("fma")
                }
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            false
        }
    }
}

/// The instruction set the kernels use on this CPU: AVX-512F where present, else AVX2 + FMA,
/// else none. `TOMOPICK_FAST_ISA=avx2` picks AVX2 on a CPU that has both (to test or time it).
pub fn isa() -> Option<Isa> {
    static ISA: std::sync::OnceLock<Option<Isa>> = std::sync::OnceLock::new();
    *ISA.get_or_init(|| {
        let want_avx2 = std::env::var("TOMOPICK_FAST_ISA").is_ok_and(|v| v == "avx2");
        [Isa::Avx512, Isa::Avx2]
            .into_iter()
            .filter(|i| !(want_avx2 && *i == Isa::Avx512))
            .find(|i| i.supported())
    })
}

/// Whether this CPU runs the kernels (AVX-512F, or AVX2 with FMA, on x86-64).
pub fn available() -> bool {
    isa().is_some()
}

/// A raw pointer that rayon tasks share; each writes its own rows (or elements).
#[derive(Clone, Copy)]
pub(super) struct SendPtr(pub(super) *mut f32);
// SAFETY: tasks write disjoint rows of one output buffer that outlives them.
unsafe impl Send for SendPtr {}
unsafe impl Sync for SendPtr {}

/// What every row task reads.
pub(super) struct Plan<'a> {
    /// Channels-last input.
    pub(super) xp: &'a [f32],
    /// Weights as `[kd, kh, kw, cin] × coutp`.
    pub(super) wp: &'a [f32],
    pub(super) bias: &'a [f32],
    pub(super) s: ConvShape,
    /// Output channels rounded up to whole registers.
    pub(super) coutp: usize,
    /// Lanes of one register.
    pub(super) lanes: usize,
    pub(super) slope: Option<f32>,
    /// Added after the activation (a residual connection), shaped like the output.
    pub(super) skip: Option<&'a [f32]>,
    /// The kernel taps that are not zero, per axis `[lo, hi)`: the rest are skipped.
    pub(super) taps: [(usize, usize); 3],
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
    let isa = isa().expect("the direct convolution needs AVX-512F or AVX2 with FMA");
    conv3d_channels_last_on(isa, x, weight, bias, s, slope, skip)
}

/// [`conv3d_channels_last`] on the instruction set `isa` (the same bits on either: each output
/// sums its products in the same order). Panics unless `isa` is [`supported`](Isa::supported).
pub fn conv3d_channels_last_on(
    isa: Isa,
    x: &[f32],
    weight: &[f32],
    bias: &[f32],
    s: &ConvShape,
    slope: Option<f32>,
    skip: Option<&[f32]>,
) -> Vec<f32> {
    let every = [(0, s.kernel); 3];
    convolve(isa, x, weight, bias, s, slope, skip, every)
}

/// [`conv3d_channels_last`] without bias or activation, of a kernel whose taps outside `taps`
/// (per axis `[lo, hi)`, depth, height, width) are zero: they are skipped, not multiplied.
pub(super) fn conv3d_channels_last_taps(
    x: &[f32],
    weight: &[f32],
    s: &ConvShape,
    taps: [(usize, usize); 3],
) -> Vec<f32> {
    let isa = isa().expect("the direct convolution needs AVX-512F or AVX2 with FMA");
    assert!(
        taps.iter().all(|&(lo, hi)| lo < hi && hi <= s.kernel),
        "taps {taps:?}"
    );
    convolve(isa, x, weight, &vec![0.0; s.cout], s, None, None, taps)
}

/// The convolution behind the entry points above.
#[allow(clippy::too_many_arguments)]
fn convolve(
    isa: Isa,
    x: &[f32],
    weight: &[f32],
    bias: &[f32],
    s: &ConvShape,
    slope: Option<f32>,
    skip: Option<&[f32]>,
    taps: [(usize, usize); 3],
) -> Vec<f32> {
    assert!(isa.supported(), "this CPU lacks {isa:?}");
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
    let coutp = s.cout.div_ceil(isa.lanes()) * isa.lanes();
    let plan = Plan {
        xp: x,
        wp: &pack_weights(weight, s, coutp),
        bias,
        s: *s,
        coutp,
        lanes: isa.lanes(),
        slope,
        skip,
        taps,
    };
    // Not zeroed first (that was a twentieth of a pick): the row tasks write every value.
    let mut out = Vec::<f32>::with_capacity(n_out);
    let ptr = SendPtr(out.as_mut_ptr());
    (0..s.batch * od * oh).into_par_iter().for_each(|r| {
        // Moves the whole SendPtr (Send) into the task, not its raw-pointer field alone.
        #[allow(clippy::redundant_locals)]
        let ptr = ptr;
        let (b, z, y) = (r / (od * oh), (r / oh) % od, r % oh);
        // SAFETY: `isa` is supported (asserted); each task writes its own output row.
        #[cfg(target_arch = "x86_64")]
        unsafe {
            match isa {
                Isa::Avx512 => row::<Avx512Blocks>(&plan, b, z, y, ptr),
                Isa::Avx2 => row::<super::avx2::Blocks2>(&plan, b, z, y, ptr),
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = (b, z, y, ptr);
    });
    // SAFETY: every row task wrote each voxel of its row, every channel (a panic in one would
    // have propagated before this line).
    unsafe { out.set_len(n_out) };
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
pub(super) struct Walk {
    pub(super) kd_range: (usize, usize),
    pub(super) kh_range: (usize, usize),
    pub(super) kw0: usize,
    pub(super) run: usize,
    pub(super) step: usize,
    pub(super) dz: usize,
    pub(super) dy: usize,
}

/// The register blocks of one instruction set.
pub(super) trait Blocks {
    /// Output voxels from flat voxel `o` (input from index `at`, walked as `walk` says) × the
    /// channel registers from `cb` (two registers' worth when `two`, else one), choosing the
    /// block size for `room` voxels left in the run (1: a single voxel); returns the voxels done.
    ///
    /// # Safety
    /// The CPU must run the instruction set; `walk` must describe reads inside the input.
    #[allow(clippy::too_many_arguments)]
    unsafe fn block(
        p: &Plan,
        walk: &Walk,
        at: isize,
        o: usize,
        cb: usize,
        two: bool,
        room: usize,
        out: SendPtr,
    ) -> usize;
}

/// AVX-512F: 12 voxels × 16 channels or 8 voxels × 32 channels (24 or 16 of the 32 registers
/// accumulate), then blocks of 4 and single voxels.
pub(super) struct Avx512Blocks;

#[cfg(target_arch = "x86_64")]
impl Blocks for Avx512Blocks {
    unsafe fn block(
        p: &Plan,
        walk: &Walk,
        at: isize,
        o: usize,
        cb: usize,
        two: bool,
        room: usize,
        out: SendPtr,
    ) -> usize {
        // SAFETY: the caller guarantees AVX-512F; `block` bounds its own reads and writes.
        unsafe {
            match (two, room) {
                (true, 8..) => block::<8, 2>(p, walk, at, o, cb, out),
                (false, 12..) => block::<12, 1>(p, walk, at, o, cb, out),
                (true, 4..) => block::<4, 2>(p, walk, at, o, cb, out),
                (false, 4..) => block::<4, 1>(p, walk, at, o, cb, out),
                (true, _) => block::<1, 2>(p, walk, at, o, cb, out),
                (false, _) => block::<1, 1>(p, walk, at, o, cb, out),
            }
        }
    }
}

/// The kernel taps `[lo, hi)` of one axis that land inside `0..n` for output position `o`.
pub(super) fn inside(o: usize, s: &ConvShape, n: usize) -> (usize, usize) {
    let start = (o * s.stride) as isize - s.pad as isize;
    let lo = (-start).clamp(0, s.kernel as isize) as usize;
    let hi = (n as isize - start).clamp(0, s.kernel as isize) as usize;
    (lo, hi.max(lo))
}

/// One output row in register blocks of `B` (two registers of channels at a time, then one);
/// voxels whose kernel reaches past the row's ends run singly with the columns inside.
///
/// # Safety
/// The CPU must run `B`'s instruction set.
#[cfg(target_arch = "x86_64")]
unsafe fn row<B: Blocks>(p: &Plan, b: usize, z: usize, y: usize, out: SendPtr) {
    let s = &p.s;
    let (c, st) = (s.cin, s.stride);
    let [d, h, w] = s.input;
    let [od, oh, ow] = s.output();
    let orow = ((b * od + z) * oh + y) * ow;
    // The taps inside the volume that are not zero, per axis.
    let clip = |a: (usize, usize), t: (usize, usize)| {
        let lo = a.0.max(t.0);
        (lo, a.1.min(t.1).max(lo))
    };
    let [td, th, tw] = p.taps;
    let full = Walk {
        kd_range: clip(inside(z, s, d), td),
        kh_range: clip(inside(y, s, h), th),
        kw0: tw.0,
        run: (tw.1 - tw.0) * c,
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
    // Output voxels whose every kernel column (that is not zero) is inside the row.
    let columns = |x: usize| clip(inside(x, s, w), tw);
    let (first, end) = {
        let mut a = 0;
        while a < ow && columns(a) != tw {
            a += 1;
        }
        let mut e = ow;
        while e > a && columns(e - 1) != tw {
            e -= 1;
        }
        (a, e)
    };
    let blocks = p.coutp / p.lanes;
    for cb in (0..blocks).step_by(2) {
        let two = blocks - cb >= 2;
        let mut x = 0;
        while x < ow {
            let o = orow + x;
            if x < first || x >= end {
                let (lo, hi) = columns(x);
                let walk = Walk {
                    kw0: lo,
                    run: (hi - lo) * c,
                    ..full
                };
                let at = origin(x, lo);
                // SAFETY: the caller guarantees `B`'s instruction set; blocks bound their own
                // reads and writes.
                x += unsafe { B::block(p, &walk, at, o, cb, two, 1, out) };
                continue;
            }
            let at = origin(x, tw.0);
            // SAFETY: as above.
            x += unsafe { B::block(p, &full, at, o, cb, two, end - x, out) };
        }
    }
}

/// Where a block's results go: output voxels from `orow`, channels from `c0`, of which `n` are
/// real (fewer than the block's registers hold past `cout`); panics unless the block's `voxels`
/// lie inside the output. Returns the output index of the first voxel's first channel.
#[inline]
pub(super) fn store_start(
    p: &Plan,
    orow: usize,
    voxels: usize,
    c0: usize,
    width: usize,
) -> (usize, usize) {
    let s = &p.s;
    let [od, oh, ow] = s.output();
    assert!((orow + voxels) * s.cout <= s.batch * od * oh * ow * s.cout);
    assert!(
        p.skip
            .is_none_or(|r| r.len() == s.batch * od * oh * ow * s.cout)
    );
    (orow * s.cout + c0, (s.cout - c0).min(width))
}

/// The kernel rows a block of `voxels` output voxels (input from index `xin`) meets, as the
/// index of each row's first input and of its first weight for output channel `c0`; panics unless
/// the block's `run` inputs per voxel and `width` weights per input lie inside `p`'s buffers.
#[inline]
pub(super) fn kernel_rows(
    p: &Plan,
    walk: &Walk,
    xin: isize,
    c0: usize,
    voxels: usize,
    width: usize,
) -> impl Iterator<Item = (usize, usize)> {
    let (s, w) = (p.s, *walk);
    let (input, weights, coutp) = (p.xp.len(), p.wp.len(), p.coutp);
    let (kd0, kd1) = w.kd_range;
    let (kh0, kh1) = w.kh_range;
    (kd0..kd1)
        .flat_map(move |kd| (kh0..kh1).map(move |kh| (kd, kh)))
        .filter(move |_| w.run > 0)
        .map(move |(kd, kh)| {
            let xbase = (xin + (kd * w.dz + kh * w.dy) as isize) as usize;
            let wbase = ((kd * s.kernel + kh) * s.kernel + w.kw0) * s.cin * coutp + c0;
            assert!(xbase + (voxels - 1) * w.step + w.run <= input);
            assert!(wbase + (w.run - 1) * coutp + width <= weights);
            (xbase, wbase)
        })
}

/// The lanes below `n` (at most 16) on, as AVX-512's masked loads and stores want them.
#[cfg(target_arch = "x86_64")]
#[inline]
pub(super) fn lane_mask(n: usize) -> std::arch::x86_64::__mmask16 {
    ((1u32 << n.min(L)) - 1) as std::arch::x86_64::__mmask16
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
    let (step, run) = (walk.step, walk.run);
    let mut acc = [[_mm512_setzero_ps(); CB]; V];
    for (xbase, wbase) in kernel_rows(p, walk, xin, cb * L, V, CB * L) {
        // SAFETY: `kernel_rows` bounds every read below.
        unsafe {
            let xs = p.xp.as_ptr().add(xbase);
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
    // Plus the bias, LeakyReLU as a select (the signs are random: a branch per value
    // mispredicts half the time), plus the skip, stored; lanes past `cout` masked off.
    let (first, n) = store_start(p, orow, V, cb * L, CB * L);
    let masks: [__mmask16; CB] = std::array::from_fn(|j| lane_mask(n.saturating_sub(j * L).min(L)));
    let c0 = cb * L;
    // SAFETY: masked lanes are neither read nor written; `store_start` bounded the rest, and
    // tasks write disjoint rows.
    unsafe {
        let bias: [__m512; CB] = std::array::from_fn(|j| {
            _mm512_maskz_loadu_ps(masks[j], p.bias.as_ptr().wrapping_add(c0 + j * L))
        });
        let (slope, zero) = (_mm512_set1_ps(p.slope.unwrap_or(1.0)), _mm512_setzero_ps());
        for (v, a) in acc.iter().enumerate() {
            let at = first + v * s.cout;
            for j in 0..CB {
                let t = _mm512_add_ps(a[j], bias[j]);
                let neg = _mm512_cmp_ps_mask::<_CMP_LT_OQ>(t, zero);
                let mut t = _mm512_mask_mul_ps(t, neg, t, slope);
                if let Some(skip) = p.skip {
                    let r = _mm512_maskz_loadu_ps(masks[j], skip.as_ptr().wrapping_add(at + j * L));
                    t = _mm512_add_ps(t, r);
                }
                // A whole register takes a plain store (masked stores are slower on some AMD
                // CPUs; on AVX2 they were a third of the input layer's time).
                let to = out.0.wrapping_add(at + j * L);
                if masks[j] == 0xffff {
                    _mm512_storeu_ps(to, t);
                } else {
                    _mm512_mask_storeu_ps(to, masks[j], t);
                }
            }
        }
    }
    V
}
