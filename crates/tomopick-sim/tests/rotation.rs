//! The rotation sampler is uniform on SO(3).

use glam::DVec3;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tomopick_sim::rotation::random_rotation;

#[test]
fn random_rotations_are_uniform() {
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    let n = 100_000;
    let mut deciles = [0usize; 10];
    let mut angle_sum = 0.0;
    for _ in 0..n {
        let r = random_rotation(&mut rng);
        // The rotated z axis is uniform on the sphere: its z component is uniform in [−1, 1].
        let z = (r.0 * DVec3::Z).z;
        deciles[(((z + 1.0) / 2.0 * 10.0) as usize).min(9)] += 1;
        angle_sum += r.angle_to_deg(&tomopick_io::Rotation::IDENTITY);
        assert!((r.0.determinant() - 1.0).abs() < 1e-9);
    }
    for d in deciles {
        assert!((d as f64 / n as f64 - 0.1).abs() < 0.005, "{deciles:?}");
    }
    // Rotation angles of uniform rotations have density (1 − cos θ)/π: mean π/2 + 2/π = 126.48°.
    let mean = angle_sum / n as f64;
    assert!(
        (mean - 126.48).abs() < 0.5,
        "mean rotation angle {mean:.2}°"
    );
}
