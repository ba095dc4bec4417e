//! Crowded samples and the tilt-series route.

use ndarray::{Array2, Array3};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tomopick_sim::ctf::CtfParams;
use tomopick_sim::fft::{Fft3, freq_index};
use tomopick_sim::library::shipped_potential;
use tomopick_sim::potential::PotentialOptions;
use tomopick_sim::resample::{place_rotated, support_radius};
use tomopick_sim::sample::{GOLD_LABEL, MEMBRANE_LABEL, SampleSpec, Template, build_sample};
use tomopick_sim::scattering::ICE_POTENTIAL_V;
use tomopick_sim::tilt::{
    NoiseModel, Projection, ReconFilter, TiltSeriesParams, back_project_into, interaction_constant,
    project, tilt_series, wbp, wbp_filtered,
};

const VS: f64 = 10.0;

fn templates(names: &[&str]) -> Vec<(String, Array3<f32>)> {
    let opts = PotentialOptions {
        voxel_size_a: VS,
        ..Default::default()
    };
    names
        .iter()
        .map(|n| (n.to_string(), shipped_potential(n, &opts).unwrap().data))
        .collect()
}

fn as_templates(t: &[(String, Array3<f32>)]) -> Vec<Template<'_>> {
    t.iter()
        .map(|(n, v)| Template {
            name: n,
            potential: v.view(),
            radius: support_radius(&v.view()),
        })
        .collect()
}

fn spec(n: usize) -> SampleSpec {
    SampleSpec {
        shape_xyz: [64, 64, 40],
        voxel_size_a: VS,
        ice_thickness_a: Some(300.0),
        placement_z_vox: None,
        n_particles: n,
        gold: (2, [25.0, 50.0]),
        vesicles: (1, [120.0, 150.0]),
        tries: 200,
        mask_threshold_v: 1.0,
    }
}

#[test]
fn particles_do_not_overlap_and_truth_is_exact() {
    let t = templates(&["3qm1", "1bxn", "3cf3"]);
    let tm = as_templates(&t);
    let s = build_sample(&spec(12), &tm, 5).unwrap();
    assert!(!s.particles.is_empty());
    assert_eq!(s.particles.len() + s.not_placed, 12);
    let labels: std::collections::BTreeSet<u8> = s.class_mask.iter().cloned().collect();
    assert!(
        labels
            .iter()
            .all(|l| [0, 1, 2, 3, GOLD_LABEL, MEMBRANE_LABEL].contains(l)),
        "{labels:?}"
    );
    // Every particle, placed again alone, owns all of its mask voxels: nothing later overwrote it.
    for (k, p) in s.particles.iter().enumerate() {
        let ti = tm.iter().position(|x| x.name == p.class).unwrap();
        let c = [p.pos_a.x / VS, p.pos_a.y / VS, p.pos_a.z / VS];
        let alone = place_rotated(
            &tm[ti].potential,
            p.rotation.as_ref().unwrap(),
            1.0,
            c,
            [40, 64, 64],
            tm[ti].radius,
        );
        let mut n = 0;
        for ((z, y, x), v) in alone.indexed_iter() {
            if *v > 1.0 {
                n += 1;
                assert_eq!(
                    s.occupancy[[z, y, x]],
                    k as u32 + 1,
                    "particle {k} lost voxel {x},{y},{z}"
                );
                assert_eq!(s.class_mask[[z, y, x]], ti as u8 + 1);
            }
        }
        assert!(n > 0);
        // Inside the 300 Å ice slab centred in the 400 Å deep volume.
        assert!((50.0..=350.0).contains(&p.pos_a.z), "{:?}", p.pos_a);
    }
    // Vacuum above and below the ice.
    assert_eq!(s.potential[[0, 10, 10]], -ICE_POTENTIAL_V as f32);
    assert_eq!(s.potential[[39, 10, 10]], -ICE_POTENTIAL_V as f32);
    // Same seed, same sample.
    let again = build_sample(&spec(12), &tm, 5).unwrap();
    assert_eq!(again.potential, s.potential);
}

#[test]
fn asking_for_more_particles_than_fit_stops_and_counts() {
    let t = templates(&["4v94"]);
    let tm = as_templates(&t);
    let mut sp = spec(5000);
    sp.gold.0 = 0;
    sp.vesicles.0 = 0;
    let start = std::time::Instant::now();
    let s = build_sample(&sp, &tm, 1).unwrap();
    assert!(s.not_placed > 4900, "placed {}", s.particles.len());
    assert_eq!(s.particles.len() + s.not_placed, 5000);
    assert!(start.elapsed().as_secs() < 60);
}

#[test]
fn projector_and_back_projector_are_adjoint_and_conserve_mass() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let v = Array3::from_shape_simple_fn((12, 5, 20), || rng.random::<f32>());
    let p = Array2::from_shape_simple_fn((5, 20), || rng.random::<f32>());
    for alpha in [0.0, 17.0, -42.0, 60.0] {
        let pv = project(&v.view(), alpha, 1.0);
        let mut bp = Array3::<f32>::zeros((12, 5, 20));
        back_project_into(&mut bp, &p, alpha, 1.0);
        let lhs: f64 = pv.iter().zip(p.iter()).map(|(a, b)| (*a * *b) as f64).sum();
        let rhs: f64 = v.iter().zip(bp.iter()).map(|(a, b)| (*a * *b) as f64).sum();
        assert!(
            (lhs - rhs).abs() < 1e-4 * lhs.abs(),
            "α {alpha}: {lhs} vs {rhs}"
        );
    }
    // A blob well inside the volume keeps its mass at every tilt.
    let blob = Array3::from_shape_fn((20, 8, 40), |(z, y, x)| {
        (-(((x as f64 - 20.0).powi(2) + (z as f64 - 10.0).powi(2)) / 4.0)).exp() as f32
            * f32::from(y == 4)
    });
    let m: f32 = blob.sum() * 10.0;
    for alpha in [0.0, 30.0, -60.0] {
        let s = project(&blob.view(), alpha, 10.0).sum();
        assert!((s - m).abs() < 1e-3 * m, "α {alpha}: {s} vs {m}");
    }
    assert!((interaction_constant(300.0) - 6.526e-4).abs() < 2e-7);
}

fn series(noise: NoiseModel, mtf: bool) -> TiltSeriesParams {
    TiltSeriesParams {
        tilt_min_deg: -60.0,
        tilt_max_deg: 60.0,
        tilt_step_deg: 3.0,
        ctf: CtfParams {
            defocus_a: 30_000.0,
            ..Default::default()
        },
        defocus_sd_a: 2000.0,
        astigmatism_a: 500.0,
        astigmatism_angle_deg: 30.0,
        apply_mtf: mtf,
        noise,
        noise_correlation_a: 0.0,
        noise_white_fraction: 0.0,
        phase_flip: false,
        degradation: Default::default(),
        low_pass_noise: Default::default(),
    }
}

fn blobs() -> Array3<f32> {
    let c = [[20.0, 24.0, 16.0], [44.0, 40.0, 20.0], [30.0, 12.0, 14.0]];
    Array3::from_shape_fn((32, 56, 64), |(z, y, x)| {
        c.iter()
            .map(|p| {
                3.0 * (-((x as f64 - p[0]).powi(2)
                    + (y as f64 - p[1]).powi(2)
                    + (z as f64 - p[2]).powi(2))
                    / 6.0)
                    .exp() as f32
            })
            .sum()
    })
}

fn var(a: &Array2<f32>) -> f64 {
    let n = a.len() as f64;
    let m = a.iter().map(|&v| v as f64).sum::<f64>() / n;
    a.iter().map(|&v| (v as f64 - m).powi(2)).sum::<f64>() / n
}

#[test]
fn projection_snr_and_dose_noise_are_as_asked() {
    let v = blobs();
    for snr in [0.1, 1.0, 5.0] {
        let ps = tilt_series(&v, VS, &series(NoiseModel::Snr(snr), true), 2).unwrap();
        for p in ps.iter().step_by(10) {
            let noise = &p.image - &p.clean;
            let measured = var(&p.clean) / var(&noise);
            assert!(
                (measured / snr - 1.0).abs() < 0.05,
                "SNR {snr} at {}°: {measured:.4}",
                p.angle_deg
            );
        }
    }
    // SNR 0.5 kept within 10 % on every tenth projection, and the noise's correlation between
    // x-neighbours within 0.05 of `lag1`.
    let coloured = |p: &TiltSeriesParams, lag1: f64| {
        for p in tilt_series(&v, VS, p, 3).unwrap().iter().step_by(10) {
            let noise = &p.image - &p.clean;
            let measured = var(&p.clean) / var(&noise);
            assert!(
                (measured / 0.5 - 1.0).abs() < 0.1,
                "SNR at {}°: {measured:.4}",
                p.angle_deg
            );
            let (ny, nx) = noise.dim();
            let m2: f64 = noise.iter().map(|&e| (e as f64).powi(2)).sum();
            let lag: f64 = (0..ny)
                .flat_map(|y| (0..nx).map(move |x| (y, x)))
                .map(|(y, x)| noise[[y, x]] as f64 * noise[[y, (x + 1) % nx]] as f64)
                .sum();
            assert!(
                (lag / m2 - lag1).abs() < 0.05,
                "neighbour correlation {:.3}",
                lag / m2
            );
        }
    };
    // Correlated projection noise: the same SNR, neighbours alike (σ 1.5 px: 0.89 without MTF).
    let p = TiltSeriesParams {
        noise_correlation_a: 15.0,
        noise_white_fraction: 0.0,
        phase_flip: false,
        ..series(NoiseModel::Snr(0.5), false)
    };
    coloured(&p, 0.89);
    // Half the noise variance low-passed by a Gaussian of 1 pixel: the same SNR; neighbours
    // correlate as that half's do, exp(−1/4) = 0.78, times its share, 0.39.
    let p = TiltSeriesParams {
        low_pass_noise: tomopick_sim::lowpass_noise::LowPassNoise {
            fraction: 0.5,
            sigma_px: 1.0,
        },
        ..series(NoiseModel::Snr(0.5), false)
    };
    coloured(&p, 0.39);
    // Dose noise on an empty sample: counts/mean − 1 has variance 1/(d·p²).
    // 41 tilts of 100 × 100 pixels: the mean variance is known to about ±0.3 %.
    let empty = Array3::<f32>::zeros((8, 100, 100));
    let ps = tilt_series(&empty, VS, &series(NoiseModel::Dose(120.0), false), 1).unwrap();
    let per_tilt = 120.0 / ps.len() as f64 * VS * VS;
    let mean_var = ps.iter().map(|p| var(&p.image)).sum::<f64>() / ps.len() as f64;
    assert!(
        (mean_var * per_tilt - 1.0).abs() < 0.03,
        "{}",
        mean_var * per_tilt
    );
    // At 2 Å pixels the counts are low (Poisson branch): the same law holds.
    let ps = tilt_series(&empty, 2.0, &series(NoiseModel::Dose(120.0), false), 1).unwrap();
    let per_tilt = 120.0 / ps.len() as f64 * 4.0;
    let mean_var = ps.iter().map(|p| var(&p.image)).sum::<f64>() / ps.len() as f64;
    assert!(
        (mean_var * per_tilt - 1.0).abs() < 0.03,
        "Poisson: {}",
        mean_var * per_tilt
    );
}

#[test]
fn wbp_puts_things_back_and_suppresses_the_missing_wedge() {
    let v = blobs();
    let p = TiltSeriesParams {
        noise: NoiseModel::None,
        noise_correlation_a: 0.0,
        noise_white_fraction: 0.0,
        phase_flip: false,
        ctf: CtfParams {
            defocus_a: 0.0,
            amplitude_contrast: 0.9999,
            ..Default::default()
        },
        defocus_sd_a: 0.0,
        astigmatism_a: 0.0,
        ..series(NoiseModel::None, false)
    };
    let ps: Vec<Projection> = tilt_series(&v, VS, &p, 0).unwrap();
    let rec = wbp(&ps, [32, 56, 64], VS);
    // The brightest voxel (contrast sign: amplitude contrast images mass dark, so look at the minimum)
    // sits on one of the blobs.
    let ((z, y, x), _) = rec
        .indexed_iter()
        .min_by(|a, b| a.1.total_cmp(b.1))
        .unwrap();
    let centres = [[20.0, 24.0, 16.0], [44.0, 40.0, 20.0], [30.0, 12.0, 14.0]];
    assert!(
        centres.iter().any(|c| (x as f64 - c[0]).abs() <= 1.0
            && (y as f64 - c[1]).abs() <= 1.0
            && (z as f64 - c[2]).abs() <= 1.0),
        "extreme at {x},{y},{z}"
    );
    // Power per frequency bin inside the wedge (|kz| > |kx| tan 60°) is far below that outside.
    let fft = Fft3::new([32, 56, 64]);
    let spec = fft.forward(&rec);
    let (mut pin, mut nin, mut pout, mut nout) = (0.0, 0, 0.0, 0);
    for ((iz, _, ix), c) in spec.indexed_iter() {
        let (kx, kz) = (ix as f64 / 64.0, freq_index(iz, 32).abs() as f64 / 32.0);
        if kx == 0.0 && kz == 0.0 {
            continue;
        }
        let r = (kx * kx + kz * kz).sqrt();
        if !(0.05..0.3).contains(&r) {
            continue;
        }
        if kz > kx * 60f64.to_radians().tan() * 1.15 {
            pin += c.norm_sqr() as f64;
            nin += 1;
        } else if kz < kx * 60f64.to_radians().tan() * 0.85 {
            pout += c.norm_sqr() as f64;
            nout += 1;
        }
    }
    let ratio = (pin / nin as f64) / (pout / nout as f64);
    assert!(ratio < 0.05, "wedge suppression {ratio:.4}");
}

#[test]
fn tilts_beyond_90_degrees_are_refused() {
    let mut p = series(NoiseModel::None, true);
    p.tilt_max_deg = 95.0;
    assert!(
        p.validate()
            .unwrap_err()
            .to_string()
            .contains("tilt_max_deg")
    );
    let mut p = series(NoiseModel::Dose(0.0), true);
    p.tilt_max_deg = 60.0;
    assert!(p.validate().is_err());
}

#[test]
fn phase_flipping_makes_particles_bright_and_keeps_their_power() {
    let v = blobs();
    let plain = series(NoiseModel::None, false);
    let flipped = TiltSeriesParams {
        phase_flip: true,
        ..plain
    };
    let a = tilt_series(&v, VS, &plain, 4).unwrap();
    let b = tilt_series(&v, VS, &flipped, 4).unwrap();
    let power = |p: &Array2<f32>| p.iter().map(|&x| (x as f64).powi(2)).sum::<f64>();
    for (p, q) in a.iter().zip(&b) {
        // The flip multiplies each frequency by ±1: the same power (Parseval).
        let (pa, pb) = (power(&p.clean), power(&q.clean));
        assert!(
            (pa / pb - 1.0).abs() < 1e-3,
            "{}°: {pa} vs {pb}",
            p.angle_deg
        );
    }
    // At 0° the first blob (x 20, y 24) is dark under 3 µm of underfocus, bright once flipped.
    let zero = a.iter().position(|p| p.angle_deg.abs() < 1e-9).unwrap();
    assert!(a[zero].clean[[24, 20]] < 0.0 && b[zero].clean[[24, 20]] > 0.0);
    // So is the reconstruction at each blob's centre: dark, then bright.
    let (ra, rb) = (wbp(&a, [32, 56, 64], VS), wbp(&b, [32, 56, 64], VS));
    for [x, y, z] in [[20, 24, 16], [44, 40, 20], [30, 12, 14]] {
        assert!(
            ra[[z, y, x]] < 0.0 && rb[[z, y, x]] > 0.0,
            "blob at {x},{y},{z}"
        );
    }
}

#[test]
fn reconstruction_filters_have_their_windows_and_the_plain_ramp_keeps_the_most_noise() {
    use ReconFilter::*;
    let k_ny = 0.05;
    let two_over_pi = 2.0 / std::f64::consts::PI;
    for (f, at_nyquist) in [
        (Cosine, 0.0),
        (Ramp, 1.0),
        (SheppLogan, two_over_pi),
        (Hamming, 0.08),
        (Hann, 0.0),
    ] {
        assert!(f.weight(0.0, k_ny).abs() < 1e-12, "{f:?} at 0");
        assert!(
            (f.weight(k_ny, k_ny) - at_nyquist).abs() < 1e-9,
            "{f:?} at Nyquist"
        );
        let half = f.weight(k_ny / 2.0, k_ny);
        assert!(half > 0.0 && half <= 0.5 + 1e-12, "{f:?} half-way: {half}");
    }
    // Shot noise alone through each filter: the voxel variance follows ∫ w(f)² df, which is
    // 1/3, 0.203, 0.065, 0.037 and 0.030 for ramp, Shepp-Logan, cosine, Hamming and Hann.
    let empty = Array3::<f32>::zeros((12, 48, 48));
    let ps = tilt_series(&empty, VS, &series(NoiseModel::Dose(20.0), false), 7).unwrap();
    let variance = |f| {
        let r = wbp_filtered(&ps, [12, 48, 48], VS, f);
        let n = r.len() as f64;
        let m = r.iter().map(|&x| x as f64).sum::<f64>() / n;
        r.iter().map(|&x| (x as f64 - m).powi(2)).sum::<f64>() / n
    };
    let v: Vec<f64> = [Ramp, SheppLogan, Cosine, Hamming, Hann]
        .into_iter()
        .map(variance)
        .collect();
    assert!(v.windows(2).all(|w| w[0] > w[1]), "{v:?}");
    let ratio = v[0] / v[2];
    assert!(
        (3.5..7.0).contains(&ratio),
        "ramp / cosine variance {ratio:.2} (expected about 5.1)"
    );
    // The default is the cosine window, bit for bit.
    assert_eq!(
        wbp(&ps, [12, 48, 48], VS),
        wbp_filtered(&ps, [12, 48, 48], VS, Cosine)
    );
}

/// Mean (x, y) of an image weighted by |value|, pixels.
fn centroid(a: &Array2<f32>) -> (f64, f64) {
    let (mut sx, mut sy, mut s) = (0.0, 0.0, 0.0);
    for ((y, x), &v) in a.indexed_iter() {
        let w = (v as f64).abs();
        (sx, sy, s) = (sx + w * x as f64, sy + w * y as f64, s + w);
    }
    (sx / s, sy / s)
}

/// Power of an image's spectrum above half of Nyquist.
fn high_power(fft: &Fft3, a: &Array2<f32>) -> f64 {
    let (ny, nx) = a.dim();
    let spec = fft.forward(&a.clone().insert_axis(ndarray::Axis(0)));
    let mut hi = 0.0;
    for ((_, iy, ix), c) in spec.indexed_iter() {
        let (fy, fx) = (freq_index(iy, ny) as f64 / ny as f64, ix as f64 / nx as f64);
        if (fy * fy + fx * fx).sqrt() > 0.25 {
            hi += c.norm_sqr() as f64;
        }
    }
    hi
}

#[test]
fn misalignment_damage_and_ice_degrade_the_series_as_asked() {
    use tomopick_sim::tilt::TiltDegradation;
    let v = blobs();
    let plain = series(NoiseModel::None, false);
    let with = |d: TiltDegradation, noise| TiltSeriesParams {
        degradation: d,
        noise,
        defocus_sd_a: 0.0,
        ..plain
    };
    let base = tilt_series(&v, VS, &with(Default::default(), NoiseModel::None), 6).unwrap();
    // Misalignment: each projection moves by its own shift, about σ = 2 px along x and y.
    let shaken = TiltDegradation {
        misalignment_sd_px: 2.0,
        ..Default::default()
    };
    let moved = tilt_series(&v, VS, &with(shaken, NoiseModel::None), 6).unwrap();
    let shifts: Vec<f64> = base
        .iter()
        .zip(&moved)
        .flat_map(|(a, b)| {
            let ((ax, ay), (bx, by)) = (centroid(&a.clean), centroid(&b.clean));
            [bx - ax, by - ay]
        })
        .collect();
    let rms = (shifts.iter().map(|s| s * s).sum::<f64>() / shifts.len() as f64).sqrt();
    assert!((1.4..2.8).contains(&rms), "rms shift {rms:.2} px");
    // Damage: the last tilt recorded (−60°, rank 40, B 4,000 Å²) keeps above half of Nyquist
    // (k > 0.025/Å) less than exp(−2·4000·0.025²/4) = 0.29 of its power; 0° loses none.
    let damaged = TiltDegradation {
        damage_b_per_tilt_a2: 100.0,
        ..Default::default()
    };
    let hurt = tilt_series(&v, VS, &with(damaged, NoiseModel::None), 6).unwrap();
    let fft = Fft3::new([1, 56, 64]);
    let zero = base.iter().position(|p| p.angle_deg == 0.0).unwrap();
    assert_eq!(hurt[zero].clean, base[zero].clean, "0° is recorded first");
    let (h, b) = (
        high_power(&fft, &hurt[0].clean),
        high_power(&fft, &base[0].clean),
    );
    assert!(
        h < 0.29 * b,
        "high-frequency power at -60°: {h:.2e} against {b:.2e}"
    );
    // Ice: at 60° the SNR falls by exp(−τ (1/cos 60° − 1)) = exp(−τ).
    let icy = TiltDegradation {
        thickness_over_mfp: 0.7,
        ..Default::default()
    };
    let ps = tilt_series(&v, VS, &with(icy, NoiseModel::Snr(1.0)), 6).unwrap();
    for p in [&ps[0], &ps[zero]] {
        let expected = icy.snr_factor(p.angle_deg);
        let measured = var(&p.clean) / var(&(&p.image - &p.clean));
        assert!(
            (measured / expected - 1.0).abs() < 0.08,
            "SNR at {}°: {measured:.3}, expected {expected:.3}",
            p.angle_deg
        );
    }
    assert!((icy.snr_factor(-60.0) - (-0.7f64).exp()).abs() < 1e-9);
    // Refused out of range.
    let bad = with(
        TiltDegradation {
            thickness_over_mfp: 5.0,
            ..Default::default()
        },
        NoiseModel::None,
    );
    let e = tilt_series(&v, VS, &bad, 6).err().unwrap().to_string();
    assert!(e.contains("thickness_over_mfp"), "{e}");
}
