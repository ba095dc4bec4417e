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
    let (x0, y0, z0) = (x.floor(), y.floor(), z.floor());
    let (fx, fy, fz) = ((x - x0) as f32, (y - y0) as f32, (z - z0) as f32);
    let (x0, y0, z0) = (x0 as i64, y0 as i64, z0 as i64);
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
    let (tz, ty, tx) = template.dim();
    let ct = [tx as f64 / 2.0, ty as f64 / 2.0, tz as f64 / 2.0];
    let reach = radius * scale;
    let rt = rot.0.transpose() * (1.0 / scale);
    let mut out = Array3::<f32>::zeros((shape_zyx[0], shape_zyx[1], shape_zyx[2]));
    // Walk each row with a constant step (the rotated x axis) instead of a product per voxel.
    let step = rt * glam::DVec3::X;
    let nx = shape_zyx[2];
    let fill = |z: usize, mut plane: ndarray::ArrayViewMut2<f32>| {
        for (y, mut row) in plane.outer_iter_mut().enumerate() {
            let (dy, dz) = (y as f64 - centre_vox[1], z as f64 - centre_vox[2]);
            let left = reach * reach - dy * dy - dz * dz;
            if left < 0.0 {
                continue;
            }
            // The row meets the ball for |x − c_x| ≤ √left.
            let (x0, x1) = if reach.is_finite() {
                let w = left.sqrt();
                (
                    ((centre_vox[0] - w).floor().max(0.0)) as usize,
                    ((centre_vox[0] + w).ceil().min(nx as f64 - 1.0)).max(-1.0) as i64,
                )
            } else {
                (0, nx as i64 - 1)
            };
            let d = glam::DVec3::new(x0 as f64 - centre_vox[0], dy, dz);
            let mut s = rt * d + glam::DVec3::new(ct[0], ct[1], ct[2]);
            for x in x0 as i64..=x1 {
                row[x as usize] = trilinear(template, s.x, s.y, s.z);
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
    out
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
