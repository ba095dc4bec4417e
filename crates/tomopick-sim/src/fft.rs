//! 3D real-to-complex FFTs of `[z, y, x]` arrays: realfft along x, rustfft along y and z.
//! Unnormalised forward; the inverse divides by the size.
//!
//! The half spectrum is indexed `[kz, ky, kx]` like the volume, with shape `[nz, ny, nx/2 + 1]`,
//! but stored **x-major**: its memory is `[kx][ky][kz]`, z contiguous (an `Array3` with permuted
//! axes; see [`is_x_major`]). Then each kx plane is one contiguous block, so sweeps over the
//! spectrum run block by block (in parallel for big volumes), and the self-conjugate planes
//! kx = 0 and kx = N/2 are whole blocks.
//!
//! Volumes of 64³ and more run each pass in parallel over lines. Smaller ones (40³ training
//! boxes, made many at a time on all cores) run on the calling thread without a full
//! transpose: the x transform scatters its output into `[kx][z][y]` order, the y lines are then
//! contiguous, one small in-cache transpose per kx plane gives `[kx][ky][z]`, and the z lines
//! are contiguous; the inverse runs the same steps backwards. Each pass is one batched rustfft
//! call.

use ndarray::{Array3, Axis, Zip};
use realfft::RealFftPlanner;
use rustfft::FftPlanner;
/// The spectra's element type.
pub use rustfft::num_complex::Complex32;
use std::sync::Arc;

/// Plans for one volume shape; reuse it for many volumes of that shape.
pub struct Fft3 {
    shape: [usize; 3],
    r2c: Arc<dyn realfft::RealToComplex<f32>>,
    c2r: Arc<dyn realfft::ComplexToReal<f32>>,
    fy: Arc<dyn rustfft::Fft<f32>>,
    iy: Arc<dyn rustfft::Fft<f32>>,
    fz: Arc<dyn rustfft::Fft<f32>>,
    iz: Arc<dyn rustfft::Fft<f32>>,
}

/// True when `spec` (indexed `[kz, ky, kx]`) is stored x-major and contiguous.
pub fn is_x_major(spec: &Array3<Complex32>) -> bool {
    spec.view().permuted_axes([2, 1, 0]).is_standard_layout()
}

/// Zeros of logical shape `[nz, ny, h]`, stored x-major.
pub fn x_major_zeros([nz, ny, h]: [usize; 3]) -> Array3<Complex32> {
    Array3::zeros((h, ny, nz)).permuted_axes([2, 1, 0])
}

/// The memory of an x-major spectrum: index `(kx·ny + ky)·nz + kz`.
pub fn x_major_slice(spec: &mut Array3<Complex32>) -> &mut [Complex32] {
    assert!(is_x_major(spec), "spectrum is not stored x-major");
    spec.as_slice_memory_order_mut()
        .expect("an x-major spectrum is contiguous")
}

impl Fft3 {
    /// Plans for a `[nz, ny, nx]` volume.
    pub fn new(shape_zyx: [usize; 3]) -> Self {
        let [nz, ny, nx] = shape_zyx;
        let mut rp = RealFftPlanner::<f32>::new();
        let mut cp = FftPlanner::<f32>::new();
        Fft3 {
            shape: shape_zyx,
            r2c: rp.plan_fft_forward(nx),
            c2r: rp.plan_fft_inverse(nx),
            fy: cp.plan_fft_forward(ny),
            iy: cp.plan_fft_inverse(ny),
            fz: cp.plan_fft_forward(nz),
            iz: cp.plan_fft_inverse(nz),
        }
    }

    /// Volumes of 64³ and more use all cores; smaller ones run on the calling thread, since
    /// they are usually made many at a time in parallel.
    pub fn parallel(&self) -> bool {
        self.shape.iter().product::<usize>() >= 1 << 18
    }

    /// Shape of the half spectrum `[nz, ny, nx/2 + 1]`.
    pub fn spectrum_shape(&self) -> [usize; 3] {
        [self.shape[0], self.shape[1], self.shape[2] / 2 + 1]
    }

    /// Forward transform (x-major spectrum).
    pub fn forward(&self, v: &Array3<f32>) -> Array3<Complex32> {
        let mut spec = x_major_zeros(self.spectrum_shape());
        self.forward_into(v, &mut spec);
        spec
    }

    /// Forward transform into `spec`, replaced by a fresh x-major array when it has another
    /// shape or layout (so one buffer serves many volumes of one shape).
    pub fn forward_into(&self, v: &Array3<f32>, spec: &mut Array3<Complex32>) {
        let [nz, ny, nx] = self.shape;
        assert_eq!(
            v.dim(),
            (nz, ny, nx),
            "volume shape does not match the plan"
        );
        let h = nx / 2 + 1;
        if spec.dim() != (nz, ny, h) || !is_x_major(spec) {
            *spec = x_major_zeros(self.spectrum_shape());
        }
        if self.parallel() {
            Zip::from(v.lanes(Axis(2)))
                .and(spec.lanes_mut(Axis(2)))
                .par_for_each(|src, mut dst| {
                    let mut input: Vec<f32> = src.to_vec();
                    let mut out = vec![Complex32::default(); h];
                    self.r2c
                        .process(&mut input, &mut out)
                        .expect("lengths match the plan");
                    dst.iter_mut().zip(out).for_each(|(d, o)| *d = o);
                });
            complex_pass_parallel(spec, Axis(1), &self.fy);
            complex_pass_parallel(spec, Axis(0), &self.fz);
            return;
        }
        let standard;
        let src = match v.as_slice() {
            Some(s) => s,
            None => {
                standard = v.as_standard_layout().into_owned();
                standard.as_slice().expect("standard layout")
            }
        };
        let out = x_major_slice(spec);
        with_buffer(out.len(), |zy| {
            // x, scattered to [kx][z][y]; all-zero lines (outside a particle) give zeros.
            let mut input = vec![0f32; nx];
            let mut line = vec![Complex32::default(); h];
            let mut scratch = self.r2c.make_scratch_vec();
            let mut plane_used = vec![false; nz];
            for (i, row) in src.chunks_exact(nx).enumerate() {
                let (z, y) = (i / ny, i % ny);
                if row.iter().all(|&x| x == 0.0) {
                    line.fill(Complex32::default());
                } else {
                    plane_used[z] = true;
                    input.copy_from_slice(row);
                    self.r2c
                        .process_with_scratch(&mut input, &mut line, &mut scratch)
                        .expect("lengths match the plan");
                }
                for (kx, c) in line.iter().enumerate() {
                    zy[(kx * nz + z) * ny + y] = *c;
                }
            }
            // y, on the lines of the z range that holds anything (per kx, one run of lines).
            if let (Some(lo), Some(hi)) = (
                plane_used.iter().position(|u| *u),
                plane_used.iter().rposition(|u| *u),
            ) {
                if (lo, hi) == (0, nz - 1) {
                    batch(zy, &self.fy);
                } else {
                    for block in zy.chunks_exact_mut(nz * ny) {
                        batch(&mut block[lo * ny..(hi + 1) * ny], &self.fy);
                    }
                }
            }
            // [kx][z][ky] → [kx][ky][z], then z.
            for (a, b) in zy.chunks_exact(nz * ny).zip(out.chunks_exact_mut(nz * ny)) {
                transpose(a, nz, ny, b);
            }
        });
        batch(out, &self.fz);
    }

    /// Inverse transform (normalised, so `inverse(forward(v)) == v`); any layout.
    pub fn inverse(&self, spec: &Array3<Complex32>) -> Array3<f32> {
        let mut s = x_major_zeros(self.spectrum_shape());
        s.assign(spec);
        self.inverse_overwriting(&mut s)
    }

    /// Inverse transform that consumes the spectrum instead of copying it.
    pub fn inverse_owned(&self, mut spec: Array3<Complex32>) -> Array3<f32> {
        self.inverse_overwriting(&mut spec)
    }

    /// Inverse transform that works in `spec` (left holding intermediate values).
    pub fn inverse_overwriting(&self, spec: &mut Array3<Complex32>) -> Array3<f32> {
        let [nz, ny, nx] = self.shape;
        let h = nx / 2 + 1;
        assert_eq!(
            spec.dim(),
            (nz, ny, h),
            "spectrum shape does not match the plan"
        );
        if !is_x_major(spec) {
            let mut s = x_major_zeros(self.spectrum_shape());
            s.assign(spec);
            *spec = s;
        }
        let mut out = Array3::<f32>::zeros((nz, ny, nx));
        let norm = 1.0 / (nx * ny * nz) as f32;
        let c2r = |input: &mut [Complex32], o: &mut [f32], scratch: &mut [Complex32]| {
            // The DC (and Nyquist) bins of a real signal are real; drop rounding residue.
            input[0].im = 0.0;
            if nx % 2 == 0 {
                input[nx / 2].im = 0.0;
            }
            self.c2r
                .process_with_scratch(input, o, scratch)
                .expect("lengths match the plan");
            o.iter_mut().for_each(|x| *x *= norm);
        };
        if self.parallel() {
            complex_pass_parallel(spec, Axis(0), &self.iz);
            complex_pass_parallel(spec, Axis(1), &self.iy);
            Zip::from(spec.lanes(Axis(2)))
                .and(out.lanes_mut(Axis(2)))
                .par_for_each(|src, mut dst| {
                    let (mut input, mut o, mut scratch) =
                        (src.to_vec(), vec![0f32; nx], self.c2r.make_scratch_vec());
                    c2r(&mut input, &mut o, &mut scratch);
                    dst.iter_mut().zip(o).for_each(|(d, x)| *d = x);
                });
            return out;
        }
        let data = x_major_slice(spec);
        batch(data, &self.iz);
        with_buffer(data.len(), |zy| {
            // [kx][ky][z] → [kx][z][ky], then y.
            for (a, b) in data.chunks_exact(nz * ny).zip(zy.chunks_exact_mut(nz * ny)) {
                transpose(a, ny, nz, b);
            }
            batch(zy, &self.iy);
            // x, gathered from [kx][z][y].
            let mut line = vec![Complex32::default(); h];
            let mut scratch = self.c2r.make_scratch_vec();
            let o = out.as_slice_mut().expect("fresh array");
            for (i, row) in o.chunks_exact_mut(nx).enumerate() {
                let (z, y) = (i / ny, i % ny);
                for (kx, c) in line.iter_mut().enumerate() {
                    *c = zy[(kx * nz + z) * ny + y];
                }
                c2r(&mut line, row, &mut scratch);
            }
        });
        out
    }
}

thread_local! {
    /// The intermediate `[kx][z][ky]` buffer of the small-volume path, kept per thread: a
    /// fresh one per transform costs page faults and zeroing comparable to the work itself.
    static BUFFER: std::cell::RefCell<Vec<Complex32>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn with_buffer(len: usize, f: impl FnOnce(&mut [Complex32])) {
    BUFFER.with(|b| {
        let mut b = b.borrow_mut();
        b.resize(len, Complex32::default());
        f(&mut b[..len])
    });
}

/// Transforms every contiguous line of `data` (its length a multiple of the plan's) in one call.
fn batch(data: &mut [Complex32], fft: &Arc<dyn rustfft::Fft<f32>>) {
    let mut scratch = vec![Complex32::default(); fft.get_inplace_scratch_len()];
    fft.process_with_scratch(data, &mut scratch);
}

/// `dst` (`cols × rows`) = the transpose of `src` (`rows × cols`), both row-major, in small
/// tiles so that reads and writes both stay in cache lines.
pub(crate) fn transpose<T: Copy>(src: &[T], rows: usize, cols: usize, dst: &mut [T]) {
    const T: usize = 8;
    for r0 in (0..rows).step_by(T) {
        let r1 = (r0 + T).min(rows);
        for c0 in (0..cols).step_by(T) {
            let c1 = (c0 + T).min(cols);
            for r in r0..r1 {
                for c in c0..c1 {
                    dst[c * rows + r] = src[r * cols + c];
                }
            }
        }
    }
}

fn complex_pass_parallel(
    spec: &mut Array3<Complex32>,
    axis: Axis,
    fft: &Arc<dyn rustfft::Fft<f32>>,
) {
    Zip::from(spec.lanes_mut(axis)).par_for_each(|mut lane| {
        if let Some(s) = lane.as_slice_mut() {
            fft.process(s);
            return;
        }
        let mut buf: Vec<Complex32> = lane.to_vec();
        fft.process(&mut buf);
        lane.iter_mut().zip(buf).for_each(|(d, b)| *d = b);
    });
}

/// Signed frequency index of bin `i` of an axis of length `n` (0, 1, …, −1).
pub fn freq_index(i: usize, n: usize) -> i64 {
    if i <= n / 2 {
        i as i64
    } else {
        i as i64 - n as i64
    }
}

/// Weight of a half-spectrum x bin in sums over the full spectrum (1 for DC and Nyquist, else 2).
pub fn half_weight(ix: usize, nx: usize) -> f64 {
    if ix == 0 || (nx.is_multiple_of(2) && ix == nx / 2) {
        1.0
    } else {
        2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The half spectrum by the DFT's definition, O(N²).
    fn naive_dft(v: &Array3<f32>) -> Array3<Complex32> {
        let (nz, ny, nx) = v.dim();
        let tau = std::f64::consts::TAU;
        Array3::from_shape_fn((nz, ny, nx / 2 + 1), |(kz, ky, kx)| {
            let (mut re, mut im) = (0.0f64, 0.0f64);
            for ((z, y, x), val) in v.indexed_iter() {
                let phase = -tau
                    * ((kz * z) as f64 / nz as f64
                        + (ky * y) as f64 / ny as f64
                        + (kx * x) as f64 / nx as f64);
                re += *val as f64 * phase.cos();
                im += *val as f64 * phase.sin();
            }
            Complex32::new(re as f32, im as f32)
        })
    }

    fn pseudo_random(shape: (usize, usize, usize)) -> Array3<f32> {
        let mut s = 12345u64;
        Array3::from_shape_simple_fn(shape, || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 40) as f32 / (1u64 << 24) as f32 - 0.5
        })
    }

    #[test]
    fn small_volumes_match_the_dft_and_round_trip() {
        for shape in [(6, 5, 8), (3, 4, 7), (1, 6, 6), (5, 1, 4)] {
            let mut v = pseudo_random(shape);
            // An all-zero x line (skipped by the forward pass).
            if shape.1 > 1 {
                v.slice_mut(ndarray::s![0, 1, ..]).fill(0.0);
            }
            // All-zero z planes at the start and inside (the y pass skips the first).
            if shape.0 > 2 {
                v.slice_mut(ndarray::s![0, .., ..]).fill(0.0);
                v.slice_mut(ndarray::s![2, .., ..]).fill(0.0);
            }
            let fft = Fft3::new([shape.0, shape.1, shape.2]);
            let spec = fft.forward(&v);
            let want = naive_dft(&v);
            for (a, b) in spec.iter().zip(want.iter()) {
                assert!((a - b).norm() < 1e-4, "{shape:?}: {a} vs {b}");
            }
            let back = fft.inverse_owned(spec);
            for (a, b) in back.iter().zip(v.iter()) {
                assert!((a - b).abs() < 1e-5, "{shape:?}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn large_volumes_find_a_plane_wave_and_round_trip() {
        let n = 64;
        let (fx, fy, fz) = (3usize, 5usize, 7usize);
        let tau = std::f64::consts::TAU;
        let v = Array3::from_shape_fn((n, n, n), |(z, y, x)| {
            ((tau * (fx * x + fy * y + fz * z) as f64) / n as f64).cos() as f32
        });
        let fft = Fft3::new([n, n, n]);
        assert!(fft.parallel());
        let spec = fft.forward(&v);
        let half = (n * n * n) as f32 / 2.0;
        for ((z, y, x), c) in spec.indexed_iter() {
            let want = if (z, y, x) == (fz, fy, fx) { half } else { 0.0 };
            assert!(
                (c.re - want).abs() < 0.5 && c.im.abs() < 0.5,
                "bin {z},{y},{x}: {c}"
            );
        }
        let back = fft.inverse(&spec);
        for (a, b) in back.iter().zip(v.iter()) {
            assert!((a - b).abs() < 1e-4);
        }
    }
}
