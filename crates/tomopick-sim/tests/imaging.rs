//! Physics of the fast 3D route: exact SNR, an empty missing wedge, CTF zeros.

use ndarray::Array3;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tomopick_sim::ctf::{CtfParams, pixel_mtf, wavelength_a};
use tomopick_sim::fft::{Fft3, freq_index};
use tomopick_sim::imaging3d::{Imaging3dParams, image_3d};

const VS: f64 = 10.0;

/// A particle-like test volume: a few overlapping Gaussian blobs in a 40³ box.
fn blobs() -> Array3<f32> {
    let c = [[20.0, 20.0, 20.0], [14.0, 22.0, 18.0], [25.0, 15.0, 23.0]];
    Array3::from_shape_fn((40, 40, 40), |(z, y, x)| {
        c.iter()
            .map(|p| {
                (-((x as f64 - p[0]).powi(2)
                    + (y as f64 - p[1]).powi(2)
                    + (z as f64 - p[2]).powi(2))
                    / 8.0)
                    .exp() as f32
            })
            .sum()
    })
}

fn params(snr: Option<f64>, tilt: f64, defocus_um: f64) -> Imaging3dParams {
    Imaging3dParams {
        ctf: CtfParams {
            defocus_a: defocus_um * 1e4,
            ..Default::default()
        },
        apply_mtf: true,
        tilt_max_deg: tilt,
        snr,
        noise_correlation_a: 0.0,
        noise_white_fraction: 0.0,
    }
}

fn var(a: &Array3<f32>) -> f64 {
    let n = a.len() as f64;
    let m = a.iter().map(|&v| v as f64).sum::<f64>() / n;
    a.iter().map(|&v| (v as f64 - m).powi(2)).sum::<f64>() / n
}

#[test]
fn measured_snr_equals_the_requested_snr() {
    let fft = Fft3::new([40, 40, 40]);
    let v = blobs();
    for (i, snr) in [0.03, 0.1, 0.5, 2.0, 10.0].into_iter().enumerate() {
        for (tilt, dz) in [(60.0, 3.0), (40.0, 8.0), (90.0, 1.5)] {
            let mut rng = ChaCha8Rng::seed_from_u64(i as u64);
            let out = image_3d(&fft, &v, VS, &params(Some(snr), tilt, dz), true, &mut rng).unwrap();
            let clean = out.clean.unwrap();
            let noise = &out.image - &clean;
            let measured = var(&clean) / var(&noise);
            assert!(
                (measured / snr - 1.0).abs() < 0.05,
                "SNR {snr} (tilt {tilt}, {dz} µm): measured {measured:.4}"
            );
            assert!(
                (var(&clean) / out.signal_variance - 1.0).abs() < 1e-3,
                "Parseval variance"
            );
        }
    }
}

/// Correlated noise (a Gaussian of σ = 15 Å at 10 Å voxels) keeps the SNR exact and makes
/// neighbouring voxels' noise alike: for a Gaussian filter of σ voxels the neighbour correlation
/// is exp(−1/(4σ²)) = 0.89 at σ = 1.5 (white noise: 0).
#[test]
fn correlated_noise_keeps_the_snr_and_correlates_neighbours() {
    let fft = Fft3::new([40, 40, 40]);
    let v = blobs();
    let mut p = params(Some(0.2), 90.0, 3.0);
    p.apply_mtf = false;
    p.noise_correlation_a = 15.0;
    let out = image_3d(&fft, &v, VS, &p, true, &mut ChaCha8Rng::seed_from_u64(5)).unwrap();
    let clean = out.clean.unwrap();
    let noise = &out.image - &clean;
    let measured = var(&clean) / var(&noise);
    assert!((measured / 0.2 - 1.0).abs() < 0.1, "SNR {measured:.4}");
    let corr = neighbour_correlation(&noise);
    assert!(
        (corr - 0.89).abs() < 0.04,
        "neighbour correlation {corr:.3}"
    );
    p.noise_correlation_a = -1.0;
    assert!(image_3d(&fft, &v, VS, &p, false, &mut ChaCha8Rng::seed_from_u64(5)).is_err());
}

/// Without MTF and wedge the noise filter is 1, so the added noise must be white Gaussian noise
/// of the stated variance: checked in real space (variance, excess kurtosis, neighbour
/// correlation) and on the x = 0 plane of its spectrum, where the half spectrum holds both k and
/// −k (a noise spectrum that broke E(−k) = conj(E(k)) there would lose half its power).
#[test]
fn added_noise_is_white_gaussian_of_the_stated_variance() {
    let (n, nz) = (40usize, 36usize);
    let fft = Fft3::new([nz, n, n]);
    let v = blobs().slice(ndarray::s![..nz, .., ..]).to_owned();
    let mut p = params(Some(0.2), 90.0, 3.0);
    p.apply_mtf = false;
    let (mut m2, mut m4, mut lag, mut count) = (0.0, 0.0, 0.0, 0.0);
    let (mut plane_power, mut plane_bins, mut expected) = (0.0, 0.0, 0.0);
    for seed in 0..3 {
        let out = image_3d(&fft, &v, VS, &p, true, &mut ChaCha8Rng::seed_from_u64(seed)).unwrap();
        let noise = &out.image - &out.clean.unwrap();
        let sd = out.noise_variance.sqrt();
        for ((z, y, x), e) in noise.indexed_iter() {
            let e = *e as f64 / sd;
            m2 += e * e;
            m4 += e.powi(4);
            lag += e * noise[[z, y, (x + 1) % n]] as f64 / sd;
            count += 1.0;
        }
        let spec = fft.forward(&noise);
        for c in spec.index_axis(ndarray::Axis(2), 0) {
            plane_power += c.norm_sqr() as f64;
            plane_bins += 1.0;
        }
        expected = out.noise_variance * (nz * n * n) as f64;
    }
    let (var, kurt, corr) = (
        m2 / count,
        m4 / count / (m2 / count).powi(2) - 3.0,
        lag / m2,
    );
    assert!((var - 1.0).abs() < 0.02, "variance ratio {var:.4}");
    assert!(kurt.abs() < 0.05, "excess kurtosis {kurt:.4}");
    assert!(corr.abs() < 0.02, "neighbour correlation {corr:.4}");
    let ratio = plane_power / plane_bins / expected;
    assert!(
        (ratio - 1.0).abs() < 0.08,
        "x = 0 plane power ratio {ratio:.4}"
    );
}

#[test]
fn no_power_inside_the_missing_wedge() {
    let fft = Fft3::new([40, 40, 40]);
    let tilt = 50.0f64;
    let out = image_3d(
        &fft,
        &blobs(),
        VS,
        &params(Some(0.1), tilt, 4.0),
        false,
        &mut ChaCha8Rng::seed_from_u64(1),
    )
    .unwrap();
    let spec = fft.forward(&out.image);
    let (mut inside, mut total) = (0.0f64, 0.0f64);
    for ((iz, _, ix), c) in spec.indexed_iter() {
        let (kx, kz) = (ix as f64, freq_index(iz, 40) as f64);
        let p = c.norm_sqr() as f64;
        total += p;
        if kz.abs() > kx * tilt.to_radians().tan() + 0.5 {
            inside += p;
        }
    }
    assert!(
        inside / total < 1e-9,
        "power fraction inside the wedge {:.2e}",
        inside / total
    );
    // And outside the wedge the image is not empty at those frequencies.
    assert!(total > 0.0);
}

#[test]
fn the_image_spectrum_is_the_potential_spectrum_times_ctf_and_mtf() {
    let fft = Fft3::new([40, 40, 40]);
    let v = blobs();
    let p = params(None, 90.0, 2.5);
    let out = image_3d(&fft, &v, VS, &p, false, &mut ChaCha8Rng::seed_from_u64(0)).unwrap();
    let (a, b) = (fft.forward(&v), fft.forward(&out.image));
    for (iz, iy, ix) in [(0, 0, 1), (0, 3, 2), (5, 0, 0), (2, 37, 4), (1, 1, 1)] {
        let k = ((ix as f64).powi(2)
            + (freq_index(iy, 40) as f64).powi(2)
            + (freq_index(iz, 40) as f64).powi(2))
        .sqrt()
            / (40.0 * VS);
        let h = p.ctf.value(k) * pixel_mtf(k, VS);
        let ratio = (b[[iz, iy, ix]] / a[[iz, iy, ix]]).re as f64;
        assert!(
            (ratio - h).abs() < 1e-3 * h.abs().max(1e-2),
            "bin {iz},{iy},{ix}: {ratio} vs {h}"
        );
    }
}

#[test]
fn ctf_zeros_sit_where_the_formula_puts_them() {
    // Without Cs, zeros at χ + arctan(A/√(1−A²)) = nπ.
    let c = CtfParams {
        cs_mm: 0.0,
        defocus_a: 25_000.0,
        ..Default::default()
    };
    let lambda = wavelength_a(300.0);
    let phi_a = (0.07f64 / (1.0 - 0.0049f64).sqrt()).atan();
    for n in 1..6 {
        let k = ((n as f64 * std::f64::consts::PI - phi_a)
            / (std::f64::consts::PI * lambda * c.defocus_a))
            .sqrt();
        assert!(c.value(k).abs() < 1e-9, "zero {n}");
        assert!(
            c.value(k * 0.99).signum() != c.value(k * 1.01).signum(),
            "sign change at zero {n}"
        );
    }
    // The first zero at 300 kV, A = 0 (notes: 14/20/24/31/40/49 Å at 1/2/3/5/8/12 µm).
    assert!((lambda - 0.019687).abs() < 1e-6);
    for (dz, want) in [
        (1.0, 14.0),
        (2.0, 20.0),
        (3.0, 24.0),
        (5.0, 31.0),
        (8.0, 40.0),
        (12.0, 49.0),
    ] {
        let c = CtfParams {
            defocus_a: dz * 1e4,
            amplitude_contrast: 0.0,
            ..Default::default()
        };
        let mut k = 1e-4;
        while c.value(k).signum() == c.value(k + 1e-5).signum() {
            k += 1e-5;
        }
        assert!(
            (1.0 / k - want).abs() < 0.6,
            "{dz} µm: first zero at {:.1} Å",
            1.0 / k
        );
    }
    // Underfocus images protein dark: the CTF is negative at low frequency.
    assert!(CtfParams::default().value(0.005) < 0.0);
}

#[test]
fn same_seed_same_bits() {
    let fft = Fft3::new([40, 40, 40]);
    let run = || {
        image_3d(
            &fft,
            &blobs(),
            VS,
            &params(Some(0.1), 60.0, 3.0),
            false,
            &mut ChaCha8Rng::seed_from_u64(9),
        )
        .unwrap()
        .image
    };
    assert_eq!(run(), run());
}

#[test]
fn out_of_range_parameters_are_refused() {
    let fft = Fft3::new([40, 40, 40]);
    for p in [
        params(Some(0.0), 60.0, 3.0),
        params(Some(-1.0), 60.0, 3.0),
        params(Some(1.0), 95.0, 3.0),
    ] {
        assert!(
            image_3d(
                &fft,
                &blobs(),
                VS,
                &p,
                false,
                &mut ChaCha8Rng::seed_from_u64(0)
            )
            .is_err()
        );
    }
}

/// The neighbour correlation along x of a noise volume (0 for white noise).
fn neighbour_correlation(noise: &ndarray::Array3<f32>) -> f64 {
    let n = noise.dim().2;
    let (mut m2, mut lag) = (0.0, 0.0);
    for ((z, y, x), e) in noise.indexed_iter() {
        m2 += (*e as f64).powi(2);
        lag += *e as f64 * noise[[z, y, (x + 1) % n]] as f64;
    }
    lag / m2
}

/// Noise that is white at the detector (a counting detector) keeps the SNR exact and is
/// uncorrelated between voxels; through the MTF (the default) neighbours share some of it.
#[test]
fn white_noise_at_the_detector_keeps_the_snr_and_skips_the_mtf() {
    let fft = Fft3::new([40, 40, 40]);
    let v = blobs();
    let mut p = params(Some(0.2), 90.0, 3.0);
    p.apply_mtf = true;
    let mut corr = Vec::new();
    for white in [0.0, 1.0] {
        p.noise_white_fraction = white;
        let out = image_3d(&fft, &v, VS, &p, true, &mut ChaCha8Rng::seed_from_u64(5)).unwrap();
        let clean = out.clean.unwrap();
        let noise = &out.image - &clean;
        let measured = var(&clean) / var(&noise);
        assert!(
            (measured / 0.2 - 1.0).abs() < 0.1,
            "white {white}: SNR {measured:.4}"
        );
        corr.push(neighbour_correlation(&noise));
    }
    assert!(
        corr[1].abs() < 0.03,
        "white noise: neighbour correlation {:.3}",
        corr[1]
    );
    assert!(
        corr[0] > corr[1] + 0.05,
        "through the MTF {:.3}, white {:.3}",
        corr[0],
        corr[1]
    );
    p.noise_white_fraction = 1.5;
    assert!(image_3d(&fft, &v, VS, &p, false, &mut ChaCha8Rng::seed_from_u64(5)).is_err());
}
