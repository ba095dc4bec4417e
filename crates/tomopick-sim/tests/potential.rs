//! Physics of the potential: conservation of each atom's integral, B-factor, contrast.

use tomopick_sim::scattering::{ELEMENTS, Element, K_V_A2};
use tomopick_sim::structure::Atom;
use tomopick_sim::{PotentialOptions, potential_map, read_structure};

fn bare(vs: f64) -> PotentialOptions {
    PotentialOptions {
        voxel_size_a: vs,
        b_factor: 0.0,
        use_atom_b_factors: false,
        implicit_hydrogens: false,
        subtract_solvent: false,
        padding_a: 12.0 * vs,
    }
}

fn integral(v: &tomopick_io::Volume) -> f64 {
    v.data.iter().map(|&x| x as f64).sum::<f64>() * v.voxel_size.x.powi(3)
}

#[test]
fn each_atom_integrates_to_k_sum_a() {
    for el in ELEMENTS {
        for (vs, b) in [(1.0, 0.0), (10.0, 0.0), (4.0, 50.0)] {
            let atoms = vec![Atom {
                element: el,
                pos_a: [0.37, -0.21, 0.05],
                b_factor: 0.0,
                occupancy: 1.0,
                chain: "A".into(),
            }];
            let v = potential_map(
                &atoms,
                &PotentialOptions {
                    b_factor: b,
                    ..bare(vs)
                },
            )
            .unwrap();
            let want = K_V_A2 * el.a.iter().sum::<f64>();
            assert!(
                (integral(&v) - want).abs() < 1e-4 * want,
                "{} at {vs} Å, B {b}: {} vs {want}",
                el.symbol,
                integral(&v)
            );
        }
    }
    // The numbers of the notes: C 120.1, N 106.0, O 95.0, H 25.3 V·Å³.
    for (s, want) in [("C", 120.1), ("N", 106.0), ("O", 95.0), ("H", 25.3)] {
        assert!((Element::from_symbol(s).unwrap().integrated_potential() - want).abs() < 0.06);
    }
}

#[test]
fn b_factor_spreads_but_keeps_the_integral() {
    let c = Element::from_symbol("C").unwrap();
    let atoms = vec![Atom {
        element: c,
        pos_a: [0.0; 3],
        b_factor: 0.0,
        occupancy: 1.0,
        chain: "A".into(),
    }];
    let sharp = potential_map(&atoms, &bare(1.0)).unwrap();
    let blurred = potential_map(
        &atoms,
        &PotentialOptions {
            b_factor: 100.0,
            ..bare(1.0)
        },
    )
    .unwrap();
    let peak = |v: &tomopick_io::Volume| v.data.iter().cloned().fold(f32::MIN, f32::max);
    assert!(peak(&blurred) < 0.5 * peak(&sharp));
    assert!((integral(&sharp) - integral(&blurred)).abs() < 1e-3 * integral(&sharp));
}

#[test]
fn protein_contrast_against_ice_matches_peng() {
    // Averaged over the volume the protein occupies, the potential of protein is ≈ 7.9 V
    // (Peng, 1.35 g/cm³) and the contrast against ice ≈ 7.9 − 4.53 ≈ 3.4 V. Apoferritin, 5 Å.
    let s = read_structure(
        &std::path::PathBuf::from(
            std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo test"),
        )
        .join("../../data/structures/pdb/6z6u.pdb.gz"),
    )
    .unwrap();
    let atoms = s.assembly_atoms(None).unwrap();
    let protein_volume = atoms.len() as f64 * tomopick_sim::potential::HEAVY_ATOM_VOLUME_A3;
    let opts = PotentialOptions {
        voxel_size_a: 5.0,
        padding_a: 10.0,
        ..Default::default()
    };
    let with_ice = potential_map(&atoms, &opts).unwrap();
    let vacuum = potential_map(
        &atoms,
        &PotentialOptions {
            subtract_solvent: false,
            ..opts
        },
    )
    .unwrap();
    let protein = integral(&vacuum) / protein_volume;
    let contrast = integral(&with_ice) / protein_volume;
    assert!((7.4..8.6).contains(&protein), "protein {protein:.2} V");
    assert!((3.0..4.0).contains(&contrast), "contrast {contrast:.2} V");
    assert_eq!(
        with_ice.data[[0, 0, 0]],
        0.0,
        "far from the protein the map is zero"
    );
}
