//! Uniform random rotations (Shoemake's quaternion sampler), so that every orientation of a
//! particle is equally likely. SHREC's and AITom's samplers are not uniform on SO(3).

use glam::{DMat3, DQuat};
use rand::Rng;
use tomopick_io::Rotation;

/// A rotation drawn uniformly from SO(3):
/// `q = (√(1−u₁) sin 2πu₂, √(1−u₁) cos 2πu₂, √u₁ sin 2πu₃, √u₁ cos 2πu₃)`.
pub fn random_rotation<R: Rng + ?Sized>(rng: &mut R) -> Rotation {
    let (u1, u2, u3): (f64, f64, f64) = (rng.random(), rng.random(), rng.random());
    let tau = std::f64::consts::TAU;
    let (a, b) = ((1.0 - u1).sqrt(), u1.sqrt());
    let q = DQuat::from_xyzw(
        a * (tau * u2).sin(),
        a * (tau * u2).cos(),
        b * (tau * u3).sin(),
        b * (tau * u3).cos(),
    );
    Rotation(DMat3::from_quat(q.normalize()))
}
