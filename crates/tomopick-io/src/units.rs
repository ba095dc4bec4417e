//! Units: voxel sizes in Å, positions in Å or in voxels, each in its own type.
//!
//! Conventions used throughout tomopick:
//! - a voxel index `i` along an axis is the *centre* of that voxel;
//! - a position in Å is measured from the centre of voxel 0 (the "volume corner"
//!   as SHREC, copick and our CSV use it): `position_a = index × voxel_size`;
//! - axes are named x (fastest in MRC), y, z (slowest, the beam direction).

use serde::{Deserialize, Serialize};

/// Voxel size (pixel spacing) in Å per axis.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct VoxelSize {
    /// Å per voxel along x.
    pub x: f64,
    /// Å per voxel along y.
    pub y: f64,
    /// Å per voxel along z.
    pub z: f64,
}

impl VoxelSize {
    /// The same size on all three axes.
    pub fn isotropic(a: f64) -> Self {
        VoxelSize { x: a, y: a, z: a }
    }
    /// True when all three sizes are finite and strictly positive.
    pub fn is_valid(&self) -> bool {
        [self.x, self.y, self.z]
            .iter()
            .all(|v| v.is_finite() && *v > 0.0)
    }
    /// True when the three axes agree to 0.1 %.
    pub fn is_isotropic(&self) -> bool {
        let m = self.x.max(self.y).max(self.z);
        (m - self.x.min(self.y).min(self.z)) <= 1e-3 * m
    }
    /// The sizes as an array `[x, y, z]`.
    pub fn as_array(&self) -> [f64; 3] {
        [self.x, self.y, self.z]
    }
    /// The voxel size after binning by `factor` (each output voxel covers `factor` input voxels).
    pub fn binned(&self, factor: f64) -> Self {
        VoxelSize {
            x: self.x * factor,
            y: self.y * factor,
            z: self.z * factor,
        }
    }
}

impl std::fmt::Display for VoxelSize {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_isotropic() {
            write!(f, "{:.4} Å", self.x)
        } else {
            write!(f, "{:.4} × {:.4} × {:.4} Å", self.x, self.y, self.z)
        }
    }
}

/// A position in Å, measured from the centre of voxel (0, 0, 0).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct PosAngstrom {
    /// x in Å.
    pub x: f64,
    /// y in Å.
    pub y: f64,
    /// z in Å.
    pub z: f64,
}

/// A position in voxels (fractional voxel indices; integer values are voxel centres).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct PosVoxel {
    /// x in voxels.
    pub x: f64,
    /// y in voxels.
    pub y: f64,
    /// z in voxels.
    pub z: f64,
}

impl PosAngstrom {
    /// A position from three Å values.
    pub fn new(x: f64, y: f64, z: f64) -> Self {
        PosAngstrom { x, y, z }
    }
    /// Converts to voxel units with the given voxel size.
    pub fn to_voxels(self, vs: VoxelSize) -> PosVoxel {
        PosVoxel {
            x: self.x / vs.x,
            y: self.y / vs.y,
            z: self.z / vs.z,
        }
    }
    /// Euclidean distance in Å.
    pub fn distance(self, other: PosAngstrom) -> f64 {
        ((self.x - other.x).powi(2) + (self.y - other.y).powi(2) + (self.z - other.z).powi(2))
            .sqrt()
    }
    /// The components `[x, y, z]`.
    pub fn as_array(self) -> [f64; 3] {
        [self.x, self.y, self.z]
    }
}

impl PosVoxel {
    /// A position from three voxel values.
    pub fn new(x: f64, y: f64, z: f64) -> Self {
        PosVoxel { x, y, z }
    }
    /// Converts to Å with the given voxel size.
    pub fn to_angstrom(self, vs: VoxelSize) -> PosAngstrom {
        PosAngstrom {
            x: self.x * vs.x,
            y: self.y * vs.y,
            z: self.z * vs.z,
        }
    }
    /// The nearest voxel index `[x, y, z]`, or `None` outside a volume of `shape_xyz`.
    pub fn nearest_index(self, shape_xyz: [usize; 3]) -> Option<[usize; 3]> {
        let r = [self.x.round(), self.y.round(), self.z.round()];
        let mut out = [0usize; 3];
        for a in 0..3 {
            if !(r[a] >= 0.0 && r[a] < shape_xyz[a] as f64) {
                return None;
            }
            out[a] = r[a] as usize;
        }
        Some(out)
    }
    /// The components `[x, y, z]`.
    pub fn as_array(self) -> [f64; 3] {
        [self.x, self.y, self.z]
    }
}
