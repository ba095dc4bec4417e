//! The one particle type every format converts to and from.

use crate::units::PosAngstrom;
use glam::DMat3;

/// A rotation that maps vectors of the reference (template) frame into the tomogram frame:
/// `x_tomogram = R · x_reference`. This is copick's `transformation_` rotation block and
/// RELION's Euler matrix `A`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rotation(pub DMat3);

fn rz(a: f64) -> DMat3 {
    DMat3::from_rotation_z(a)
}
fn ry(a: f64) -> DMat3 {
    DMat3::from_rotation_y(a)
}
fn rx(a: f64) -> DMat3 {
    DMat3::from_rotation_x(a)
}

/// Row-major element `(i, j)`.
fn el(m: &DMat3, i: usize, j: usize) -> f64 {
    m.col(j)[i]
}

const GIMBAL_EPS: f64 = 1e-9;

impl Rotation {
    /// The identity.
    pub const IDENTITY: Rotation = Rotation(DMat3::IDENTITY);

    /// From a row-major 3×3 matrix.
    pub fn from_rows(r: [[f64; 3]; 3]) -> Self {
        Rotation(DMat3::from_cols_array_2d(&r).transpose())
    }
    /// As a row-major 3×3 matrix.
    pub fn to_rows(&self) -> [[f64; 3]; 3] {
        self.0.transpose().to_cols_array_2d()
    }

    /// From RELION's (rot, tilt, psi) in degrees: ZYZ, rotating the coordinate frame, so that
    /// `R = Rz(−psi)·Ry(−tilt)·Rz(−rot)`, RELION's `Euler_angles2matrix`.
    pub fn from_relion_zyz_deg(rot: f64, tilt: f64, psi: f64) -> Self {
        let (a, b, c) = (rot.to_radians(), tilt.to_radians(), psi.to_radians());
        Rotation((rz(a) * ry(b) * rz(c)).transpose())
    }
    /// RELION's (rot, tilt, psi) in degrees, tilt in [0, 180].
    pub fn to_relion_zyz_deg(&self) -> [f64; 3] {
        let m = self.0.transpose(); // = Rz(rot)·Ry(tilt)·Rz(psi)
        let b = el(&m, 2, 2).clamp(-1.0, 1.0).acos();
        let (a, c) = if b.sin().abs() > GIMBAL_EPS {
            (
                el(&m, 1, 2).atan2(el(&m, 0, 2)),
                el(&m, 2, 1).atan2(-el(&m, 2, 0)),
            )
        } else if el(&m, 2, 2) > 0.0 {
            (el(&m, 1, 0).atan2(el(&m, 0, 0)), 0.0)
        } else {
            ((-el(&m, 1, 0)).atan2(-el(&m, 0, 0)), 0.0)
        };
        [a.to_degrees(), b.to_degrees(), c.to_degrees()]
    }

    /// From SHREC's `rotZ1 rotX rotZ2` in degrees, as its simulator builds the matrix:
    /// static ZXZ with negated angles, `R = Rz(−Z2)·Rx(−X)·Rz(−Z1)`.
    pub fn from_shrec_zxz_deg(z1: f64, x: f64, z2: f64) -> Self {
        let (a, b, c) = (z1.to_radians(), x.to_radians(), z2.to_radians());
        Rotation((rz(a) * rx(b) * rz(c)).transpose())
    }
    /// SHREC's `(rotZ1, rotX, rotZ2)` in degrees, X in [0, 180].
    pub fn to_shrec_zxz_deg(&self) -> [f64; 3] {
        let m = self.0.transpose(); // = Rz(Z1)·Rx(X)·Rz(Z2)
        let b = el(&m, 2, 2).clamp(-1.0, 1.0).acos();
        let (a, c) = if b.sin().abs() > GIMBAL_EPS {
            (
                el(&m, 0, 2).atan2(-el(&m, 1, 2)),
                el(&m, 2, 0).atan2(el(&m, 2, 1)),
            )
        } else {
            (el(&m, 1, 0).atan2(el(&m, 0, 0)), 0.0)
        };
        [a.to_degrees(), b.to_degrees(), c.to_degrees()]
    }

    /// The angle in degrees of the rotation that takes `self` to `other`.
    /// Uses the chord `‖R₁ − R₂‖_F = 2√2·sin(θ/2)`, which stays accurate near 0°.
    pub fn angle_to_deg(&self, other: &Rotation) -> f64 {
        let d = self.0 - other.0;
        let f = (d.x_axis.length_squared() + d.y_axis.length_squared() + d.z_axis.length_squared())
            .sqrt();
        (2.0 * (f / (2.0 * std::f64::consts::SQRT_2))
            .clamp(0.0, 1.0)
            .asin())
        .to_degrees()
    }
}

/// One picked or true particle.
#[derive(Debug, Clone, PartialEq)]
pub struct Particle {
    /// Class name, e.g. `ribosome` or `1bxn`.
    pub class: String,
    /// Centre, in Å from the centre of voxel (0, 0, 0).
    pub pos_a: PosAngstrom,
    /// Orientation, if known.
    pub rotation: Option<Rotation>,
    /// Detection score, if any (higher is more confident).
    pub score: Option<f64>,
    /// Name of the tomogram (run) the particle belongs to, if the format records it.
    pub tomogram: Option<String>,
}

impl Particle {
    /// A particle with only a class and a position.
    pub fn new(class: impl Into<String>, pos_a: PosAngstrom) -> Self {
        Particle {
            class: class.into(),
            pos_a,
            rotation: None,
            score: None,
            tomogram: None,
        }
    }
}

/// The distinct class names of `particles`, sorted.
pub fn class_names(particles: &[Particle]) -> Vec<String> {
    let mut v: Vec<String> = particles.iter().map(|p| p.class.clone()).collect();
    v.sort();
    v.dedup();
    v
}

/// The distinct tomogram names of `particles` (`None` included once if any lack one), sorted.
pub fn tomogram_names(particles: &[Particle]) -> Vec<Option<String>> {
    let mut v: Vec<Option<String>> = particles.iter().map(|p| p.tomogram.clone()).collect();
    v.sort();
    v.dedup();
    v
}
