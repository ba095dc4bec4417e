//! The output encoding: what is encoded decodes back; anchors from k-means.

use tomopick_nn::{Encoding, kmeans_anchors};

#[test]
fn encoded_particles_decode_back() {
    let enc = Encoding {
        stride: 4,
        anchors: vec![5.0, 10.0, 15.0],
        classes: 4,
    };
    assert_eq!(enc.channels(), 27);
    let particles = vec![
        ([5.3, 17.9, 2.2], 6.0, 1),
        ([30.1, 3.0, 21.7], 14.0, 3),
        ([12.0, 12.0, 12.5], 9.0, 0),
    ];
    let raw = enc.encode(&particles, [8, 8, 8], 0.9);
    let mut got = enc.decode(&raw, [8, 8, 8], 0.5);
    got.sort_by(|a, b| a.centre[0].total_cmp(&b.centre[0]));
    let mut want = particles.clone();
    want.sort_by(|a, b| a.0[0].total_cmp(&b.0[0]));
    assert_eq!(got.len(), 3);
    for (g, (c, size, class)) in got.iter().zip(&want) {
        for k in 0..3 {
            assert!((g.centre[k] - c[k]).abs() < 1e-3, "{g:?} vs {c:?}");
        }
        assert!((g.size - size).abs() < 1e-4);
        assert_eq!(g.class, *class);
        assert!((g.confidence - 0.9).abs() < 1e-6);
        assert!(g.class_probability > 0.99);
        // Every class's probability: a distribution whose largest is the class's.
        assert_eq!(g.class_probabilities.len(), 4);
        let total: f32 = g.class_probabilities.iter().sum();
        assert!((total - 1.0).abs() < 1e-5, "{total}");
        assert!((g.class_probabilities[*class] as f64 - g.class_probability).abs() < 1e-6);
    }
    // Everything else is below any sensible threshold.
    assert_eq!(enc.decode(&raw, [8, 8, 8], 0.01).len(), 3);
}

#[test]
fn kmeans_finds_the_size_clusters() {
    let mut sizes = Vec::new();
    for (centre, n) in [(6.0, 50), (11.0, 30), (16.0, 20)] {
        for i in 0..n {
            sizes.push(centre + (i % 5) as f64 * 0.2 - 0.4);
        }
    }
    let a = kmeans_anchors(&sizes, 3);
    for (got, want) in a.iter().zip([6.0, 11.0, 16.0]) {
        assert!((got - want).abs() < 1e-9, "{a:?}");
    }
    assert_eq!(
        kmeans_anchors(&sizes, 1),
        vec![sizes.iter().sum::<f64>() / sizes.len() as f64]
    );
}
