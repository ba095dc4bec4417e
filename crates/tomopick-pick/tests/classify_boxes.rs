//! The classifier's box handling: placement, padding, smoothing, standardising.

use ndarray::Array3;
use tomopick_pick::classify::{box_inside, box_origin, prepare_box};
use tomopick_pick::smooth::{gaussian_kernel, gaussian_smooth};

#[test]
fn the_pick_sits_at_the_box_centre_voxel() {
    // As in training: the particle centre at voxel b/2.
    assert_eq!(box_origin([20.4, 30.6, 5.0], 16), [12, 23, -3]);
    assert!(!box_inside([12, 23, -3], 16, [100, 100, 100]));
    assert!(box_inside([0, 0, 84], 16, [100, 100, 100]));
    assert!(!box_inside([0, 0, 85], 16, [100, 100, 100]));
}

#[test]
fn gaussian_smoothing_keeps_constants_and_spreads_an_impulse_by_sigma() {
    let k = gaussian_kernel(1.5);
    assert_eq!(k.len(), 11);
    assert!((k.iter().sum::<f32>() - 1.0).abs() < 1e-6);
    let mut c = Array3::from_elem((8, 9, 10), 3.0f32);
    gaussian_smooth(&mut c, 1.5);
    assert!(c.iter().all(|v| (v - 3.0).abs() < 1e-5));
    let mut v = Array3::<f32>::zeros((21, 21, 21));
    v[[10, 10, 10]] = 1.0;
    gaussian_smooth(&mut v, 1.5);
    assert!((v.sum() - 1.0).abs() < 1e-4);
    // Variance along x of the spread impulse is σ² (up to the kernel's truncation at 3σ).
    let var: f32 = v
        .indexed_iter()
        .map(|((_, _, x), &w)| w * (x as f32 - 10.0).powi(2))
        .sum();
    assert!((var - 2.25).abs() < 0.05, "variance {var}");
    // sigma 0 leaves the box alone.
    let before = v.clone();
    gaussian_smooth(&mut v, 0.0);
    assert_eq!(v, before);
}

#[test]
fn padded_voxels_take_the_inside_mean_and_boxes_are_standardised() {
    // A box whose lower-x half is outside the volume: those voxels become the inside mean (5),
    // so after standardising they sit at the inside mean too.
    let mut raw = Array3::<f32>::zeros((4, 4, 4));
    for ((_, _, x), v) in raw.indexed_iter_mut() {
        *v = if x < 2 {
            0.0
        } else {
            4.0 + (x as f32 - 2.0) * 2.0
        };
    }
    let out = prepare_box(raw, |p| p[0] < 2, 0.0);
    let mean: f32 = out.iter().sum::<f32>() / out.len() as f32;
    let var: f32 = out.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / out.len() as f32;
    assert!(
        mean.abs() < 1e-5 && (var - 1.0).abs() < 1e-4,
        "{mean} {var}"
    );
    // x = 0, 1 (padded) equal the mean of x = 2 (4) and x = 3 (6): halfway between them.
    assert!((out[0] - (out[2] + out[3]) / 2.0).abs() < 1e-5);
    assert_eq!(out[0], out[1]);
}
