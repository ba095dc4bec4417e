//! 3D real-to-complex FFTs of `[z, y, x]` arrays: realfft along x, rustfft along y and z,
//! each pass parallel over lines. Unnormalised forward; the inverse divides by the size.

use ndarray::{Array3, Axis, Zip};
use realfft::RealFftPlanner;
use rustfft::FftPlanner;
use rustfft::num_complex::Complex32;
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
    fn parallel(&self) -> bool {
        self.shape.iter().product::<usize>() >= 1 << 18
    }

    /// Shape of the half spectrum `[nz, ny, nx/2 + 1]`.
    pub fn spectrum_shape(&self) -> [usize; 3] {
        [self.shape[0], self.shape[1], self.shape[2] / 2 + 1]
    }

    /// Forward transform.
    pub fn forward(&self, v: &Array3<f32>) -> Array3<Complex32> {
        let [nz, ny, nx] = self.shape;
        assert_eq!(
            v.dim(),
            (nz, ny, nx),
            "volume shape does not match the plan"
        );
        let h = nx / 2 + 1;
        let mut spec = Array3::<Complex32>::zeros((nz, ny, h));
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
        } else {
            // One set of buffers for all lines.
            let mut input = vec![0f32; nx];
            let mut out = vec![Complex32::default(); h];
            let mut scratch = self.r2c.make_scratch_vec();
            Zip::from(v.lanes(Axis(2)))
                .and(spec.lanes_mut(Axis(2)))
                .for_each(|src, mut dst| {
                    input.iter_mut().zip(src.iter()).for_each(|(i, s)| *i = *s);
                    self.r2c
                        .process_with_scratch(&mut input, &mut out, &mut scratch)
                        .expect("lengths match the plan");
                    dst.iter_mut().zip(out.iter()).for_each(|(d, o)| *d = *o);
                });
        }
        complex_pass(&mut spec, Axis(1), &self.fy, self.parallel());
        complex_pass(&mut spec, Axis(0), &self.fz, self.parallel());
        spec
    }

    /// Inverse transform (normalised, so `inverse(forward(v)) == v`).
    pub fn inverse(&self, spec: &Array3<Complex32>) -> Array3<f32> {
        let [nz, ny, nx] = self.shape;
        let mut s = spec.clone();
        complex_pass(&mut s, Axis(0), &self.iz, self.parallel());
        complex_pass(&mut s, Axis(1), &self.iy, self.parallel());
        let mut out = Array3::<f32>::zeros((nz, ny, nx));
        let norm = 1.0 / (nx * ny * nz) as f32;
        let c2r = |input: &mut Vec<Complex32>, o: &mut Vec<f32>, scratch: &mut Vec<Complex32>| {
            // The DC (and Nyquist) bins of a real signal are real; drop rounding residue.
            input[0].im = 0.0;
            if nx % 2 == 0 {
                input[nx / 2].im = 0.0;
            }
            self.c2r
                .process_with_scratch(input, o, scratch)
                .expect("lengths match the plan");
        };
        if self.parallel() {
            Zip::from(s.lanes(Axis(2)))
                .and(out.lanes_mut(Axis(2)))
                .par_for_each(|src, mut dst| {
                    let (mut input, mut o, mut scratch) =
                        (src.to_vec(), vec![0f32; nx], self.c2r.make_scratch_vec());
                    c2r(&mut input, &mut o, &mut scratch);
                    dst.iter_mut().zip(o).for_each(|(d, x)| *d = x * norm);
                });
        } else {
            let (mut input, mut o, mut scratch) = (
                vec![Complex32::default(); nx / 2 + 1],
                vec![0f32; nx],
                self.c2r.make_scratch_vec(),
            );
            Zip::from(s.lanes(Axis(2)))
                .and(out.lanes_mut(Axis(2)))
                .for_each(|src, mut dst| {
                    input.iter_mut().zip(src.iter()).for_each(|(i, s)| *i = *s);
                    c2r(&mut input, &mut o, &mut scratch);
                    dst.iter_mut()
                        .zip(o.iter())
                        .for_each(|(d, x)| *d = *x * norm);
                });
        }
        out
    }
}

fn complex_pass(
    spec: &mut Array3<Complex32>,
    axis: Axis,
    fft: &Arc<dyn rustfft::Fft<f32>>,
    parallel: bool,
) {
    if parallel {
        Zip::from(spec.lanes_mut(axis)).par_for_each(|mut lane| {
            let mut buf: Vec<Complex32> = lane.to_vec();
            fft.process(&mut buf);
            lane.iter_mut().zip(buf).for_each(|(d, b)| *d = b);
        });
    } else {
        // Gather every lane into one buffer and transform them in one call (rustfft then runs
        // its batched kernels), then scatter back.
        let n = spec.len_of(axis);
        let mut buf: Vec<Complex32> = Vec::with_capacity(spec.len());
        for lane in spec.lanes(axis) {
            buf.extend(lane.iter());
        }
        let mut scratch = vec![Complex32::default(); fft.get_inplace_scratch_len()];
        fft.process_with_scratch(&mut buf, &mut scratch);
        for (mut lane, chunk) in spec.lanes_mut(axis).into_iter().zip(buf.chunks_exact(n)) {
            lane.iter_mut().zip(chunk).for_each(|(d, b)| *d = *b);
        }
    }
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
