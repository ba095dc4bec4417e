//! Templates from the tomogram itself (`TemplateMatchOptions::data_templates`).
//!
//! A simulated template differs from how the same particle looks in a given tomogram: another
//! density model, hydration, blur, CTF and reconstruction filter. After a first pass of
//! template matching, the picks a class named best are each turned back by the orientation
//! that matched them and averaged, as subtomogram averaging does; blended with the given
//! template, the average is the class's template for a second pass. Picks named wrongly are
//! still aligned to the class's template, so they blur the average rather than turn it into
//! another class.

use ndarray::{Array3, Zip};
use tomopick_io::Rotation;
use tomopick_sim::fft::Fft3;
use tomopick_sim::resample::place_rotated;

/// Up to `limit` of the picks `named` class `class`, the highest `z[i][class]` first (ties by
/// index).
pub(crate) fn best_named(
    named: &[usize],
    z: &[Vec<f32>],
    class: usize,
    limit: usize,
) -> Vec<usize> {
    let mut mine: Vec<usize> = (0..named.len()).filter(|&i| named[i] == class).collect();
    mine.sort_by(|&a, &b| z[b][class].total_cmp(&z[a][class]).then(a.cmp(&b)));
    mine.truncate(limit);
    mine
}

/// The root-mean-square of `v` band-passed by `weights` (an `k`³ half spectrum) over `ball`
/// (flat indices), its mean there removed.
fn band_rms(fft: &Fft3, v: &Array3<f32>, weights: &Array3<f32>, ball: &[usize]) -> f64 {
    let mut spec = fft.forward(v);
    Zip::from(&mut spec).and(weights).for_each(|c, &w| *c *= w);
    let f = fft.inverse_owned(spec);
    let flat = f.as_slice().expect("standard layout");
    let n = ball.len().max(1) as f64;
    let mean = ball.iter().map(|&i| flat[i] as f64).sum::<f64>() / n;
    (ball
        .iter()
        .map(|&i| (flat[i] as f64 - mean).powi(2))
        .sum::<f64>()
        / n)
        .sqrt()
}

/// A class's second-pass template in a `k`³ box (centre voxel `k/2`): `weight` × the mean of
/// `windows` (each a `k`³ window centred on a pick, protein positive, turned back by the
/// rotation that matched it) plus (1 − `weight`) × `given` (the class's template), each first
/// scaled to unit root-mean-square in `ball` after the band-pass `weights`. With no windows, or
/// an average without power in the band, the given template as it was placed.
pub(crate) fn blended_template(
    given: &Array3<f32>,
    windows: &[(Array3<f32>, Rotation)],
    weight: f64,
    k: usize,
    weights: &Array3<f32>,
    ball: &[usize],
) -> Array3<f32> {
    let c = (k / 2) as f64;
    let placed = place_rotated(
        &given.view(),
        &Rotation::IDENTITY,
        1.0,
        [c, c, c],
        [k, k, k],
        f64::INFINITY,
    );
    if windows.is_empty() || weight <= 0.0 {
        return placed;
    }
    let mut mean = Array3::<f32>::zeros((k, k, k));
    for (w, rot) in windows {
        let back = Rotation(rot.0.transpose());
        mean += &place_rotated(&w.view(), &back, 1.0, [c, c, c], [k, k, k], f64::INFINITY);
    }
    mean /= windows.len() as f32;
    let fft = Fft3::new([k, k, k]);
    let (data_rms, given_rms) = (
        band_rms(&fft, &mean, weights, ball),
        band_rms(&fft, &placed, weights, ball),
    );
    if !(data_rms > 0.0 && given_rms > 0.0) {
        return placed;
    }
    let (a, b) = (
        (weight / data_rms) as f32,
        ((1.0 - weight) / given_rms) as f32,
    );
    Zip::from(&mut mean)
        .and(&placed)
        .for_each(|m, &g| *m = a * *m + b * g);
    mean
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use tomopick_sim::rotation::random_rotation;

    /// A solid ellipsoid with semi-axes `a` (x, y, z voxels) centred in a `k`³ cube.
    fn ellipsoid(k: usize, a: [f64; 3]) -> Array3<f32> {
        let c = (k / 2) as f64;
        Array3::from_shape_fn((k, k, k), |(z, y, x)| {
            let d = [x as f64 - c, y as f64 - c, z as f64 - c];
            let r2: f64 = (0..3).map(|i| (d[i] / a[i]).powi(2)).sum();
            if r2 <= 1.0 { 1.0 } else { 0.0 }
        })
    }

    /// Pearson correlation of two volumes of one shape.
    fn pearson(a: &Array3<f32>, b: &Array3<f32>) -> f64 {
        let (ma, mb) = (a.mean().unwrap() as f64, b.mean().unwrap() as f64);
        let (mut ab, mut aa, mut bb) = (0.0, 0.0, 0.0);
        Zip::from(a).and(b).for_each(|&x, &y| {
            let (x, y) = (x as f64 - ma, y as f64 - mb);
            ab += x * y;
            aa += x * x;
            bb += y * y;
        });
        ab / (aa * bb).sqrt()
    }

    #[test]
    fn the_average_of_turned_back_noisy_copies_is_the_particle() {
        let k = 24;
        let c = (k / 2) as f64;
        let rod = ellipsoid(k, [8.0, 3.0, 3.0]);
        let ball_shape = ellipsoid(k, [5.0, 5.0, 5.0]);
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        // 40 copies of the rod in random orientations, each in noise of half its amplitude (sd).
        let windows: Vec<(Array3<f32>, Rotation)> = (0..40)
            .map(|_| {
                let rot = random_rotation(&mut rng);
                let mut w =
                    place_rotated(&rod.view(), &rot, 1.0, [c, c, c], [k, k, k], f64::INFINITY);
                w.mapv_inplace(|v| v + (rng.random::<f32>() - 0.5) * 1.73);
                (w, rot)
            })
            .collect();
        let weights = Array3::<f32>::ones((k, k, k / 2 + 1));
        let ball: Vec<usize> = (0..k * k * k).collect();
        // Given the wrong shape, the data alone (weight 1) gives back the rod.
        let data = blended_template(&ball_shape, &windows, 1.0, k, &weights, &ball);
        let one = pearson(&windows[0].0, &rod);
        assert!(
            pearson(&data, &rod) > 0.8,
            "average against the rod: {:.3}",
            pearson(&data, &rod)
        );
        assert!(pearson(&data, &rod) > pearson(&data, &ball_shape) + 0.2);
        assert!(one < 0.4, "one noisy copy against the rod: {one:.3}");
        // Turned back the wrong way (the rotation, not its inverse) the copies do not line up.
        let wrong: Vec<(Array3<f32>, Rotation)> = windows
            .iter()
            .map(|(w, r)| (w.clone(), Rotation(r.0.transpose())))
            .collect();
        let misaligned = blended_template(&ball_shape, &wrong, 1.0, k, &weights, &ball);
        assert!(pearson(&misaligned, &rod) < pearson(&data, &rod) - 0.2);
        // Half and half lies between; weight 0 or no copies: the given template.
        let half = blended_template(&ball_shape, &windows, 0.5, k, &weights, &ball);
        assert!(pearson(&half, &rod) < pearson(&data, &rod));
        assert!(pearson(&half, &ball_shape) > pearson(&data, &ball_shape));
        assert_eq!(
            blended_template(&ball_shape, &windows, 0.0, k, &weights, &ball),
            ball_shape
        );
        assert_eq!(
            blended_template(&ball_shape, &[], 1.0, k, &weights, &ball),
            ball_shape
        );
    }

    #[test]
    fn best_named_takes_the_class_s_highest_scores_first() {
        let named = [1, 0, 1, 1, 2];
        let z = vec![
            vec![0.0, 2.0, 0.0],
            vec![3.0, 0.0, 0.0],
            vec![0.0, 5.0, 0.0],
            vec![0.0, 2.0, 0.0],
            vec![0.0, 9.0, 1.0],
        ];
        // Pick 4 scores highest for class 1 but was named 2; ties keep the order.
        assert_eq!(best_named(&named, &z, 1, 10), vec![2, 0, 3]);
        assert_eq!(best_named(&named, &z, 1, 2), vec![2, 0]);
        assert!(best_named(&named, &z, 0, 0).is_empty());
    }
}
