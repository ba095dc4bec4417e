//! Tiling covers every voxel once; NMS keeps the right detections.

use tomopick_pick::{Detection, PickOptions, nms_distance, nms_iou, overhead, sphere_iou, tiles};

#[test]
fn effective_zones_cover_every_voxel_exactly_once() {
    for (shape, size, overlap) in [
        ([512, 512, 200], 64, 8),
        ([100, 37, 64], 32, 4),
        ([20, 20, 20], 64, 8),
        ([64, 64, 64], 64, 8),
    ] {
        let ts = tiles(shape, size, overlap);
        let mut count = vec![0u8; shape[0] * shape[1] * shape[2]];
        for t in &ts {
            #[allow(clippy::needless_range_loop)] // a indexes four arrays at once
            for a in 0..3 {
                // A tile lies inside the volume whenever the volume is at least one tile wide.
                if shape[a] >= size {
                    assert!(
                        t.origin[a] >= 0 && t.origin[a] + size as i64 <= shape[a] as i64,
                        "{t:?}"
                    );
                }
                // Its zone lies inside the tile.
                assert!(
                    t.zone_start[a] >= t.origin[a] && t.zone_end[a] <= t.origin[a] + size as i64,
                    "{t:?}"
                );
            }
            for z in t.zone_start[2]..t.zone_end[2] {
                for y in t.zone_start[1]..t.zone_end[1] {
                    for x in t.zone_start[0]..t.zone_end[0] {
                        count[(z as usize * shape[1] + y as usize) * shape[0] + x as usize] += 1;
                    }
                }
            }
        }
        assert!(
            count.iter().all(|&c| c == 1),
            "{shape:?}: every voxel in exactly one zone"
        );
        // Each voxel centre is owned by exactly one tile.
        let p = [shape[0] as f64 / 3.0, shape[1] as f64 - 1.0, 0.0];
        assert_eq!(ts.iter().filter(|t| t.owns(p)).count(), 1);
    }
    // The paper's tiling of a SHREC tomogram: 64³ cubes, 48³ zones → 11 × 11 × 5 tiles here
    // (the paper pads z to 4 tiles of a 200-deep crop; we cover all 200 slices).
    assert_eq!(tiles([512, 512, 200], 64, 8).len(), 11 * 11 * 5);
    // Larger tiles waste less.
    assert!(overhead([512, 512, 200], 128, 8) < overhead([512, 512, 200], 64, 8));
}

fn det(x: f64, size: f64, score: f64, class: usize) -> Detection {
    Detection {
        centre: [x, 0.0, 0.0],
        size,
        score,
        class,
        class_probabilities: Vec::new(),
    }
}

#[test]
fn sphere_iou_on_known_cases() {
    assert_eq!(
        sphere_iou(&det(0.0, 10.0, 1.0, 0), &det(0.0, 10.0, 1.0, 0)),
        1.0
    );
    assert_eq!(
        sphere_iou(&det(0.0, 10.0, 1.0, 0), &det(10.0, 10.0, 1.0, 0)),
        0.0
    );
    // A sphere of radius 2 inside one of radius 4: IoU = (2/4)³.
    assert!((sphere_iou(&det(0.0, 8.0, 1.0, 0), &det(0.5, 4.0, 1.0, 0)) - 0.125).abs() < 1e-12);
    // Two unit spheres at distance 1: lens volume 5π/12.
    let lens = 5.0 * std::f64::consts::PI / 12.0;
    let v = 4.0 / 3.0 * std::f64::consts::PI;
    assert!(
        (sphere_iou(&det(0.0, 2.0, 1.0, 0), &det(1.0, 2.0, 1.0, 0)) - lens / (2.0 * v - lens))
            .abs()
            < 1e-12
    );
}

#[test]
fn nms_keeps_the_strongest_of_each_cluster() {
    let dets = vec![
        det(0.0, 10.0, 0.6, 0),
        det(1.0, 10.0, 0.9, 0),
        det(30.0, 10.0, 0.5, 1),
        det(33.0, 10.0, 0.7, 0),
    ];
    let kept = nms_iou(&dets, 0.1);
    assert_eq!(
        kept.iter().map(|d| d.score).collect::<Vec<_>>(),
        vec![0.9, 0.7]
    );
    // Distance NMS with the paper's 2/3 of the size: 6.7 voxels for size 10.
    let kept = nms_distance(&dets, 2.0 / 3.0, false);
    assert_eq!(
        kept.iter().map(|d| d.score).collect::<Vec<_>>(),
        vec![0.9, 0.7]
    );
    // Per class, the class-1 detection at 30 survives next to the class-0 one at 33.
    let kept = nms_distance(&dets, 2.0 / 3.0, true);
    assert_eq!(
        kept.iter().map(|d| d.score).collect::<Vec<_>>(),
        vec![0.9, 0.7, 0.5]
    );
}

#[test]
fn tile_shapes_are_balanced_and_cover_each_axis() {
    use tomopick_pick::picker::tile_shape;
    // SHREC: 512 × 512 × 200 with tiles of at most 208 and margins of 8: 3 × 3 tiles of
    // 192 × 192 × 200 (zones of 176 cover 512). With at most 192, Z needs 2 tiles of 120.
    assert_eq!(tile_shape([512, 512, 200], 208, 8, 8), [192, 192, 200]);
    assert_eq!(tile_shape([512, 512, 200], 192, 8, 8), [192, 192, 120]);
    // A whole axis that fits is one tile, rounded up to 8.
    assert_eq!(tile_shape([1000, 100, 37], 192, 8, 8), [184, 104, 40]);
    for (n, cap) in [(512usize, 192usize), (1000, 192), (513, 128), (97, 64)] {
        let size = tile_shape([n, n, n], cap, 8, 8)[0];
        assert!(size <= cap && size.is_multiple_of(8), "{n} {cap}: {size}");
        let covered: usize = tomopick_pick::tiles_shaped([n, 16, 16], [size, 16, 16], 4)
            .iter()
            .filter(|t| t.zone_start[1] == 0 && t.zone_start[2] == 0)
            .map(|t| (t.zone_end[0] - t.zone_start[0]) as usize)
            .sum();
        assert_eq!(covered, n, "zones cover the axis once");
    }
}

#[test]
fn a_large_particle_touching_a_stronger_small_one_survives_global_nms() {
    // A ribosome-sized detection (diameter 30) whose centre is 19 voxels from a stronger small
    // one (diameter 8): touching spheres. By the candidate's own size (2/3 × 30 = 20) it would
    // go; by the smaller size (2/3 × 8 = 5.3) both stay. A duplicate 3 voxels away still goes.
    let small = det(0.0, 8.0, 0.9, 0);
    let large = det(19.0, 30.0, 0.8, 1);
    let dup = det(22.0, 30.0, 0.7, 1);
    let kept = nms_distance(&[small.clone(), large.clone(), dup], 2.0 / 3.0, false);
    assert_eq!(kept, vec![small, large]);
}

/// Greedy NMS only lets a detection suppress weaker ones, so raising the confidence threshold
/// after NMS keeps exactly what thresholding before it keeps: one low-threshold pass can be
/// scored at every threshold (how `train detector` calibrates a model's pick threshold).
#[test]
fn thresholding_after_nms_equals_thresholding_before() {
    // A deterministic jumble of overlapping detections (LCG), three classes.
    let mut s = 7u64;
    let mut next = || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let dets: Vec<Detection> = (0..300)
        .map(|i| Detection {
            centre: [next() * 60.0, next() * 60.0, next() * 20.0],
            size: 4.0 + next() * 12.0,
            score: 0.1 + next() * 0.9,
            class: i % 3,
            class_probabilities: Vec::new(),
        })
        .collect();
    let above = |d: &[Detection], t: f64| -> Vec<Detection> {
        d.iter().filter(|x| x.score >= t).cloned().collect()
    };
    for t in [0.3, 0.5, 0.75] {
        let after = above(&nms_distance(&nms_iou(&dets, 0.1), 2.0 / 3.0, false), t);
        let before = nms_distance(&nms_iou(&above(&dets, t), 0.1), 2.0 / 3.0, false);
        assert_eq!(after, before, "threshold {t}");
        assert!(!after.is_empty() && after.len() < above(&dets, t).len());
    }
}

/// With per-class thresholds, NMS runs on everything above the lowest of them and each class
/// then keeps what reaches its own; without them, one threshold serves every class.
#[test]
fn class_thresholds_set_the_floor_and_each_class_its_own_cut() {
    let per_class = PickOptions {
        threshold: 0.5,
        class_thresholds: Some(vec![0.9, 0.2, 0.6]),
        ..PickOptions::default()
    };
    assert_eq!(per_class.floor(), 0.2);
    assert!(per_class.passes(1, 0.25) && per_class.passes(0, 0.9) && per_class.passes(2, 0.6));
    assert!(!per_class.passes(0, 0.85) && !per_class.passes(2, 0.59));
    assert!(
        !per_class.passes(3, 0.99),
        "a class without a threshold passes nothing"
    );
    let one = PickOptions::default();
    assert_eq!(one.floor(), 0.5);
    assert!(one.passes(7, 0.5) && !one.passes(0, 0.49));
}
