//! The subtomogram generator: determinism, labels, presets and config checks.

use ndarray::Array3;
use tomopick_sim::randomization::Dist;
use tomopick_sim::{SubtomoConfig, SubtomoGenerator};

fn small() -> SubtomoConfig {
    let mut c = SubtomoConfig::randomized();
    c.classes = vec!["3qm1".into(), "1bxn".into(), "4v94".into()];
    c
}

#[test]
fn same_seed_same_bits_whatever_the_threads() {
    let g = SubtomoGenerator::new(small()).unwrap();
    let batch = g.batch(7, 10, 6);
    for (i, s) in batch.iter().enumerate() {
        let again = g.sample(7, 10 + i as u64);
        assert_eq!(s.image, again.image);
        assert_eq!(s.mask, again.mask);
    }
    assert_ne!(g.sample(7, 0).image, g.sample(8, 0).image);
}

#[test]
fn subtomograms_carry_their_labels() {
    let g = SubtomoGenerator::new(small()).unwrap();
    assert_eq!(g.class_names(), ["3qm1", "1bxn", "4v94"]);
    let mut seen = [false; 3];
    for s in g.batch(1, 0, 24) {
        assert_eq!(s.image.dim(), (40, 40, 40));
        seen[s.class_index] = true;
        let n = s.mask.iter().filter(|&&m| m == 1).count();
        assert!(n > 0, "class {} has an empty mask", s.class_index);
        assert!(s.image.iter().all(|v| v.is_finite()));
        let snr = s.imaging.snr.unwrap();
        assert!((0.03..=10.0).contains(&snr));
        assert!((40.0..=90.0).contains(&s.imaging.tilt_max_deg));
    }
    assert!(seen.iter().all(|&x| x), "all classes appear in 24 draws");
    // The ribosome mask is much larger than the CDK dimer's.
    let size = |k: usize| g.template(k).iter().filter(|&&v| v > 0.5).count();
    assert!(size(2) > 10 * size(0));
}

#[test]
fn fixed_preset_is_the_papers_baseline() {
    let mut c = SubtomoConfig::fixed();
    c.classes = vec!["3qm1".into()];
    let g = SubtomoGenerator::new(c).unwrap();
    let s = g.sample(0, 3);
    assert_eq!(s.imaging.snr, Some(0.1));
    assert_eq!(s.imaging.tilt_max_deg, 60.0);
    assert_eq!(s.imaging.ctf.defocus_a, 60_000.0);
    assert_eq!(s.imaging.ctf.cs_mm, 2.7);
    assert!(!s.inverted);
}

#[test]
fn out_of_range_configs_are_refused_with_the_field_named() {
    type Change = Box<dyn Fn(&mut SubtomoConfig)>;
    let cases: Vec<(Change, &str)> = vec![
        (Box::new(|c| c.voxel_size_a = -1.0), "voxel_size_a"),
        (
            Box::new(|c| c.imaging.snr = Dist::Uniform([0.0, 1.0])),
            "imaging.snr",
        ),
        (
            Box::new(|c| c.imaging.tilt_max_deg = Dist::Fixed(95.0)),
            "imaging.tilt_max_deg",
        ),
        (
            Box::new(|c| c.imaging.snr = Dist::LogUniform([-1.0, 1.0])),
            "imaging.snr",
        ),
        (Box::new(|c| c.box_size = 41), "box_size"),
    ];
    for (change, field) in cases {
        let mut c = SubtomoConfig::randomized();
        change(&mut c);
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains(field), "{e}");
    }
    let mut c = SubtomoConfig::randomized();
    c.classes = vec!["nope".into()];
    let e = SubtomoGenerator::new(c).err().unwrap().to_string();
    assert!(e.contains("class 'nope': not a shipped class"), "{e}");
}

const USER_TOML: &str = r#"
voxel_size_a = 10.0
box_size = 40
classes = ["3qm1", "1bxn", "4v94"]
shift_max_vox = 2.0
mask_threshold_v = 1.0

[imaging]
snr = { log_uniform = [0.03, 10.0] }
tilt_max_deg = { uniform = [40.0, 90.0] }
defocus_um = { uniform = [0.0, 12.0] }
cs_mm = { uniform = [1.5, 3.0] }
voltage_kv = { fixed = 300.0 }
amplitude_contrast = { uniform = [0.05, 0.1] }
envelope_b_a2 = { uniform = [0.0, 400.0] }
scale_jitter = { uniform = [-0.05, 0.05] }
invert_contrast_probability = 0.5
mtf = true
"#;

#[test]
fn a_toml_config_as_a_user_writes_it() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("c.toml");
    std::fs::write(&p, USER_TOML).unwrap();
    assert_eq!(SubtomoConfig::from_toml(&p).unwrap(), small());
    // What we write reads back the same.
    std::fs::write(&p, toml::to_string(&small()).unwrap()).unwrap();
    assert_eq!(SubtomoConfig::from_toml(&p).unwrap(), small());
    std::fs::write(
        &p,
        USER_TOML.replace(
            "snr = { log_uniform = [0.03, 10.0] }",
            "snr = { fixed = -2.0 }",
        ),
    )
    .unwrap();
    let e = SubtomoConfig::from_toml(&p).unwrap_err().to_string();
    assert!(e.contains("imaging.snr"), "{e}");
    std::fs::write(&p, USER_TOML.replace("mtf = true", "mtf = true\nsnrr = 3")).unwrap();
    let e = SubtomoConfig::from_toml(&p).unwrap_err().to_string();
    assert!(e.contains("snrr") && e.contains("c.toml"), "{e}");
}

#[test]
fn training_cubes_carry_exact_boxes_and_repeat_with_the_seed() {
    use tomopick_sim::cubes::{CubeGenerator, CubeSpec};
    let g = CubeGenerator::new(CubeSpec {
        size: 48,
        particles: Dist::Uniform([3.0, 8.0]),
        gold: Dist::Fixed(1.0),
        vesicles: Dist::Fixed(0.0),
        ice_surface_fraction: 0.0,
        noise_reference_particles: None,
        tilt_series: None,
        particle_scale: None,
        randomization: small(),
    })
    .unwrap();
    let cubes = g.batch(11, 0, 4).unwrap();
    for (i, c) in cubes.iter().enumerate() {
        assert_eq!(c.image.dim(), (48, 48, 48));
        assert!(!c.boxes.is_empty());
        for b in &c.boxes {
            assert!(b.centre_vox.iter().all(|&v| (0.0..48.0).contains(&v)));
            assert_eq!(b.radius_vox, g.class_radii_vox()[b.class_index]);
        }
        let again = g.sample(11, i as u64).unwrap();
        assert_eq!(again.image, c.image);
        assert_eq!(again.boxes, c.boxes);
    }
    // The ribosome's box is far larger than the CDK dimer's.
    assert!(g.class_radii_vox()[2] > 2.0 * g.class_radii_vox()[0]);
}

/// A cube generator of 48³ cubes at a fixed SNR of 0.1 (1bxn and 3cf3, no gold or vesicles).
fn cube_generator(
    particles: f64,
    surface: f64,
    noise_reference: Option<f64>,
) -> tomopick_sim::cubes::CubeGenerator {
    use tomopick_sim::cubes::{CubeGenerator, CubeSpec};
    let mut r = SubtomoConfig::preset("fixed").unwrap();
    r.classes = vec!["1bxn".into(), "3cf3".into()];
    CubeGenerator::new(CubeSpec {
        size: 48,
        particles: Dist::Fixed(particles),
        gold: Dist::Fixed(0.0),
        vesicles: Dist::Fixed(0.0),
        ice_surface_fraction: surface,
        noise_reference_particles: noise_reference,
        tilt_series: None,
        particle_scale: None,
        randomization: r,
    })
    .unwrap()
}

/// The variance of one image's voxels.
fn variance(image: &Array3<f32>) -> f64 {
    let n = image.len() as f64;
    let m = image.iter().map(|&x| x as f64).sum::<f64>() / n;
    image.iter().map(|&x| (x as f64 - m).powi(2)).sum::<f64>() / n
}

fn image_variance(g: &tomopick_sim::cubes::CubeGenerator, seed: u64) -> f64 {
    let cubes = g.batch(seed, 0, 6).unwrap();
    cubes.iter().map(|c| variance(&c.image)).sum::<f64>() / cubes.len() as f64
}

#[test]
fn a_noise_reference_makes_sparse_cubes_as_noisy_as_crowded_ones() {
    // At SNR 0.1 the image is mostly noise. Tied to each cube's own signal, the noise of a cube
    // with 1 particle is about a sixth of one with 6; tied to a reference, it is the same.
    let own = image_variance(&cube_generator(6.0, 0.0, None), 3)
        / image_variance(&cube_generator(1.0, 0.0, None), 3);
    assert!(own > 3.5, "own signal: crowded/sparse variance {own}");
    let reference = image_variance(&cube_generator(6.0, 0.0, Some(6.0)), 3)
        / image_variance(&cube_generator(1.0, 0.0, Some(6.0)), 3);
    assert!(
        (0.75..1.33).contains(&reference),
        "reference: crowded/sparse variance {reference}"
    );
}

/// The z range `[lowest, highest]` the particles of a cube reach, voxels.
fn z_extent(c: &tomopick_sim::cubes::Cube) -> (f64, f64) {
    let lo = c.boxes.iter().map(|b| b.centre_vox[2] - b.radius_vox);
    let hi = c.boxes.iter().map(|b| b.centre_vox[2] + b.radius_vox);
    (lo.fold(f64::MAX, f64::min), hi.fold(f64::MIN, f64::max))
}

#[test]
fn cubes_with_an_ice_surface_hold_their_particles_on_one_side() {
    // A surface lies at 25-75 % of the depth: one face has a particle-free band of ≥ 12 voxels.
    let (top, bottom) = (0.25 * 48.0 - 1.0, 0.75 * 48.0 + 1.0);
    let mut sides = [0, 0];
    for c in cube_generator(6.0, 1.0, Some(6.0)).batch(4, 0, 8).unwrap() {
        if c.boxes.is_empty() {
            continue; // a thin slab may hold none of these big particles
        }
        let (lo, hi) = z_extent(&c);
        assert!(
            lo >= top || hi <= bottom,
            "particles span z {lo:.1}..{hi:.1}"
        );
        sides[usize::from(lo >= top)] += 1;
    }
    assert!(
        sides[0] > 0 && sides[1] > 0,
        "surfaces on both sides: {sides:?}"
    );
    // Without surfaces, the same stream has cubes with particles near both faces.
    let spread = cube_generator(6.0, 0.0, Some(6.0)).batch(4, 0, 8).unwrap();
    assert!(spread.iter().any(|c| {
        let (lo, hi) = z_extent(c);
        lo < top && hi > bottom
    }));
}

#[test]
fn membrane_class_is_a_bilayer_through_the_centre() {
    let mut c = small();
    c.classes = vec!["3qm1".into()];
    c.membrane = true;
    c.shift_max_vox = 0.0;
    let g = SubtomoGenerator::new(c).unwrap();
    assert_eq!(g.class_names(), ["3qm1", "membrane"]);
    let membranes: Vec<_> = g
        .batch(3, 0, 16)
        .into_iter()
        .filter(|s| s.class_index == 1)
        .collect();
    assert!(membranes.len() >= 3, "about half of 16 draws are membranes");
    for s in &membranes {
        // The mask is a sheet: near the box centre, and spanning the box.
        let near_centre = s
            .mask
            .slice(ndarray::s![16..24, 16..24, 16..24])
            .iter()
            .any(|&m| m == 1);
        assert!(near_centre, "the bilayer passes near the box centre");
        let n = s.mask.iter().filter(|&&m| m == 1).count();
        assert!(
            n > 40 * 40 && n < 40 * 40 * 20,
            "sheet-sized mask: {n} voxels"
        );
    }
}

#[test]
fn neighbours_crowd_the_image_but_not_the_mask() {
    let mut c = small();
    c.neighbours = Dist::Fixed(3.0);
    let crowded = SubtomoGenerator::new(c.clone()).unwrap();
    c.neighbours = Dist::Fixed(0.0);
    let alone = SubtomoGenerator::new(c).unwrap();
    for i in 0..4 {
        let (a, b) = (alone.sample(5, i), crowded.sample(5, i));
        assert_eq!(a.class_index, b.class_index);
        assert_eq!(a.mask, b.mask, "the mask is the labelled particle's only");
        assert_eq!(a.neighbours, 0);
        assert!(
            b.neighbours >= 1,
            "room for at least one neighbour in a 40³ box"
        );
        assert_ne!(a.image, b.image);
    }
}

#[test]
fn tilt_series_cubes_image_their_particles_and_repeat_with_the_seed() {
    use tomopick_sim::cubes::{CubeGenerator, CubeSpec, TiltRoute};
    let mut r = SubtomoConfig::preset("fixed").unwrap();
    r.classes = vec!["1bxn".into(), "3cf3".into()];
    let spec = |fraction: f64| CubeSpec {
        size: 48,
        particles: Dist::Fixed(4.0),
        gold: Dist::Fixed(0.0),
        vesicles: Dist::Fixed(0.0),
        ice_surface_fraction: 0.0,
        noise_reference_particles: None,
        particle_scale: None,
        tilt_series: Some(TiltRoute {
            fraction,
            step_deg: Dist::Fixed(3.0),
            snr: Dist::Fixed(50.0),
            phase_flip_fraction: 0.0,
            filters: Vec::new(),
            misalignment_sd_px: None,
            damage_b_per_tilt_a2: None,
            thickness_over_mfp: None,
            low_pass_noise_fraction: None,
            low_pass_noise_px: None,
            context: None,
        }),
        randomization: r.clone(),
    };
    let tilt = CubeGenerator::new(spec(1.0)).unwrap();
    let flat = CubeGenerator::new(spec(0.0)).unwrap();
    for i in 0..3 {
        let c = tilt.sample(5, i).unwrap();
        assert_eq!(
            c.image,
            tilt.sample(5, i).unwrap().image,
            "same seed, same bits"
        );
        let d = flat.sample(5, i).unwrap();
        assert_eq!(
            c.boxes, d.boxes,
            "the route changes the imaging, not the sample"
        );
        assert_ne!(c.image, d.image);
        assert!(c.image.iter().all(|v| v.is_finite()));
        // Protein images dark: the mean inside the particles' spheres is below the mean outside.
        let (mi, mo, sd) = inside_outside(&c);
        assert!(
            mi < mo - 0.2 * sd,
            "cube {i}: inside {mi:.4}, outside {mo:.4}, sd {sd:.4}"
        );
    }
    // Phase-flipped, through the plain ramp: the same samples, particles bright.
    let mut flipped = spec(1.0);
    if let Some(t) = flipped.tilt_series.as_mut() {
        t.phase_flip_fraction = 1.0;
        t.filters = vec![tomopick_sim::tilt::ReconFilter::Ramp];
    }
    let flipped = CubeGenerator::new(flipped).unwrap();
    for i in 0..3 {
        let (c, f) = (tilt.sample(5, i).unwrap(), flipped.sample(5, i).unwrap());
        assert_eq!(
            f.image,
            flipped.sample(5, i).unwrap().image,
            "same seed, same bits"
        );
        assert_eq!(c.boxes, f.boxes);
        let (mi, mo, sd) = inside_outside(&f);
        assert!(
            mi > mo + 0.2 * sd,
            "flipped cube {i}: inside {mi:.4}, outside {mo:.4}, sd {sd:.4}"
        );
    }
}

/// Every item through a tilt series in 3° steps at a fixed SNR, reconstructed with the plain ramp
/// (its fringes reach furthest), with the given context and nothing else drawn.
fn ramp_route(snr: f64, context: Option<[f64; 2]>) -> tomopick_sim::cubes::TiltRoute {
    tomopick_sim::cubes::TiltRoute {
        fraction: 1.0,
        step_deg: Dist::Fixed(3.0),
        snr: Dist::Fixed(snr),
        phase_flip_fraction: 0.0,
        filters: vec![tomopick_sim::tilt::ReconFilter::Ramp],
        misalignment_sd_px: None,
        damage_b_per_tilt_a2: None,
        thickness_over_mfp: None,
        low_pass_noise_fraction: None,
        low_pass_noise_px: None,
        context,
    }
}

#[test]
fn a_context_around_tilt_series_cubes_adds_its_streaks_not_its_noise_or_labels() {
    use tomopick_sim::cubes::{CubeGenerator, CubeSpec, TiltRoute};
    let mut r = SubtomoConfig::preset("fixed").unwrap();
    r.classes = vec!["1bxn".into(), "3cf3".into()];
    let spec = |snr: f64, context: Option<[f64; 2]>| CubeSpec {
        size: 40,
        particles: Dist::Fixed(6.0),
        gold: Dist::Fixed(0.0),
        vesicles: Dist::Fixed(0.0),
        ice_surface_fraction: 0.0,
        noise_reference_particles: Some(6.0),
        particle_scale: None,
        tilt_series: Some(ramp_route(snr, context)),
        randomization: r.clone(),
    };
    let wide = CubeGenerator::new(spec(1e6, Some([2.0, 1.5]))).unwrap();
    let alone = CubeGenerator::new(spec(1e6, None)).unwrap();
    let (mut boxes, mut outside) = (0, [0.0, 0.0]);
    for i in 0..4 {
        let c = wide.sample(7, i).unwrap();
        assert_eq!(c.image.dim(), (40, 40, 40), "the central cube is kept");
        assert_eq!(
            c.image,
            wide.sample(7, i).unwrap().image,
            "same seed, same bits"
        );
        assert!(c.image.iter().all(|v| v.is_finite()));
        // Only the particles whose centre lies in the cube are labelled, in its frame.
        assert!(
            c.boxes
                .iter()
                .all(|b| b.centre_vox.iter().all(|&v| (0.0..40.0).contains(&v)))
        );
        boxes += c.boxes.len();
        // Noise-free, the voxels away from the cube's own particles carry the streaks and
        // fringes of the particles around it: more power there than in a cube imaged alone.
        for (k, g) in [&wide, &alone].iter().enumerate() {
            let c = g.sample(7, i).unwrap();
            let (mut sum, mut count) = (0.0, 0usize);
            for ((z, y, x), &v) in c.image.indexed_iter() {
                let far = c.boxes.iter().all(|b| {
                    let d2 = (x as f64 - b.centre_vox[0]).powi(2)
                        + (y as f64 - b.centre_vox[1]).powi(2)
                        + (z as f64 - b.centre_vox[2]).powi(2);
                    d2 > (b.radius_vox + 3.0).powi(2)
                });
                if far {
                    sum += (v as f64).powi(2);
                    count += 1;
                }
            }
            outside[k] += sum / count.max(1) as f64;
        }
    }
    // As many particles per volume: 6 per cube's volume, placed whole in the sample, so the
    // cube also holds the ones its faces cut (a cube alone crowds 6 whole ones in its middle).
    assert!(
        (24..=60).contains(&boxes),
        "{boxes} particles labelled in 4 cubes"
    );
    assert!(
        outside[0] > 1.5 * outside[1],
        "power away from the particles: with context {:.3e}, alone {:.3e}",
        outside[0],
        outside[1]
    );
    // At a low SNR the noise is what the cube alone would have (the dose fixes it).
    let var = |g: &CubeGenerator| -> f64 {
        (0..4)
            .map(|i| variance(&g.sample(9, i).unwrap().image))
            .sum()
    };
    let ratio = var(&CubeGenerator::new(spec(0.05, Some([2.0, 1.5]))).unwrap())
        / var(&CubeGenerator::new(spec(0.05, None)).unwrap());
    assert!(
        (0.7..1.43).contains(&ratio),
        "noisy cubes, with context / alone: variance {ratio}"
    );
    let bad = TiltRoute {
        context: Some([0.5, 1.0]),
        ..spec(1.0, None).tilt_series.unwrap()
    };
    let e = bad.validate().unwrap_err().to_string();
    assert!(e.contains("tilt_series.context"), "{e}");
}

/// Mean of a cube inside its particles' half-radius spheres, outside them, and its RMS.
fn inside_outside(c: &tomopick_sim::cubes::Cube) -> (f64, f64, f64) {
    let (mut inside, mut outside) = ((0.0, 0usize), (0.0, 0usize));
    for ((z, y, x), &v) in c.image.indexed_iter() {
        let hit = c.boxes.iter().any(|b| {
            let d2 = (x as f64 - b.centre_vox[0]).powi(2)
                + (y as f64 - b.centre_vox[1]).powi(2)
                + (z as f64 - b.centre_vox[2]).powi(2);
            d2 < (0.5 * b.radius_vox).powi(2)
        });
        let acc = if hit { &mut inside } else { &mut outside };
        acc.0 += v as f64;
        acc.1 += 1;
    }
    let sd =
        (c.image.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / c.image.len() as f64).sqrt();
    (inside.0 / inside.1 as f64, outside.0 / outside.1 as f64, sd)
}

#[test]
fn a_tilt_route_without_phase_flips_or_filters_draws_as_before() {
    use rand::{Rng, SeedableRng};
    use tomopick_sim::cubes::TiltRoute;
    use tomopick_sim::tilt::ReconFilter;
    let route = TiltRoute {
        fraction: 1.0,
        step_deg: Dist::Uniform([1.0, 5.0]),
        snr: Dist::LogUniform([0.03, 1.5]),
        phase_flip_fraction: 0.0,
        filters: Vec::new(),
        misalignment_sd_px: None,
        damage_b_per_tilt_a2: None,
        thickness_over_mfp: None,
        low_pass_noise_fraction: None,
        low_pass_noise_px: None,
        context: None,
    };
    let mut a = rand_chacha::ChaCha8Rng::seed_from_u64(3);
    let mut b = a.clone();
    let d = route.draw(&mut a).unwrap();
    // The three draws of the route before phase flips and filters existed.
    let _: f64 = b.random();
    let (step, snr) = (route.step_deg.sample(&mut b), route.snr.sample(&mut b));
    assert_eq!(
        (d.step_deg, d.snr, d.phase_flip, d.filter),
        (step, snr, false, ReconFilter::Cosine)
    );
    assert_eq!(a.random::<u64>(), b.random::<u64>(), "no further draws");
    // Configured, each is drawn: about the asked share flipped, every filter used.
    let route = TiltRoute {
        phase_flip_fraction: 0.3,
        filters: vec![ReconFilter::Ramp, ReconFilter::Hann],
        ..route
    };
    let draws: Vec<_> = (0..2000).filter_map(|_| route.draw(&mut a)).collect();
    let flipped = draws.iter().filter(|d| d.phase_flip).count() as f64 / 2000.0;
    assert!((flipped - 0.3).abs() < 0.04, "{flipped}");
    let ramps = draws
        .iter()
        .filter(|d| d.filter == ReconFilter::Ramp)
        .count() as f64
        / 2000.0;
    assert!((ramps - 0.5).abs() < 0.04, "{ramps}");
    // The tilt series' degradations, configured, are drawn per item within their ranges, and
    // refused outside them with the field's name.
    let route = TiltRoute {
        misalignment_sd_px: Some(Dist::Uniform([0.0, 1.5])),
        damage_b_per_tilt_a2: Some(Dist::Fixed(20.0)),
        thickness_over_mfp: Some(Dist::Uniform([0.0, 1.0])),
        ..route
    };
    let draws: Vec<_> = (0..200).filter_map(|_| route.draw(&mut a)).collect();
    assert!(
        draws
            .iter()
            .all(|d| d.degradation.damage_b_per_tilt_a2 == 20.0
                && (0.0..=1.5).contains(&d.degradation.misalignment_sd_px)
                && (0.0..=1.0).contains(&d.degradation.thickness_over_mfp))
    );
    let spread = |f: fn(&tomopick_sim::cubes::TiltDraw) -> f64| {
        let v: Vec<f64> = draws.iter().map(f).collect();
        v.iter().cloned().fold(f64::MIN, f64::max) - v.iter().cloned().fold(f64::MAX, f64::min)
    };
    assert!(spread(|d| d.degradation.misalignment_sd_px) > 1.2);
    assert!(spread(|d| d.degradation.thickness_over_mfp) > 0.8);
    let bad = TiltRoute {
        misalignment_sd_px: Some(Dist::Uniform([0.0, 12.0])),
        ..route.clone()
    };
    let e = bad.validate().unwrap_err().to_string();
    assert!(e.contains("tilt_series.misalignment_sd_px"), "{e}");
    // The low-passed share of the noise, configured, is drawn per item (blur 1 pixel unless
    // given); refused outside [0, 1] with the field's name.
    let route = TiltRoute {
        low_pass_noise_fraction: Some(Dist::Uniform([0.0, 0.6])),
        ..route
    };
    let draws: Vec<_> = (0..200).filter_map(|_| route.draw(&mut a)).collect();
    assert!(
        draws
            .iter()
            .all(|d| (0.0..=0.6).contains(&d.low_pass_noise.fraction)
                && d.low_pass_noise.sigma_px == 1.0)
    );
    let f: Vec<f64> = draws.iter().map(|d| d.low_pass_noise.fraction).collect();
    assert!(f.iter().cloned().fold(0.0, f64::max) - f.iter().cloned().fold(1.0, f64::min) > 0.4);
    let bad = TiltRoute {
        low_pass_noise_fraction: Some(Dist::Uniform([0.0, 1.5])),
        ..route
    };
    let e = bad.validate().unwrap_err().to_string();
    assert!(e.contains("tilt_series.low_pass_noise_fraction"), "{e}");
}

#[test]
fn particle_scale_grows_the_particles_and_their_boxes() {
    use tomopick_sim::cubes::{CubeGenerator, CubeSpec};
    let mut r = SubtomoConfig::preset("fixed").unwrap();
    r.classes = vec!["3cf3".into()];
    r.imaging.snr = Dist::Fixed(1e4); // nearly noise-free
    // In focus and without a wedge the CTF is flat (−A at 10 Å), so the image keeps ∫V².
    r.imaging.defocus_um = Dist::Fixed(0.0);
    r.imaging.tilt_max_deg = Dist::Fixed(90.0);
    let spec = |scale: Option<Dist>| CubeSpec {
        size: 48,
        particles: Dist::Fixed(1.0),
        gold: Dist::Fixed(0.0),
        vesicles: Dist::Fixed(0.0),
        ice_surface_fraction: 0.0,
        noise_reference_particles: None,
        tilt_series: None,
        particle_scale: scale,
        randomization: r.clone(),
    };
    let plain = CubeGenerator::new(spec(None)).unwrap();
    let big = CubeGenerator::new(spec(Some(Dist::Fixed(1.2)))).unwrap();
    // Image energy grows with the particle's volume (1.2³ = 1.73; the pixel MTF takes a little).
    let energy = |g: &CubeGenerator| -> f64 {
        (0..4)
            .map(|i| {
                let c = g.sample(9, i).unwrap();
                assert_eq!(c.boxes.len(), 1);
                c.image.iter().map(|&v| (v as f64).powi(2)).sum::<f64>()
            })
            .sum()
    };
    for i in 0..4 {
        let (a, b) = (plain.sample(9, i).unwrap(), big.sample(9, i).unwrap());
        let ratio = b.boxes[0].radius_vox / a.boxes[0].radius_vox;
        assert!((ratio - 1.2).abs() < 1e-9, "box radius ratio {ratio}");
        assert_eq!(
            b.image,
            big.sample(9, i).unwrap().image,
            "same seed, same bits"
        );
    }
    let e = energy(&big) / energy(&plain);
    assert!((1.45..2.0).contains(&e), "energy ratio {e}");
    assert!(CubeGenerator::new(spec(Some(Dist::Fixed(3.0)))).is_err());
}

#[test]
fn subtomograms_through_the_tilt_series_route_repeat_and_keep_their_labels() {
    let plain = small();
    let mut tilted = small();
    tilted.imaging.invert_contrast_probability = 0.0;
    tilted.imaging.snr = Dist::Fixed(1000.0);
    tilted.tilt_series = Some(tomopick_sim::cubes::TiltRoute {
        fraction: 1.0,
        step_deg: Dist::Fixed(3.0),
        snr: Dist::Fixed(1000.0),
        phase_flip_fraction: 0.0,
        filters: Vec::new(),
        misalignment_sd_px: None,
        damage_b_per_tilt_a2: None,
        thickness_over_mfp: None,
        low_pass_noise_fraction: None,
        low_pass_noise_px: None,
        context: None,
    });
    let g0 = SubtomoGenerator::new(plain).unwrap();
    let g = SubtomoGenerator::new(tilted.clone()).unwrap();
    let (a, b) = (g.sample(3, 5), g.sample(3, 5));
    assert_eq!(a.image, b.image, "same seed, same bits");
    // The draws before the imaging are the same as without the route: same class, pose, mask.
    let c = g0.sample(3, 5);
    assert_eq!((a.class_index, a.shift_vox), (c.class_index, c.shift_vox));
    assert_eq!(a.mask, c.mask);
    assert_ne!(a.image, c.image, "imaged another way");
    // Nearly noise-free and not inverted: the particle is dark against its surroundings.
    for k in 0..6 {
        let s = g.sample(11, k);
        let (mut inside, mut n_in, mut outside, mut n_out) = (0.0, 0, 0.0, 0);
        for (v, m) in s.image.iter().zip(s.mask.iter()) {
            if *m == 1 {
                inside += *v as f64;
                n_in += 1;
            } else {
                outside += *v as f64;
                n_out += 1;
            }
        }
        assert!(
            inside / n_in as f64 <= outside / n_out as f64,
            "subtomogram {k}"
        );
        assert!(s.image.iter().all(|v| v.is_finite()));
    }
    // A bad route is refused with its field named.
    tilted.tilt_series.as_mut().unwrap().fraction = 1.5;
    let e = SubtomoGenerator::new(tilted).err().unwrap().to_string();
    assert!(e.contains("tilt_series.fraction"), "{e}");
}

#[test]
fn subtomograms_with_a_context_keep_their_box_and_labels_and_change_their_surroundings() {
    let with = |snr: f64, context: Option<[f64; 2]>| {
        let mut c = small();
        c.imaging.invert_contrast_probability = 0.0;
        c.neighbours = Dist::Fixed(3.0);
        c.tilt_series = Some(ramp_route(snr, context));
        SubtomoGenerator::new(c).unwrap()
    };
    let (wide, alone) = (with(1e6, Some([2.0, 1.5])), with(1e6, None));
    let mut corr = 0.0;
    for k in 0..4 {
        let (a, b) = (wide.sample(5, k), alone.sample(5, k));
        assert_eq!(a.image.dim(), b.image.dim(), "the box is kept");
        assert_eq!(a.image, wide.sample(5, k).image, "same seed, same bits");
        // The draws before the imaging are the same: class, pose, mask, neighbours.
        assert_eq!(
            (a.class_index, a.shift_vox, &a.mask, a.neighbours),
            (b.class_index, b.shift_vox, &b.mask, b.neighbours)
        );
        // Noise-free, the same particle and neighbours, imaged among others: the streaks of the
        // particles around the box cross it, and the filter no longer sees the box's faces.
        let dot = |x: &Array3<f32>, y: &Array3<f32>| -> f64 {
            x.iter()
                .zip(y.iter())
                .map(|(p, q)| *p as f64 * *q as f64)
                .sum()
        };
        corr += dot(&a.image, &b.image)
            / (dot(&a.image, &a.image) * dot(&b.image, &b.image)).sqrt()
            / 4.0;
    }
    assert!(
        (0.3..0.95).contains(&corr),
        "correlation with the box imaged alone {corr:.3}"
    );
    // At a low SNR the noise is the box's own.
    let var =
        |g: &SubtomoGenerator| -> f64 { (0..6).map(|k| variance(&g.sample(8, k).image)).sum() };
    let ratio = var(&with(0.05, Some([2.0, 1.5]))) / var(&with(0.05, None));
    assert!(
        (0.7..1.43).contains(&ratio),
        "noisy boxes, with context / alone: variance {ratio}"
    );
}

#[test]
fn a_randomised_appearance_changes_the_image_not_the_label_and_repeats_with_the_seed() {
    use tomopick_sim::appearance::ParticleAppearance;
    let plain = small();
    let mut varied = small();
    varied.appearance = Some(ParticleAppearance {
        b_factor_a2: Dist::Uniform([2000.0, 6000.0]),
        density_gamma: Dist::Uniform([0.6, 1.6]),
        shell_contrast: Dist::Uniform([0.1, 0.4]),
        shell_width_a: Dist::Fixed(5.0),
        ..Default::default()
    });
    let (a, b) = (
        SubtomoGenerator::new(plain).unwrap(),
        SubtomoGenerator::new(varied).unwrap(),
    );
    for i in 0..4 {
        let (p, v) = (a.sample(3, i), b.sample(3, i));
        assert_eq!(p.class_index, v.class_index);
        assert_eq!(p.mask, v.mask, "the mask is the particle's own");
        assert_ne!(p.image, v.image, "appearance left the image alone");
        assert_eq!(v.image, b.sample(3, i).image, "not repeatable");
    }
}

#[test]
fn shape_and_composition_variation_change_the_particle_and_its_mask_and_repeat_with_the_seed() {
    use tomopick_sim::appearance::ParticleAppearance;
    let base = ParticleAppearance {
        b_factor_a2: Dist::Uniform([0.0, 2000.0]),
        ..Default::default()
    };
    let mut plain = small();
    plain.appearance = Some(base.clone());
    // The same look with the variation's keys present but off: the same bits.
    let mut off = small();
    off.appearance = Some(ParticleAppearance {
        warp_a: Dist::Fixed(0.0),
        missing_probability: 0.0,
        ..base.clone()
    });
    let mut warped = small();
    warped.appearance = Some(ParticleAppearance {
        warp_a: Dist::Uniform([5.0, 10.0]),
        warp_length_a: Dist::Fixed(20.0),
        ..base.clone()
    });
    let mut missing = small();
    missing.appearance = Some(ParticleAppearance {
        missing_probability: 1.0,
        missing_fraction: Dist::Uniform([0.1, 0.3]),
        ..base
    });
    let g = |c| SubtomoGenerator::new(c).unwrap();
    let (a, o, w, m) = (g(plain), g(off), g(warped), g(missing));
    let count = |m: &ndarray::Array3<u8>| m.iter().filter(|&&x| x > 0).count();
    for i in 0..6 {
        let p = a.sample(5, i);
        assert_eq!(
            p.image,
            o.sample(5, i).image,
            "variation switched off changed the stream"
        );
        for (name, varied) in [("warped", &w), ("missing", &m)] {
            let v = varied.sample(5, i);
            assert_eq!(p.class_index, v.class_index);
            assert_ne!(
                p.mask, v.mask,
                "{name}: the mask should follow the varied particle"
            );
            assert_eq!(v.image, varied.sample(5, i).image, "{name}: not repeatable");
            assert_eq!(v.mask, varied.sample(5, i).mask, "{name}: not repeatable");
        }
        // A piece missing: fewer voxels in the mask, never more.
        assert!(count(&m.sample(5, i).mask) < count(&p.mask), "sample {i}");
    }
}

#[test]
fn cube_appearance_blurs_the_particles_and_keeps_their_boxes() {
    use tomopick_sim::appearance::ParticleAppearance;
    use tomopick_sim::cubes::{CubeGenerator, CubeSpec};
    let mut r = SubtomoConfig::preset("fixed").unwrap();
    r.classes = vec!["3cf3".into(), "1s3x".into()];
    r.imaging.snr = Dist::Fixed(1e4); // nearly noise-free
    r.imaging.defocus_um = Dist::Fixed(0.0);
    r.imaging.tilt_max_deg = Dist::Fixed(90.0);
    let spec = |r: SubtomoConfig| CubeSpec {
        size: 48,
        particles: Dist::Fixed(3.0),
        gold: Dist::Fixed(0.0),
        vesicles: Dist::Fixed(0.0),
        ice_surface_fraction: 0.0,
        noise_reference_particles: None,
        tilt_series: None,
        particle_scale: None,
        randomization: r,
    };
    let plain = CubeGenerator::new(spec(r.clone())).unwrap();
    let mut blurred = r.clone();
    blurred.appearance = Some(ParticleAppearance {
        b_factor_a2: Dist::Fixed(8000.0), // σ = 10 Å, one voxel
        density_gamma: Dist::Fixed(1.0),
        shell_contrast: Dist::Fixed(0.0),
        shell_width_a: Dist::Fixed(5.0),
        ..Default::default()
    });
    let blurred = CubeGenerator::new(spec(blurred)).unwrap();
    let energy = |img: &ndarray::Array3<f32>| img.iter().map(|&v| (v as f64).powi(2)).sum::<f64>();
    let (mut e_plain, mut e_blur) = (0.0, 0.0);
    for i in 0..3 {
        let (a, b) = (plain.sample(4, i).unwrap(), blurred.sample(4, i).unwrap());
        assert_eq!(
            b.image,
            blurred.sample(4, i).unwrap().image,
            "same seed, same bits"
        );
        // The same particles in the same places (the look has a stream of its own).
        assert_eq!(a.boxes.len(), b.boxes.len());
        for (p, q) in a.boxes.iter().zip(&b.boxes) {
            assert_eq!(p.class_index, q.class_index);
            assert_eq!(p.centre_vox, q.centre_vox);
            assert_eq!(p.radius_vox, q.radius_vox);
        }
        e_plain += energy(&a.image);
        e_blur += energy(&b.image);
    }
    // A blur keeps the integral of each particle but spreads it, so Σ V² falls.
    assert!(
        e_blur < 0.8 * e_plain,
        "energy blurred {e_blur} vs plain {e_plain}"
    );
}
