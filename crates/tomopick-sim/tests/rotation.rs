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

/// The largest and the mean angle from each of `probes` to its nearest rotation of `set`.
fn gaps(set: &[tomopick_io::Rotation], probes: &[tomopick_io::Rotation]) -> (f64, f64) {
    let nearest: Vec<f64> = probes
        .iter()
        .map(|p| {
            set.iter()
                .map(|r| r.angle_to_deg(p))
                .fold(f64::INFINITY, f64::min)
        })
        .collect();
    let largest = nearest.iter().cloned().fold(0.0, f64::max);
    (largest, nearest.iter().sum::<f64>() / nearest.len() as f64)
}

#[test]
fn spread_rotations_leave_smaller_gaps_than_random_draws() {
    use tomopick_sim::rotation::spread_rotations;
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let probes: Vec<_> = (0..3000).map(|_| random_rotation(&mut rng)).collect();
    let n = 500;
    let spread = spread_rotations(n, &mut ChaCha8Rng::seed_from_u64(1));
    let random: Vec<_> = (0..n).map(|_| random_rotation(&mut rng)).collect();
    assert_eq!(spread.len(), n);
    for r in &spread {
        assert!((r.0.determinant() - 1.0).abs() < 1e-9);
    }
    let (spread_max, spread_mean) = gaps(&spread, &probes);
    let (random_max, random_mean) = gaps(&random, &probes);
    // Even spacing: the worst gap well below random draws', the mean gap below theirs too.
    assert!(
        spread_max < 0.75 * random_max,
        "largest gap {spread_max:.1}° against random {random_max:.1}°"
    );
    assert!(
        spread_mean < 0.95 * random_mean,
        "mean gap {spread_mean:.1}° against random {random_mean:.1}°"
    );
    // Still uniform: the rotated z axis's z component is spread evenly over [−1, 1].
    let mut halves = [0usize; 2];
    for r in &spread {
        halves[((r.0 * DVec3::Z).z > 0.0) as usize] += 1;
    }
    assert!(halves[0].abs_diff(halves[1]) <= n / 20, "{halves:?}");
    // A seed gives the same set; another seed turns it.
    let again = spread_rotations(n, &mut ChaCha8Rng::seed_from_u64(1));
    assert!(spread.iter().zip(&again).all(|(a, b)| a.0 == b.0));
    let other = spread_rotations(n, &mut ChaCha8Rng::seed_from_u64(2));
    assert!(spread[0].angle_to_deg(&other[0]) > 1e-6);
}
