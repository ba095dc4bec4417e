//! Euler conventions: RELION ZYZ and SHREC ZXZ round trips, including the gimbal cases.

use tomopick_io::Rotation;

fn grid() -> Vec<[f64; 3]> {
    let mut v = Vec::new();
    for a in [-170.0, -90.0, -33.0, 0.0, 45.0, 90.0, 179.0] {
        for b in [0.0, 1e-7, 12.0, 90.0, 150.0, 180.0] {
            for c in [-120.0, 0.0, 60.0, 180.0] {
                v.push([a, b, c]);
            }
        }
    }
    v
}

#[test]
fn relion_angles_round_trip_as_rotations() {
    for [a, b, c] in grid() {
        let r = Rotation::from_relion_zyz_deg(a, b, c);
        let [x, y, z] = r.to_relion_zyz_deg();
        assert!((0.0..=180.0).contains(&y));
        assert!(
            r.angle_to_deg(&Rotation::from_relion_zyz_deg(x, y, z)) < 1e-6,
            "{a} {b} {c} -> {x} {y} {z}"
        );
    }
}

#[test]
fn shrec_angles_round_trip_as_rotations() {
    for [a, b, c] in grid() {
        let r = Rotation::from_shrec_zxz_deg(a, b, c);
        let [x, y, z] = r.to_shrec_zxz_deg();
        assert!(
            r.angle_to_deg(&Rotation::from_shrec_zxz_deg(x, y, z)) < 1e-6,
            "{a} {b} {c} -> {x} {y} {z}"
        );
    }
}

#[test]
fn relion_matrix_is_euler_angles2matrix() {
    // RELION's Euler_angles2matrix for rot = 90°, tilt = psi = 0 is [[0, 1, 0], [-1, 0, 0], [0, 0, 1]].
    let r = Rotation::from_relion_zyz_deg(90.0, 0.0, 0.0).to_rows();
    let want = [[0.0, 1.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 0.0, 1.0]];
    for i in 0..3 {
        for j in 0..3 {
            assert!((r[i][j] - want[i][j]).abs() < 1e-12, "{r:?}");
        }
    }
    // tilt alone: A(0,2) = -sin(tilt).
    let t = Rotation::from_relion_zyz_deg(0.0, 30.0, 0.0).to_rows();
    assert!(
        (t[0][2] + 0.5).abs() < 1e-12 && (t[2][0] - 0.5).abs() < 1e-12,
        "{t:?}"
    );
}
