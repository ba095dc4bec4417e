//! Trilinear resampling: rotating a template into a box, and changing the voxel size.

use ndarray::{Array3, ArrayView3, Axis};
use rayon::prelude::*;
use tomopick_io::{Rotation, Volume, VoxelSize};

/// Trilinear sample of `v` at fractional voxel `(x, y, z)`; 0 outside.
#[inline]
pub fn trilinear(v: &ArrayView3<f32>, x: f64, y: f64, z: f64) -> f32 {
    let (nz, ny, nx) = v.dim();
    if !(x > -1.0 && y > -1.0 && z > -1.0 && x < nx as f64 && y < ny as f64 && z < nz as f64) {
        return 0.0;
    }
    // floor(t) for t > −1 without a libm call: t + 1 > 0 truncates to floor(t) + 1.
    let floor = |t: f64| (t + 1.0) as i64 - 1;
    let (x0, y0, z0) = (floor(x), floor(y), floor(z));
    let (fx, fy, fz) = (
        (x - x0 as f64) as f32,
        (y - y0 as f64) as f32,
        (z - z0 as f64) as f32,
    );
    // Fast path: all eight neighbours inside a contiguous volume.
    if let Some(d) = v.as_slice()
        && x0 >= 0
        && y0 >= 0
        && z0 >= 0
        && x0 + 1 < nx as i64
        && y0 + 1 < ny as i64
        && z0 + 1 < nz as i64
    {
        let (sy, sz) = (nx, nx * ny);
        let i = z0 as usize * sz + y0 as usize * sy + x0 as usize;
        let lerp = |a: f32, b: f32, t: f32| a + (b - a) * t;
        let c00 = lerp(d[i], d[i + 1], fx);
        let c10 = lerp(d[i + sy], d[i + sy + 1], fx);
        let c01 = lerp(d[i + sz], d[i + sz + 1], fx);
        let c11 = lerp(d[i + sz + sy], d[i + sz + sy + 1], fx);
        return lerp(lerp(c00, c10, fy), lerp(c01, c11, fy), fz);
    }
    let at = |xx: i64, yy: i64, zz: i64| -> f32 {
        if xx < 0 || yy < 0 || zz < 0 || xx >= nx as i64 || yy >= ny as i64 || zz >= nz as i64 {
            0.0
        } else {
            v[[zz as usize, yy as usize, xx as usize]]
        }
    };
    let c00 = at(x0, y0, z0) * (1.0 - fx) + at(x0 + 1, y0, z0) * fx;
    let c10 = at(x0, y0 + 1, z0) * (1.0 - fx) + at(x0 + 1, y0 + 1, z0) * fx;
    let c01 = at(x0, y0, z0 + 1) * (1.0 - fx) + at(x0 + 1, y0, z0 + 1) * fx;
    let c11 = at(x0, y0 + 1, z0 + 1) * (1.0 - fx) + at(x0 + 1, y0 + 1, z0 + 1) * fx;
    let c0 = c00 * (1.0 - fy) + c10 * fy;
    let c1 = c01 * (1.0 - fy) + c11 * fy;
    c0 * (1.0 - fz) + c1 * fz
}

/// Trilinear samples of a contiguous `[z, y, x]` volume (`[nx, ny]` wide) along `start + i·step`
/// added to `out`; every sample's eight neighbours must lie inside.
fn sample_segment(
    data: &[f32],
    [nx, ny]: [usize; 2],
    start: glam::DVec3,
    step: glam::DVec3,
    out: &mut [f32],
) {
    let (sy, sz) = (nx, nx * ny);
    let lerp = |a: f32, b: f32, t: f32| a + (b - a) * t;
    let mut p = start;
    for o in out {
        // Non-negative, so truncation is the floor.
        let (x0, y0, z0) = (p.x as usize, p.y as usize, p.z as usize);
        let (fx, fy, fz) = (
            (p.x - x0 as f64) as f32,
            (p.y - y0 as f64) as f32,
            (p.z - z0 as f64) as f32,
        );
        let i = z0 * sz + y0 * sy + x0;
        let c = &data[i..i + sz + sy + 2];
        let c00 = lerp(c[0], c[1], fx);
        let c10 = lerp(c[sy], c[sy + 1], fx);
        let c01 = lerp(c[sz], c[sz + 1], fx);
        let c11 = lerp(c[sz + sy], c[sz + sy + 1], fx);
        *o += lerp(lerp(c00, c10, fy), lerp(c01, c11, fy), fz);
        p += step;
    }
}

/// Radius in voxels, from the centre voxel `n/2`, of the smallest ball holding every non-zero
/// voxel of a centred template (plus one voxel for interpolation).
pub fn support_radius(template: &ArrayView3<f32>) -> f64 {
    let (tz, ty, tx) = template.dim();
    let c = [tx as f64 / 2.0, ty as f64 / 2.0, tz as f64 / 2.0];
    let r2 = template
        .indexed_iter()
        .filter(|(_, v)| **v != 0.0)
        .map(|((z, y, x), _)| {
            (x as f64 - c[0]).powi(2) + (y as f64 - c[1]).powi(2) + (z as f64 - c[2]).powi(2)
        })
        .fold(0.0, f64::max);
    r2.sqrt() + 1.0
}

/// A centred cubic template cut down to the smallest centred cube that holds its support
/// ([`support_radius`]), with that radius. Placing the cut template gives the same values;
/// it only keeps rotated sampling in cache (a 72³ ribosome box holds a 46³ particle).
pub fn crop_to_support(template: Array3<f32>) -> (Array3<f32>, f64) {
    let radius = support_radius(&template.view());
    let n = template.dim().0;
    let cube = template.dim() == (n, n, n);
    // Same parity as n, so that the centre voxel n/2 stays on the grid.
    let m = 2 * radius.ceil() as usize + 2 + n % 2;
    if !cube || m >= n {
        return (template, radius);
    }
    let o = (n - m) / 2;
    let cut = template
        .slice(ndarray::s![o..o + m, o..o + m, o..o + m])
        .to_owned();
    (cut, radius)
}

/// Radius in voxels of the farthest voxel above `threshold` from the centre voxel `n/2`:
/// the particle's radius as its mask sees it.
pub fn radius_above(template: &ArrayView3<f32>, threshold: f32) -> f64 {
    let (tz, ty, tx) = template.dim();
    let c = [tx as f64 / 2.0, ty as f64 / 2.0, tz as f64 / 2.0];
    template
        .indexed_iter()
        .filter(|(_, v)| **v > threshold)
        .map(|((z, y, x), _)| {
            ((x as f64 - c[0]).powi(2) + (y as f64 - c[1]).powi(2) + (z as f64 - c[2]).powi(2))
                .sqrt()
        })
        .fold(0.0, f64::max)
}

/// Places `template` (centred at voxel `n/2`) rotated by `rot` and enlarged by `scale` with its
/// centre at `centre_vox` (x, y, z, voxels) of a `[nz, ny, nx]` box:
/// `out(p) = template(Rᵀ(p − c)/scale + c_t)`. Only voxels within `radius × scale` of the centre
/// (see [`support_radius`]) are sampled; pass `f64::INFINITY` to sample all.
pub fn place_rotated(
    template: &ArrayView3<f32>,
    rot: &Rotation,
    scale: f64,
    centre_vox: [f64; 3],
    shape_zyx: [usize; 3],
    radius: f64,
) -> Array3<f32> {
    let mut out = Array3::<f32>::zeros((shape_zyx[0], shape_zyx[1], shape_zyx[2]));
    add_rotated(template, rot, scale, centre_vox, &mut out, radius);
    out
}

/// Where a rotated, scaled template lands in a box, row by row: what [`add_rotated`] samples.
struct Placement {
    /// Box coordinates (relative to the centre) to template coordinates.
    rt: glam::DMat3,
    /// The template coordinate's change for one voxel along a row (the rotated x axis).
    step: glam::DVec3,
    /// The template's centre voxel.
    ct: glam::DVec3,
    /// Radius of the sampled ball in box voxels.
    reach: f64,
    centre: [f64; 3],
    /// The box's row length.
    nx: usize,
}

impl Placement {
    fn new(
        template_dim: (usize, usize, usize),
        rot: &Rotation,
        scale: f64,
        centre: [f64; 3],
        nx: usize,
        radius: f64,
    ) -> Self {
        let (tz, ty, tx) = template_dim;
        let rt = rot.0.transpose() * (1.0 / scale);
        Placement {
            rt,
            step: rt * glam::DVec3::X,
            ct: glam::DVec3::new(tx as f64 / 2.0, ty as f64 / 2.0, tz as f64 / 2.0),
            reach: radius * scale,
            centre,
            nx,
        }
    }

    /// The voxels `x0..=x1` of row `(z, y)` inside the ball, and the template coordinate of
    /// `x0`; `None` when the row misses it. Walking on adds [`Self::step`] per voxel.
    fn row(&self, z: usize, y: usize) -> Option<(usize, usize, glam::DVec3)> {
        let c = self.centre;
        let (dy, dz) = (y as f64 - c[1], z as f64 - c[2]);
        let left = self.reach * self.reach - dy * dy - dz * dz;
        if left < 0.0 {
            return None;
        }
        // The row meets the ball for |x − c_x| ≤ √left.
        let (x0, x1) = if self.reach.is_finite() {
            let w = left.sqrt();
            (
                ((c[0] - w).floor().max(0.0)) as usize,
                ((c[0] + w).ceil().min(self.nx as f64 - 1.0)).max(-1.0) as i64,
            )
        } else {
            (0, self.nx as i64 - 1)
        };
        if x1 < x0 as i64 {
            return None;
        }
        let d = glam::DVec3::new(x0 as f64 - c[0], dy, dz);
        Some((x0, x1 as usize, self.rt * d + self.ct))
    }
}

/// Adds the placed template of [`place_rotated`] to `out` (crowding: several particles in one
/// box without a volume per particle).
pub fn add_rotated(
    template: &ArrayView3<f32>,
    rot: &Rotation,
    scale: f64,
    centre_vox: [f64; 3],
    out: &mut Array3<f32>,
    radius: f64,
) {
    let (tz, ty, tx) = template.dim();
    let pl = Placement::new(template.dim(), rot, scale, centre_vox, out.dim().2, radius);
    let step = pl.step;
    // Where all eight neighbours of a sample lie inside the template (with a margin for the
    // rounding of a row's running sum).
    let inside = |p: glam::DVec3| {
        let top = |n: usize| n as f64 - 1.0 - 1e-6;
        p.min_element() >= 0.0 && p.x < top(tx) && p.y < top(ty) && p.z < top(tz)
    };
    let fill = |z: usize, mut plane: ndarray::ArrayViewMut2<f32>| {
        for (y, mut row) in plane.outer_iter_mut().enumerate() {
            let Some((x0, x1, mut s)) = pl.row(z, y) else {
                continue;
            };
            let last = s + step * (x1 - x0) as f64;
            let segment = row
                .as_slice_mut()
                .map(|r| &mut r[x0..=x1])
                .filter(|_| inside(s) && inside(last));
            if let (Some(out), Some(data)) = (segment, template.as_slice()) {
                // The segment is straight and the interior a box: both ends inside means
                // every sample is, so the row needs no bounds checks per voxel.
                sample_segment(data, [tx, ty], s, step, out);
                continue;
            }
            for x in x0..=x1 {
                row[x] += trilinear(template, s.x, s.y, s.z);
                s += step;
            }
        }
    };
    if out.len() >= 1 << 18 {
        out.axis_iter_mut(Axis(0))
            .into_par_iter()
            .enumerate()
            .for_each(|(z, p)| fill(z, p));
    } else {
        out.axis_iter_mut(Axis(0))
            .enumerate()
            .for_each(|(z, p)| fill(z, p));
    }
}

/// Whether [`place_rotated`] with the same arguments would put a value above `cut` on a voxel
/// `[x, y, z]` for which `occupied` holds, for `cut ≥ 0` (voxels it does not sample hold 0).
/// The same walk and the same arithmetic, so the same answer to the bit, but the template is
/// sampled at the occupied voxels only: a placement that clashes costs a fraction of placing it.
#[allow(clippy::too_many_arguments)]
pub fn rotated_exceeds(
    template: &ArrayView3<f32>,
    rot: &Rotation,
    scale: f64,
    centre_vox: [f64; 3],
    shape_zyx: [usize; 3],
    radius: f64,
    cut: f32,
    mut occupied: impl FnMut([usize; 3]) -> bool,
) -> bool {
    debug_assert!(
        cut >= 0.0,
        "unsampled voxels hold 0, which a negative cut exceeds"
    );
    let pl = Placement::new(template.dim(), rot, scale, centre_vox, shape_zyx[2], radius);
    for z in 0..shape_zyx[0] {
        for y in 0..shape_zyx[1] {
            let Some((x0, x1, mut s)) = pl.row(z, y) else {
                continue;
            };
            for x in x0..=x1 {
                // 0 + v is v: place_rotated's box starts at zero.
                if occupied([x, y, z]) && trilinear(template, s.x, s.y, s.z) > cut {
                    return true;
                }
                s += pl.step;
            }
        }
    }
    false
}

/// Resamples a cubic, centred volume to another voxel size (trilinear; the physical size is kept).
pub fn rescale(v: &Volume, voxel_size_a: f64) -> Volume {
    let r = voxel_size_a / v.voxel_size.x;
    if (r - 1.0).abs() < 1e-6 {
        return v.clone();
    }
    let (nz, ny, nx) = v.data.dim();
    let m = |n: usize| ((n as f64 / r / 2.0).ceil() as usize * 2).max(2);
    let (mz, my, mx) = (m(nz), m(ny), m(nx));
    let view = v.data.view();
    let out = Array3::from_shape_fn((mz, my, mx), |(z, y, x)| {
        let src =
            |i: usize, mi: usize, ni: usize| (i as f64 - mi as f64 / 2.0) * r + ni as f64 / 2.0;
        trilinear(&view, src(x, mx, nx), src(y, my, ny), src(z, mz, nz))
    });
    Volume::new(out, VoxelSize::isotropic(voxel_size_a))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// `out(p) = template(Rᵀ(p − c)/scale + c_t)` voxel by voxel, the definition.
    fn reference(
        t: &Array3<f32>,
        rot: &Rotation,
        scale: f64,
        c: [f64; 3],
        n: usize,
    ) -> Array3<f32> {
        let (tz, ty, tx) = t.dim();
        let ct = glam::DVec3::new(tx as f64 / 2.0, ty as f64 / 2.0, tz as f64 / 2.0);
        let rt = rot.0.transpose() * (1.0 / scale);
        Array3::from_shape_fn((n, n, n), |(z, y, x)| {
            let d = glam::DVec3::new(x as f64 - c[0], y as f64 - c[1], z as f64 - c[2]);
            let s = rt * d + ct;
            trilinear(&t.view(), s.x, s.y, s.z)
        })
    }

    #[test]
    fn a_cropped_template_places_the_same_values() {
        // A blob (support radius about 7) in a 30³ box and in an odd 31³ one.
        for n in [30usize, 31] {
            let c = n as f32 / 2.0;
            let t = Array3::from_shape_fn((n, n, n), |(z, y, x)| {
                let r2 = (x as f32 - c).powi(2) + (y as f32 - c).powi(2) + (z as f32 - c).powi(2);
                if r2 < 36.0 {
                    1.0 + (36.0 - r2) / 10.0
                } else {
                    0.0
                }
            });
            let (cut, radius) = crop_to_support(t.clone());
            assert!(
                cut.dim().0 < n && cut.dim().0 % 2 == n % 2,
                "{:?}",
                cut.dim()
            );
            assert_eq!(radius, support_radius(&t.view()));
            let rot =
                crate::rotation::random_rotation(&mut rand_chacha::ChaCha8Rng::seed_from_u64(1));
            let place = |v: &Array3<f32>| {
                place_rotated(&v.view(), &rot, 1.0, [12.3, 11.8, 12.6], [24; 3], radius)
            };
            let (a, b) = (place(&t), place(&cut));
            for (x, y) in a.iter().zip(b.iter()) {
                assert!((x - y).abs() < 1e-5, "{x} vs {y}");
            }
            assert!((a.sum() - t.sum()).abs() < 0.02 * t.sum());
        }
    }

    #[test]
    fn placing_matches_sampling_each_voxel() {
        // A smooth blob filling its 20³ box up to the faces, so rows meet both the fast
        // (interior) path and the checked path near the template's edges.
        let t = Array3::from_shape_fn((20, 20, 20), |(z, y, x)| {
            let r2 =
                (x as f32 - 9.5).powi(2) + (y as f32 - 10.0).powi(2) + (z as f32 - 10.5).powi(2);
            (-r2 / 30.0).exp() + 0.01 * x as f32
        });
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        // Radius 6 keeps every row inside (fast path), 9 reaches the faces, ∞ leaves them.
        for (scale, centre, radius) in [
            (1.0, [16.3, 15.7, 16.9], 6.0),
            (1.07, [12.5, 20.2, 18.0], 9.0),
            (0.95, [15.0, 16.0, 17.0], f64::INFINITY),
        ] {
            let rot = crate::rotation::random_rotation(&mut rng);
            let want = reference(&t, &rot, scale, centre, 32);
            let got = place_rotated(&t.view(), &rot, scale, centre, [32, 32, 32], radius);
            let reach2 = (radius * scale).powi(2);
            for ((z, y, x), a) in got.indexed_iter() {
                let d2 = (x as f64 - centre[0]).powi(2)
                    + (y as f64 - centre[1]).powi(2)
                    + (z as f64 - centre[2]).powi(2);
                // Inside the ball every voxel is sampled; rows may run a voxel past it.
                let b = want[[z, y, x]];
                let ok = (a - b).abs() < 1e-5 || (d2 > reach2 && *a == 0.0);
                assert!(ok, "{a} vs {b} at {z},{y},{x}");
            }
        }
    }

    #[test]
    fn the_clash_test_answers_as_placing_does() {
        // For many rotations, centres and random occupied sets, including cuts near the values
        // that rows reach through both the fast and the checked path, the test must say exactly
        // what placing and looking would.
        use rand::Rng;
        let t = Array3::from_shape_fn((20, 20, 20), |(z, y, x)| {
            let r2 =
                (x as f32 - 9.5).powi(2) + (y as f32 - 10.0).powi(2) + (z as f32 - 10.5).powi(2);
            (-r2 / 30.0).exp() + 0.01 * x as f32
        });
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        let (mut clashes, mut clear) = (0, 0);
        for case in 0..200 {
            let rot = crate::rotation::random_rotation(&mut rng);
            let centre: [f64; 3] = std::array::from_fn(|_| rng.random_range(8.0..16.0));
            let radius = [6.0, 9.0, f64::INFINITY][case % 3];
            let cut = [0.05f32, 0.3, 0.7, 0.95][case % 4];
            let taken = Array3::from_shape_fn((24, 24, 24), |_| rng.random::<f64>() < 0.02);
            let occupied = |[x, y, z]: [usize; 3]| taken[[z, y, x]];
            let placed = place_rotated(&t.view(), &rot, 1.0, centre, [24; 3], radius);
            let want = placed
                .indexed_iter()
                .any(|((z, y, x), v)| *v > cut && occupied([x, y, z]));
            let got = rotated_exceeds(&t.view(), &rot, 1.0, centre, [24; 3], radius, cut, occupied);
            assert_eq!(got, want, "case {case}");
            if want {
                clashes += 1
            } else {
                clear += 1
            }
            // To the bit: one occupied voxel, the cut just below its placed value and at it.
            let (z, y, x) = (
                rng.random_range(4..20),
                rng.random_range(4..20),
                rng.random_range(4..20),
            );
            let v = placed[[z, y, x]];
            if v > 0.0 {
                let one = |p: [usize; 3]| p == [x, y, z];
                let below = f32::from_bits(v.to_bits() - 1);
                let test =
                    |cut| rotated_exceeds(&t.view(), &rot, 1.0, centre, [24; 3], radius, cut, one);
                assert!(
                    test(below) && !test(v),
                    "case {case}: not the placed value {v}"
                );
            }
        }
        assert!(
            clashes > 20 && clear > 20,
            "{clashes} clashes, {clear} clear"
        );
    }
}
