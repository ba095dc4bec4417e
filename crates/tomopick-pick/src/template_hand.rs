//! The tomogram's handedness against the templates'. Programs differ in which way a
//! reconstruction's z axis points (IMOD, AreTomo, RELION, Warp), and a tomogram mirrored
//! against the atomic models' hand holds mirror images of its particles, which rotated
//! templates cannot fit: on the foreign suite, tomograms mirrored along z had 0.02–0.23 fewer
//! of their particles named right (BENCHMARKS.md, "The tomogram's hand").
//!
//! Mirroring the templates is the same as mirroring each box about its centre (the band-pass,
//! the wedge and the CTF are all symmetric in kz), so the other hand is scored with the same
//! template banks: [`mirrored_z`] flips a box, and [`HandCheck::decide`] compares each pick's
//! best correlation in both hands.

use ndarray::Array3;

/// Which hand the tomogram has against the templates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Hand {
    /// As the templates (the atomic models' hand).
    AsIs,
    /// Mirrored along z.
    Mirrored,
    /// Told from the picks: each pick's best correlation in both hands ([`HandCheck`]).
    #[default]
    Auto,
}

impl Hand {
    /// `auto`, `as-is` or `mirrored` (the command line's words).
    pub fn parse(s: &str) -> Option<Hand> {
        match s {
            "auto" => Some(Hand::Auto),
            "as-is" => Some(Hand::AsIs),
            "mirrored" => Some(Hand::Mirrored),
            _ => None,
        }
    }
}

/// At most this many picks (evenly spread over the list) are scored in both hands to tell the
/// hand: on the suite's tomograms 50 picks already told it right in 99.5 % of draws.
pub const HAND_PICKS: usize = 200;

/// Fewer picks than this are too few to tell the hand; the tomogram is taken as it is.
pub const MIN_HAND_PICKS: usize = 20;

/// The other hand is taken only when its picks fit better by at least this many standard
/// errors of the mean difference (paired over the picks).
pub const HAND_T: f64 = 3.0;

/// What the picks said about the hand.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HandCheck {
    /// Picks compared.
    pub picks: usize,
    /// Their mean best correlation as the tomogram is, and mirrored.
    pub as_is: f64,
    /// See `as_is`.
    pub mirrored: f64,
    /// The mean difference (mirrored − as is) over its standard error.
    pub t: f64,
}

impl HandCheck {
    /// Compares each pick's best correlation (over classes) as the tomogram is (`as_is[i]`)
    /// and mirrored (`mirrored[i]`, the same picks); `None` with fewer than
    /// [`MIN_HAND_PICKS`].
    pub fn decide(as_is: &[Vec<f32>], mirrored: &[Vec<f32>]) -> Option<HandCheck> {
        let n = as_is.len().min(mirrored.len());
        if n < MIN_HAND_PICKS {
            return None;
        }
        let best = |r: &Vec<f32>| r.iter().cloned().fold(f32::MIN, f32::max) as f64;
        let (a, b): (Vec<f64>, Vec<f64>) = as_is
            .iter()
            .zip(mirrored)
            .map(|(x, y)| (best(x), best(y)))
            .unzip();
        let d: Vec<f64> = b.iter().zip(&a).map(|(y, x)| y - x).collect();
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        let md = mean(&d);
        let var = d.iter().map(|v| (v - md).powi(2)).sum::<f64>() / (n - 1) as f64;
        let se = (var / n as f64).sqrt();
        Some(HandCheck {
            picks: n,
            as_is: mean(&a),
            mirrored: mean(&b),
            t: if se > 0.0 { md / se } else { 0.0 },
        })
    }

    /// Whether the tomogram is mirrored against the templates: the mirrored picks fit better
    /// by at least [`HAND_T`] standard errors.
    pub fn is_mirrored(&self) -> bool {
        self.t >= HAND_T
    }

    /// One sentence for the log.
    pub fn describe(&self) -> String {
        let verdict = if self.is_mirrored() {
            "mirrored along z against the templates; matched as such"
        } else if self.t <= -HAND_T {
            "the templates' (mirrored fits worse)"
        } else {
            "not told apart (taken as it is)"
        };
        format!(
            "hand: {verdict}: mean best correlation {:.4} as it is, {:.4} mirrored, over {} \
             picks (t = {:.1})",
            self.as_is, self.mirrored, self.picks, self.t
        )
    }
}

/// `b` mirrored along z about its centre voxel `m / 2` (index `i` to `(m − i) mod m`: the
/// centre stays; index 0, in the filter's margin, maps to itself).
pub fn mirrored_z(b: &Array3<f32>) -> Array3<f32> {
    let m = b.shape()[0];
    Array3::from_shape_fn(b.dim(), |(z, y, x)| b[[(m - z) % m, y, x]])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirroring_keeps_the_centre_and_twice_is_the_identity() {
        let b = Array3::from_shape_fn((6, 2, 2), |(z, y, x)| (z * 4 + y * 2 + x) as f32);
        let m = mirrored_z(&b);
        assert_eq!(m[[3, 1, 0]], b[[3, 1, 0]], "the centre voxel stays");
        assert_eq!(m[[1, 0, 1]], b[[5, 0, 1]]);
        assert_eq!(mirrored_z(&m), b);
    }

    #[test]
    fn the_hand_that_fits_better_by_three_standard_errors_wins() {
        let rows = |v: &[f32]| v.iter().map(|&x| vec![x, x - 0.1]).collect::<Vec<_>>();
        let a: Vec<f32> = (0..40).map(|i| 0.4 + 0.01 * (i % 7) as f32).collect();
        let better: Vec<f32> = a
            .iter()
            .enumerate()
            .map(|(i, v)| v + 0.01 + 0.002 * (i % 3) as f32)
            .collect();
        let c = HandCheck::decide(&rows(&a), &rows(&better)).unwrap();
        assert!(
            c.is_mirrored() && c.t > 3.0 && c.mirrored > c.as_is,
            "{c:?}"
        );
        assert!(c.describe().contains("mirrored along z"));
        let c = HandCheck::decide(&rows(&better), &rows(&a)).unwrap();
        assert!(!c.is_mirrored() && c.describe().contains("mirrored fits worse"));
        // Noise alone: not told apart; too few picks: no verdict.
        let noisy: Vec<f32> = a
            .iter()
            .enumerate()
            .map(|(i, v)| v + if i % 2 == 0 { 0.01 } else { -0.01 })
            .collect();
        let c = HandCheck::decide(&rows(&a), &rows(&noisy)).unwrap();
        assert!(
            !c.is_mirrored() && c.describe().contains("not told apart"),
            "{c:?}"
        );
        assert_eq!(HandCheck::decide(&rows(&a[..10]), &rows(&a[..10])), None);
    }

    /// A chiral shape (four blobs at unequal distances: no rotation takes it to its mirror
    /// image) placed 27 times at random orientations in noise: as the tomogram is, the picks
    /// say its hand is the templates'; mirrored along z, they say mirrored, and matching the
    /// mirrored tomogram as such gives the same correlations as the original.
    #[test]
    fn the_picks_tell_a_mirrored_tomogram() {
        use crate::source::TomoSource;
        use crate::template_match::{Template, TemplateMatchOptions, match_templates};
        use rand::{Rng, SeedableRng};
        use tomopick_io::{Volume, VoxelSize};
        let blobs = [
            [0.0, 0.0, 0.0],
            [8.0, 0.0, 0.0],
            [0.0, 5.5, 0.0],
            [0.0, 0.0, 3.5],
        ];
        let chiral = Array3::from_shape_fn((24, 24, 24), |(z, y, x)| {
            let p = [x as f64 - 9.0, y as f64 - 9.0, z as f64 - 10.0];
            blobs
                .iter()
                .map(|b| (-(0..3).map(|i| (p[i] - b[i]).powi(2)).sum::<f64>() / 2.0).exp())
                .sum::<f64>() as f32
        });
        let templates = vec![Template {
            name: "chiral".into(),
            data: chiral,
        }];
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let mut data = Array3::<f32>::zeros((72, 72, 72));
        let mut centres = Vec::new();
        for k in 0..27 {
            let c = [
                10.0 + 21.0 * (k % 3) as f64,
                10.0 + 21.0 * (k / 3 % 3) as f64,
                10.0 + 21.0 * (k / 9) as f64,
            ];
            let rot = tomopick_sim::rotation::random_rotation(&mut rng);
            tomopick_sim::resample::add_rotated(
                &templates[0].data.view(),
                &rot,
                1.0,
                c,
                &mut data,
                f64::INFINITY,
            );
            centres.push(c);
        }
        data.mapv_inplace(|v| -v + 0.2 * (rng.random::<f32>() - 0.5) * 12f32.sqrt());
        let opts = TemplateMatchOptions {
            rotations: 600,
            lowpass_a: 15.0,
            tilt_max_deg: None,
            background: 0,
            protein_bright: Some(false),
            ..Default::default()
        };
        let run = |data: Array3<f32>, centres: &[[f64; 3]], hand: Hand| {
            let src = TomoSource::Memory(Volume::new(data, VoxelSize::isotropic(10.0)));
            let o = TemplateMatchOptions { hand, ..opts };
            match_templates(
                &src,
                std::path::Path::new("t.mrc"),
                centres,
                &templates,
                0.0,
                &o,
                |_, _| {},
            )
            .unwrap()
        };
        let as_is = run(data.clone(), &centres, Hand::Auto);
        let c = as_is.hand_check.unwrap();
        assert!(!as_is.mirrored && c.t <= -HAND_T, "{c:?}");
        let flipped = Array3::from_shape_fn(data.dim(), |(z, y, x)| data[[71 - z, y, x]]);
        let flipped_centres: Vec<[f64; 3]> =
            centres.iter().map(|c| [c[0], c[1], 71.0 - c[2]]).collect();
        let told = run(flipped.clone(), &flipped_centres, Hand::Auto);
        let c = told.hand_check.unwrap();
        assert!(told.mirrored && c.t >= HAND_T, "{c:?}");
        for (a, b) in as_is.cc.iter().zip(&told.cc) {
            assert!((a[0] - b[0]).abs() < 1e-3, "{a:?} {b:?}");
        }
        // Told which hand: no check, the same scores.
        let set = run(flipped, &flipped_centres, Hand::Mirrored);
        assert_eq!((set.mirrored, set.hand_check), (true, None));
        assert_eq!(set.cc, told.cc);
    }
}
