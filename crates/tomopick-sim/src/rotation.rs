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

/// `n` rotations spread evenly over SO(3) (super-Fibonacci spirals: Alexa, "Super-Fibonacci
/// Spirals: Fast, Low-Discrepancy Sampling of SO(3)", CVPR 2022), the whole set turned by one
/// rotation drawn from `rng`, so that a seed gives the same set and another seed another one.
///
/// At equal count they leave smaller gaps than independent uniform draws
/// ([`random_rotation`]): the farthest any orientation lies from its nearest sample is about
/// half of what random draws leave, which is what a search over orientations needs.
pub fn spread_rotations<R: Rng + ?Sized>(n: usize, rng: &mut R) -> Vec<Rotation> {
    // ψ is the real root of ψ⁴ = ψ + 4; √2 and ψ are the spirals' two irrational steps.
    const PSI: f64 = 1.533_751_168_755_204_3;
    let phi = std::f64::consts::SQRT_2;
    let tau = std::f64::consts::TAU;
    let turn = DQuat::from_mat3(&random_rotation(rng).0);
    (0..n)
        .map(|i| {
            let s = i as f64 + 0.5;
            let t = s / n as f64;
            let (r, big_r) = (t.sqrt(), (1.0 - t).sqrt());
            let (alpha, beta) = (tau * s / phi, tau * s / PSI);
            let q = DQuat::from_xyzw(
                r * alpha.sin(),
                r * alpha.cos(),
                big_r * beta.sin(),
                big_r * beta.cos(),
            );
            Rotation(DMat3::from_quat((turn * q).normalize()))
        })
        .collect()
}
