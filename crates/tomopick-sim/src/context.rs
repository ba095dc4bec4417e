//! The sample around a training cube or box that goes through the tilt series
//! (`[tilt_series] context`): a volume wider across the tilt axis and deeper than the cube, imaged
//! whole so that the streaks and filter fringes of what lies around the cube cross it, and the
//! cube cut back out of the image.

use ndarray::{Array3, s};

/// The sample a cube is cut from: the cube itself, or a volume `x` voxels wide and `z` deep
/// around it (its y the cube's), the cube at its centre.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Context {
    /// The cube's edge, voxels.
    pub n: usize,
    /// The sample's width across the tilt axis, voxels.
    pub x: usize,
    /// The sample's depth, voxels.
    pub z: usize,
}

impl Context {
    /// The cube alone.
    pub fn none(n: usize) -> Self {
        Context { n, x: n, z: n }
    }

    /// `[cx, cz]` times the cube, rounded to whole voxels on each side.
    pub fn around(n: usize, [cx, cz]: [f64; 2]) -> Self {
        let grow = |c: f64| n + 2 * ((c - 1.0) * n as f64 / 2.0).round() as usize;
        Context {
            n,
            x: grow(cx),
            z: grow(cz),
        }
    }

    /// The sample's width over the cube's.
    fn x_ratio(&self) -> f64 {
        self.x as f64 / self.n as f64
    }

    /// A sample's energy (Σ V²) as each pixel of the cube's projections sees it: a sample x
    /// times as wide spreads it over x times the pixels (its depth adds to each ray, as a
    /// thicker slab does). Scales the SNR so that the noise per pixel is the cube's own.
    pub fn per_pixel(&self, energy: f64) -> f64 {
        energy / self.x_ratio()
    }

    /// The sample's volume over the cube's.
    pub fn volume_ratio(&self) -> f64 {
        self.x_ratio() * self.z as f64 / self.n as f64
    }

    /// A count drawn for the cube, for the whole sample: as many per volume. (A cube alone
    /// holds its particles whole, so their centres crowd its middle; cut from the sample, it
    /// also holds the ones its faces cut, as a tile of a tomogram does: more labels per cube.)
    pub fn count(&self, k: usize) -> usize {
        (k as f64 * self.volume_ratio()).round() as usize
    }

    /// The cube's first voxel in x and z.
    pub fn origin(&self) -> (usize, usize) {
        ((self.x - self.n) / 2, (self.z - self.n) / 2)
    }

    /// An ice surface in the cube's z, for the sample: the side that holds objects runs on
    /// into the context.
    pub fn placement(&self, [lo, hi]: [f64; 2]) -> [f64; 2] {
        let z0 = self.origin().1 as f64;
        if lo <= 0.0 {
            [0.0, z0 + hi]
        } else {
            [z0 + lo, self.z as f64]
        }
    }

    /// An empty sample `[z, y, x]` with `cube` at its centre.
    pub fn embed(&self, cube: &Array3<f32>) -> Array3<f32> {
        let (x0, z0) = self.origin();
        let mut big = Array3::zeros((self.z, self.n, self.x));
        big.slice_mut(s![z0..z0 + self.n, .., x0..x0 + self.n])
            .assign(cube);
        big
    }

    /// The cube cut from the sample's image `[z, y, x]`.
    pub fn crop(&self, image: Array3<f32>) -> Array3<f32> {
        if self.x == self.n && self.z == self.n {
            return image;
        }
        let (x0, z0) = self.origin();
        image
            .slice(s![z0..z0 + self.n, .., x0..x0 + self.n])
            .to_owned()
    }

    /// A sample position `[x, y, z]` (voxels) in the cube's frame, if the cube holds it.
    pub fn in_cube(&self, [x, y, z]: [f64; 3]) -> Option<[f64; 3]> {
        let (x0, z0) = self.origin();
        let (cx, cz) = (x - x0 as f64, z - z0 as f64);
        let inside = |v: f64| (0.0..self.n as f64).contains(&v);
        (inside(cx) && inside(cz)).then_some([cx, y, cz])
    }
}
