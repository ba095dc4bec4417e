//! The two backward passes of [`direct`](super::direct)'s convolution, on channels-last `f32`
//! slices, for training (issue 15).
//!
//! - The input's gradient is itself a convolution: the output's gradient convolved at stride 1
//!   with the weights flipped and their channels swapped, through the forward kernel. At stride 2
//!   a 3³ kernel's runs one input parity class at a time (eight 2³ convolutions); other strided
//!   shapes spread the output's gradient back onto the input's grid, zeros between.
//! - The weights' gradient, `dW[t, ci, co] = Σ_v x[v·s + t − p, ci] · g[v, co]`, sums an outer
//!   product over every output voxel: each task takes a fixed share of the output rows into its
//!   own accumulator (8 input channels × 32 output channels in AVX-512 registers along a row), and
//!   the shares are added in order, so the result does not depend on the thread count.

#[cfg(target_arch = "x86_64")]
use super::direct::lane_mask;
use super::direct::{
    ConvShape, Isa, L, conv3d_channels_last, conv3d_channels_last_taps, inside, isa,
};
use rayon::prelude::*;

/// Gradient of the input (`[batch, D, H, W, cin]`) from the gradient of the output `g`
/// (`[batch, D', H', W', cout]`) and the weights in burn's layout (`[cout, cin, k, k, k]`).
pub fn conv3d_backward_input(g: &[f32], weight: &[f32], s: &ConvShape) -> Vec<f32> {
    let k = s.kernel;
    let taps = k.pow(3);
    let out = s.output();
    assert_eq!(
        g.len(),
        s.batch * out.iter().product::<usize>() * s.cout,
        "gradient length"
    );
    if (k, s.stride, s.pad) == (3, 2, 1) {
        return backward_input_by_parity(g, weight, s);
    }
    // The spread gradient's extent: the output's at stride 1.
    let spread: [usize; 3] = s.input.map(|n| n + 2 * s.pad + 1 - k);
    let g_spread;
    let g_in = if s.stride == 1 {
        g
    } else {
        g_spread = spread_to_grid(g, s, spread);
        &g_spread[..]
    };
    let mut flipped = vec![0.0f32; weight.len()];
    for co in 0..s.cout {
        for ci in 0..s.cin {
            for t in 0..taps {
                flipped[(ci * s.cout + co) * taps + (taps - 1 - t)] =
                    weight[(co * s.cin + ci) * taps + t];
            }
        }
    }
    let back = ConvShape {
        batch: s.batch,
        cin: s.cout,
        cout: s.cin,
        input: spread,
        kernel: k,
        stride: 1,
        pad: k - 1 - s.pad,
    };
    debug_assert_eq!(back.output(), s.input);
    conv3d_channels_last(g_in, &flipped, &vec![0.0; s.cin], &back, None, None)
}

/// The input gradient of a 3³ convolution at stride 2 with padding 1, one input parity class
/// at a time: along an axis, even inputs `2m` take tap 1 of output `m`, odd inputs `2m + 1` taps
/// 2 and 0 of outputs `m` and `m + 1`, so each of the 8 classes is a 2³ convolution of `g` (padding
/// 1, zero taps where a class takes one tap only, skipped) whose results are put in place: the
/// 27 taps' multiply-adds, 8× fewer than spreading `g` with zeros.
fn backward_input_by_parity(g: &[f32], weight: &[f32], s: &ConvShape) -> Vec<f32> {
    let out = s.output();
    let [d, h, w] = s.input;
    let mut dx = vec![0.0f32; s.batch * d * h * w * s.cin];
    // Per parity, the 3³ tap each of the two sub-kernel positions takes (None: a zero tap); input
    // 2m + p reads the 2³ convolution's output m + p.
    let taps_of = |p: usize| {
        if p == 0 {
            [None, Some(1)]
        } else {
            [Some(2), Some(0)]
        }
    };
    for parity in 0..8 {
        let p = [parity >> 2, (parity >> 1) & 1, parity & 1];
        let [tz, ty, tx] = p.map(taps_of);
        let mut sub = vec![0.0f32; s.cin * s.cout * 8];
        for ci in 0..s.cin {
            for co in 0..s.cout {
                for a in 0..2 {
                    for b in 0..2 {
                        for c in 0..2 {
                            if let (Some(z), Some(y), Some(x)) = (tz[a], ty[b], tx[c]) {
                                sub[((ci * s.cout + co) * 2 + a) * 4 + b * 2 + c] =
                                    weight[(co * s.cin + ci) * 27 + (z * 3 + y) * 3 + x];
                            }
                        }
                    }
                }
            }
        }
        let shape = ConvShape {
            batch: s.batch,
            cin: s.cout,
            cout: s.cin,
            input: out,
            kernel: 2,
            stride: 1,
            pad: 1,
        };
        // Where a class takes one tap only, the 2³ kernel's first tap along that axis is zero:
        // skipped, not multiplied (27 of the 64 taps of all eight classes are not zero).
        let taps = p.map(|p| if p == 0 { (1, 2) } else { (0, 2) });
        let r = conv3d_channels_last_taps(g, &sub, &shape, taps);
        let [rd, rh, rw] = shape.output();
        // Inputs of this parity along each axis: 2m + p < n.
        let count = |n: usize, p: usize| (n + 1 - p) / 2;
        let (nz, ny, nx) = (count(d, p[0]), count(h, p[1]), count(w, p[2]));
        let ci = s.cin;
        dx.par_chunks_mut(h * w * ci)
            .enumerate()
            .for_each(|(bz, plane)| {
                let (b, z) = (bz / d, bz % d);
                if z % 2 != p[0] || z / 2 >= nz {
                    return;
                }
                let rz = z / 2 + p[0];
                for my in 0..ny {
                    let (y, ry) = (2 * my + p[1], my + p[1]);
                    for mx in 0..nx {
                        let (x, rx) = (2 * mx + p[2], mx + p[2]);
                        let from = (((b * rd + rz) * rh + ry) * rw + rx) * ci;
                        let to = (y * w + x) * ci;
                        plane[to..to + ci].copy_from_slice(&r[from..from + ci]);
                    }
                }
            });
    }
    dx
}

/// `g` (`[batch, D', H', W', cout]`) placed on the stride-1 grid `spread`: voxel `o` at `o·stride`,
/// zeros between.
fn spread_to_grid(g: &[f32], s: &ConvShape, spread: [usize; 3]) -> Vec<f32> {
    let [od, oh, ow] = s.output();
    let [sd, sh, sw] = spread;
    let c = s.cout;
    let st = s.stride;
    let mut out = vec![0.0f32; s.batch * sd * sh * sw * c];
    out.par_chunks_mut(sh * sw * c)
        .enumerate()
        .for_each(|(plane, dst)| {
            let (b, z) = (plane / sd, plane % sd);
            if z % st != 0 {
                return;
            }
            let oz = z / st;
            for oy in 0..oh {
                for ox in 0..ow {
                    let from = (((b * od + oz) * oh + oy) * ow + ox) * c;
                    let to = ((oy * st) * sw + ox * st) * c;
                    dst[to..to + c].copy_from_slice(&g[from..from + c]);
                }
            }
        });
    out
}

/// Gradient of the weights, in burn's layout (`[cout, cin, k, k, k]`), from the input `x`
/// (`[batch, D, H, W, cin]`) and the gradient of the output `g` (`[batch, D', H', W', cout]`).
/// Panics unless [`available`](super::direct::available).
pub fn conv3d_backward_weight(x: &[f32], g: &[f32], s: &ConvShape) -> Vec<f32> {
    let isa = isa().expect("the weight gradient kernel needs AVX-512F or AVX2 with FMA");
    let [d, h, w] = s.input;
    let [od, oh, ow] = s.output();
    assert_eq!(x.len(), s.batch * d * h * w * s.cin, "input length");
    assert_eq!(g.len(), s.batch * od * oh * ow * s.cout, "gradient length");
    let taps = s.kernel.pow(3);
    let coutp = s.cout.div_ceil(isa.lanes()) * isa.lanes();
    let rows = s.batch * od * oh;
    // A fixed number of shares, whatever the thread count: the same sums in the same order.
    let shares = rows.min(16);
    let partial: Vec<Vec<f32>> = (0..shares)
        .into_par_iter()
        .map(|i| {
            let mut acc = vec![0.0f32; taps * s.cin * coutp];
            for r in (i * rows / shares)..((i + 1) * rows / shares) {
                // SAFETY: `isa()` names an instruction set this CPU runs.
                unsafe { weight_row(isa, x, g, s, coutp, r, &mut acc) };
            }
            acc
        })
        .collect();
    let mut sum = partial[0].clone();
    for p in &partial[1..] {
        for (a, b) in sum.iter_mut().zip(p) {
            *a += b;
        }
    }
    let mut dw = vec![0.0f32; s.cout * s.cin * taps];
    for t in 0..taps {
        for ci in 0..s.cin {
            for co in 0..s.cout {
                dw[(co * s.cin + ci) * taps + t] = sum[(t * s.cin + ci) * coutp + co];
            }
        }
    }
    dw
}

/// Adds output row `r` (`(b, z, y)` flattened) to `acc` (`[tap, cin] × coutp`).
///
/// # Safety
/// The CPU must run `isa`.
unsafe fn weight_row(
    isa: Isa,
    x: &[f32],
    g: &[f32],
    s: &ConvShape,
    coutp: usize,
    r: usize,
    acc: &mut [f32],
) {
    let [d, h, w] = s.input;
    let [od, oh, ow] = s.output();
    let (b, z, y) = (r / (od * oh), (r / oh) % od, r % oh);
    let k = s.kernel;
    let grow = r * ow * s.cout;
    let (kd0, kd1) = inside(z, s, d);
    let (kh0, kh1) = inside(y, s, h);
    for kd in kd0..kd1 {
        let iz = z * s.stride + kd - s.pad;
        for kh in kh0..kh1 {
            let iy = y * s.stride + kh - s.pad;
            let xrow = ((b * d + iz) * h + iy) * w * s.cin;
            for kw in 0..k {
                // Output voxels whose column kw lands inside the row.
                let lo = (s.pad.saturating_sub(kw)).div_ceil(s.stride);
                let hi = ((w + s.pad - kw).div_ceil(s.stride)).min(ow);
                if lo >= hi {
                    continue;
                }
                let t = (kd * k + kh) * k + kw;
                let run = RowRun {
                    x: &x[xrow..xrow + w * s.cin],
                    g: &g[grow..grow + ow * s.cout],
                    first_x: lo * s.stride + kw - s.pad,
                    step_x: s.stride * s.cin,
                    voxels: hi - lo,
                    first_g: lo * s.cout,
                };
                let acc = &mut acc[t * s.cin * coutp..(t + 1) * s.cin * coutp];
                // SAFETY: the caller guarantees `isa`; `outer` bounds its own reads and writes.
                #[cfg(target_arch = "x86_64")]
                unsafe {
                    match isa {
                        Isa::Avx512 => outer(&run, s, coutp, acc),
                        Isa::Avx2 => super::avx2::outer(&run, s, coutp, acc),
                    }
                };
                #[cfg(not(target_arch = "x86_64"))]
                let _ = (isa, run, acc);
            }
        }
    }
}

/// One kernel tap's share of a row: `voxels` input vectors (`cin` values each, the first at
/// vector `first_x`, `step_x` values apart) against as many output-gradient vectors (`cout`
/// values each, contiguous from `first_g`).
pub(super) struct RowRun<'a> {
    pub(super) x: &'a [f32],
    pub(super) g: &'a [f32],
    pub(super) first_x: usize,
    pub(super) step_x: usize,
    pub(super) voxels: usize,
    pub(super) first_g: usize,
}

impl RowRun<'_> {
    /// Panics unless the run's vectors lie inside `x` and `g` and `acc` holds `cin` rows of
    /// `coutp`.
    pub(super) fn check(&self, s: &ConvShape, coutp: usize, acc: &[f32]) {
        let last_x = self.first_x * s.cin + (self.voxels - 1) * self.step_x + s.cin;
        assert!(last_x <= self.x.len());
        assert!(self.first_g + self.voxels * s.cout <= self.g.len());
        assert_eq!(acc.len(), s.cin * coutp);
    }

    /// After [`check`](Self::check), every register block of an outer product over the run:
    /// `block(acc, ci, co, left)` adds input channels from `ci` (as many as it chooses of the
    /// `left` still to do; it returns how many) × output channels `co..co + width`.
    #[inline(always)]
    pub(super) fn each_block(
        &self,
        s: &ConvShape,
        coutp: usize,
        acc: &mut [f32],
        width: usize,
        mut block: impl FnMut(&mut [f32], usize, usize, usize) -> usize,
    ) {
        self.check(s, coutp, acc);
        for co in (0..s.cout).step_by(width) {
            let mut ci = 0;
            while ci < s.cin {
                ci += block(acc, ci, co, s.cin - ci);
            }
        }
    }
}

/// `acc[ci, co] += Σ_v x_v[ci] · g_v[co]` over the run: register blocks of 8 (then 4, 2, 1)
/// input channels × 2 registers of output channels (masked past `cout`).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn outer(run: &RowRun, s: &ConvShape, coutp: usize, acc: &mut [f32]) {
    run.each_block(s, coutp, acc, 2 * L, |acc, ci, co, left| {
        // SAFETY: avx512f is enabled here; `each_block` checked the run's bounds.
        unsafe {
            match left {
                8.. => outer_block::<8>(run, s, coutp, acc, ci, co),
                4.. => outer_block::<4>(run, s, coutp, acc, ci, co),
                2.. => outer_block::<2>(run, s, coutp, acc, ci, co),
                _ => outer_block::<1>(run, s, coutp, acc, ci, co),
            }
        }
    });
}

/// Input channels `ci..ci + R` × output channels `co..co + 32` of [`outer`]; returns `R`.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx512f")]
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
    let lanes = |c: usize| lane_mask(cout.saturating_sub(c));
    let (m0, m1) = (lanes(co), lanes(co + L));
    let mut a0 = [_mm512_setzero_ps(); R];
    let mut a1 = [_mm512_setzero_ps(); R];
    // SAFETY: `outer` checked that the run's vectors lie inside `x` and `g`; masked lanes are
    // not read.
    unsafe {
        let xs = run.x.as_ptr().add(run.first_x * s.cin + ci);
        let gs = run.g.as_ptr().add(run.first_g + co);
        for v in 0..run.voxels {
            let gv = gs.add(v * cout);
            let g0 = _mm512_maskz_loadu_ps(m0, gv);
            let xv = xs.add(v * run.step_x);
            if m1 != 0 {
                let g1 = _mm512_maskz_loadu_ps(m1, gv.add(L));
                for j in 0..R {
                    let b = _mm512_set1_ps(*xv.add(j));
                    a0[j] = _mm512_fmadd_ps(b, g0, a0[j]);
                    a1[j] = _mm512_fmadd_ps(b, g1, a1[j]);
                }
            } else {
                for j in 0..R {
                    let b = _mm512_set1_ps(*xv.add(j));
                    a0[j] = _mm512_fmadd_ps(b, g0, a0[j]);
                }
            }
        }
    }
    for j in 0..R {
        let row = &mut acc[(ci + j) * coutp..(ci + j + 1) * coutp];
        // SAFETY: coutp is a whole number of registers past co (two when m1 has lanes).
        unsafe {
            let p0 = row.as_mut_ptr().add(co);
            _mm512_storeu_ps(p0, _mm512_add_ps(_mm512_loadu_ps(p0), a0[j]));
            if m1 != 0 {
                let p1 = p0.add(L);
                _mm512_storeu_ps(p1, _mm512_add_ps(_mm512_loadu_ps(p1), a1[j]));
            }
        }
    }
    R
}
