//! The AVX2 + FMA versions of the fast kernels, for x86-64 CPUs without AVX-512 (AMD Zen 1-3,
//! most Intel desktop parts): 8 lanes and 16 registers, so smaller register blocks than
//! [`direct`](super::direct)'s and [`backward`](super::backward)'s, the same walks around them
//! and the same order of every sum (the same bits as on AVX-512).
//!
//! - Forward: 6 voxels × 16 channels (12 accumulators, 2 weight registers, one broadcast: the
//!   shape of the classic 6×16 AVX2 matrix-product kernel) or 12 voxels × 8 channels, then 4 and 1.
//! - Weight gradient: 4 input channels × 16 output channels, then 2 and 1.

use super::backward::RowRun;
use super::direct::{Blocks, ConvShape, Plan, SendPtr, Walk, kernel_rows, store_start};

/// Lanes of one AVX2 register.
const L: usize = 8;

/// The forward kernel's register blocks on AVX2.
pub(super) struct Blocks2;

#[cfg(target_arch = "x86_64")]
impl Blocks for Blocks2 {
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
        // SAFETY: the caller guarantees AVX2 and FMA; `block` bounds its own reads and writes.
        unsafe {
            match (two, room) {
                (true, 6..) => block::<6, 2>(p, walk, at, o, cb, out),
                (false, 12..) => block::<12, 1>(p, walk, at, o, cb, out),
                (true, 4..) => block::<4, 2>(p, walk, at, o, cb, out),
                (false, 4..) => block::<4, 1>(p, walk, at, o, cb, out),
                (true, _) => block::<1, 2>(p, walk, at, o, cb, out),
                (false, _) => block::<1, 1>(p, walk, at, o, cb, out),
            }
        }
    }
}

/// `V` output voxels from flat voxel `orow` (input from index `xin`, walked as `walk` says) ×
/// channel registers `cb..cb + CB`; returns `V`.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx2,fma")]
unsafe fn block<const V: usize, const CB: usize>(
    p: &Plan,
    walk: &Walk,
    xin: isize,
    orow: usize,
    cb: usize,
    out: SendPtr,
) -> usize {
    use std::arch::x86_64::*;
    let (step, run) = (walk.step, walk.run);
    let mut acc = [[_mm256_setzero_ps(); CB]; V];
    for (xbase, wbase) in kernel_rows(p, walk, xin, cb * L, V, CB * L) {
        // SAFETY: `kernel_rows` bounds every read below.
        unsafe {
            let xs = p.xp.as_ptr().add(xbase);
            let ws = p.wp.as_ptr().add(wbase);
            for i in 0..run {
                let mut wv = [_mm256_setzero_ps(); CB];
                for (j, w) in wv.iter_mut().enumerate() {
                    *w = _mm256_loadu_ps(ws.add(i * p.coutp + j * L));
                }
                for (v, a) in acc.iter_mut().enumerate() {
                    let xv = _mm256_broadcast_ss(&*xs.add(v * step + i));
                    for j in 0..CB {
                        a[j] = _mm256_fmadd_ps(xv, wv[j], a[j]);
                    }
                }
            }
        }
    }
    // Plus the bias, LeakyReLU as a select, plus the skip, stored; lanes past `cout` masked off
    // (as in `direct`'s AVX-512 block, the same arithmetic).
    let (first, n) = store_start(p, orow, V, cb * L, CB * L);
    let lanes: [Lanes; CB] = std::array::from_fn(|j| Lanes::below(n.saturating_sub(j * L)));
    let c0 = cb * L;
    let cout = p.s.cout;
    // SAFETY: masked lanes are neither read nor written; `store_start` bounded the rest, and
    // tasks write disjoint rows.
    unsafe {
        let bias: [__m256; CB] =
            std::array::from_fn(|j| lanes[j].load(p.bias.as_ptr().wrapping_add(c0 + j * L)));
        let (slope, zero) = (_mm256_set1_ps(p.slope.unwrap_or(1.0)), _mm256_setzero_ps());
        for (v, a) in acc.iter().enumerate() {
            let at = first + v * cout;
            for j in 0..CB {
                let t = _mm256_add_ps(a[j], bias[j]);
                let neg = _mm256_cmp_ps::<_CMP_LT_OQ>(t, zero);
                let mut t = _mm256_blendv_ps(t, _mm256_mul_ps(t, slope), neg);
                if let Some(skip) = p.skip {
                    t = _mm256_add_ps(t, lanes[j].load(skip.as_ptr().wrapping_add(at + j * L)));
                }
                lanes[j].store(out.0.wrapping_add(at + j * L), t);
            }
        }
    }
    V
}

/// The lanes below `n` of one register (all 8 when `n` ≥ 8), and how AVX2 loads and stores just
/// those: masked (each 32-bit lane's sign bit) where some are off, plainly where all are on, as
/// masked stores are microcoded and slow on AMD Zen 1-3 (a third of the input layer's time).
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
struct Lanes {
    mask: std::arch::x86_64::__m256i,
    whole: bool,
}

#[cfg(target_arch = "x86_64")]
impl Lanes {
    #[inline]
    #[target_feature(enable = "avx2")]
    fn below(n: usize) -> Self {
        use std::arch::x86_64::*;
        let mask = _mm256_cmpgt_epi32(
            _mm256_set1_epi32(n.min(L) as i32),
            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
        );
        Lanes {
            mask,
            whole: n >= L,
        }
    }

    /// # Safety
    /// The lanes on must be readable from `ptr`.
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn load(self, ptr: *const f32) -> std::arch::x86_64::__m256 {
        use std::arch::x86_64::*;
        // SAFETY: the caller's.
        unsafe {
            if self.whole {
                _mm256_loadu_ps(ptr)
            } else {
                _mm256_maskload_ps(ptr, self.mask)
            }
        }
    }

    /// # Safety
    /// The lanes on must be writable at `ptr`.
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn store(self, ptr: *mut f32, v: std::arch::x86_64::__m256) {
        use std::arch::x86_64::*;
        // SAFETY: the caller's.
        unsafe {
            if self.whole {
                _mm256_storeu_ps(ptr, v)
            } else {
                _mm256_maskstore_ps(ptr, self.mask, v)
            }
        }
    }
}

/// `acc[ci, co] += Σ_v x_v[ci] · g_v[co]` over the run (see [`backward`](super::backward)):
/// register blocks of 4 (then 2, 1) input channels × 2 registers of output channels (masked past
/// `cout`).
///
/// # Safety
/// The CPU must run AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn outer(run: &RowRun, s: &ConvShape, coutp: usize, acc: &mut [f32]) {
    run.each_block(s, coutp, acc, 2 * L, |acc, ci, co, left| {
        // SAFETY: AVX2 is enabled here; `each_block` checked the run's bounds.
        unsafe {
            match left {
                4.. => outer_block::<4>(run, s, coutp, acc, ci, co),
                2.. => outer_block::<2>(run, s, coutp, acc, ci, co),
                _ => outer_block::<1>(run, s, coutp, acc, ci, co),
            }
        }
    });
}

/// Input channels `ci..ci + R` × output channels `co..co + 16` of [`outer`]; returns `R`.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx2,fma")]
// `j` indexes two accumulator arrays and the input pointer in step; R is a constant, unrolled.
#[allow(clippy::needless_range_loop)]
unsafe fn outer_block<const R: usize>(
    run: &RowRun,
    s: &ConvShape,
    coutp: usize,
    acc: &mut [f32],
    ci: usize,
    co: usize,
) -> usize {
    use std::arch::x86_64::*;
    let cout = s.cout;
    let (m0, m1) = (
        Lanes::below(cout.saturating_sub(co)),
        Lanes::below(cout.saturating_sub(co + L)),
    );
    let second = cout > co + L;
    let mut a0 = [_mm256_setzero_ps(); R];
    let mut a1 = [_mm256_setzero_ps(); R];
    // SAFETY: `outer` checked that the run's vectors lie inside `x` and `g`; masked lanes are
    // not read.
    unsafe {
        let xs = run.x.as_ptr().add(run.first_x * s.cin + ci);
        let gs = run.g.as_ptr().add(run.first_g + co);
        for v in 0..run.voxels {
            let gv = gs.add(v * cout);
            let g0 = m0.load(gv);
            let xv = xs.add(v * run.step_x);
            if second {
                let g1 = m1.load(gv.add(L));
                for j in 0..R {
                    let b = _mm256_broadcast_ss(&*xv.add(j));
                    a0[j] = _mm256_fmadd_ps(b, g0, a0[j]);
                    a1[j] = _mm256_fmadd_ps(b, g1, a1[j]);
                }
            } else {
                for j in 0..R {
                    let b = _mm256_broadcast_ss(&*xv.add(j));
                    a0[j] = _mm256_fmadd_ps(b, g0, a0[j]);
                }
            }
        }
    }
    for j in 0..R {
        let row = &mut acc[(ci + j) * coutp..(ci + j + 1) * coutp];
        assert!(co + if second { 2 * L } else { L } <= coutp);
        // SAFETY: asserted just above: whole registers inside the row.
        unsafe {
            let p0 = row.as_mut_ptr().add(co);
            _mm256_storeu_ps(p0, _mm256_add_ps(_mm256_loadu_ps(p0), a0[j]));
            if second {
                let p1 = p0.add(L);
                _mm256_storeu_ps(p1, _mm256_add_ps(_mm256_loadu_ps(p1), a1[j]));
            }
        }
    }
    R
}
