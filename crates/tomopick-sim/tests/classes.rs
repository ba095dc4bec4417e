//! Classes from user files, and the map cache.

use std::path::PathBuf;
use tomopick_sim::library::{ClassSource, ClassSpec, class_potential, shipped_potential};
use tomopick_sim::potential::PotentialOptions;

fn repo(p: &str) -> String {
    PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo test"))
        .join("../..")
        .join(p)
        .to_string_lossy()
        .into_owned()
}

#[test]
fn class_entries_parse() {
    assert_eq!(
        ClassSpec::parse("1bxn").unwrap().source,
        ClassSource::Shipped
    );
    let c = ClassSpec::parse(&format!("cdk={}:1", repo("tests/fixtures/made/3qm1.cif"))).unwrap();
    assert_eq!(c.name, "cdk");
    assert!(matches!(&c.source, ClassSource::File { assembly: Some(a), .. } if a == "1"));
    let c = ClassSpec::parse(&repo("data/structures/maps_10A/4cr2.mrc.gz")).unwrap();
    assert_eq!(c.name, "4cr2");
    let e = ClassSpec::parse("9zzz").unwrap_err().to_string();
    assert!(e.contains("'9zzz'") && e.contains("1bxn"), "{e}");
}

#[test]
fn a_users_mmcif_gives_the_same_potential_as_the_shipped_pdb() {
    let opts = PotentialOptions {
        voxel_size_a: 8.0,
        ..Default::default()
    };
    let mine = class_potential(
        &ClassSpec::parse(&format!("cdk={}:1", repo("tests/fixtures/made/3qm1.cif"))).unwrap(),
        &opts,
    )
    .unwrap();
    let shipped = shipped_potential("3qm1", &opts).unwrap();
    assert_eq!(mine.volume.data.dim(), shipped.data.dim());
    let diff = mine
        .volume
        .data
        .iter()
        .zip(shipped.data.iter())
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(diff < 1e-3, "max difference {diff} V");
    // Asking again is served by the cache (when one is writable) and gives the same map.
    let again = class_potential(
        &ClassSpec::parse(&format!("cdk={}:1", repo("tests/fixtures/made/3qm1.cif"))).unwrap(),
        &opts,
    )
    .unwrap();
    assert_eq!(again.volume.data, mine.volume.data);
    // Unknown elements are reported whether or not the map came from the cache.
    for _ in 0..2 {
        let pt = class_potential(&ClassSpec::parse("1qvr").unwrap(), &opts).unwrap();
        assert_eq!(pt.unknown_elements.get("Pt"), Some(&23));
    }
}

#[test]
fn a_users_density_map_is_scaled_to_protein_contrast() {
    let opts = PotentialOptions {
        voxel_size_a: 10.0,
        ..Default::default()
    };
    let c = class_potential(
        &ClassSpec::parse(&repo("data/structures/maps_10A/4cr2.mrc.gz")).unwrap(),
        &opts,
    )
    .unwrap();
    let max = c.volume.data.iter().cloned().fold(0.0f32, f32::max);
    let inside: Vec<f32> = c
        .volume
        .data
        .iter()
        .cloned()
        .filter(|&v| v > 0.15 * max)
        .collect();
    let mean = inside.iter().sum::<f32>() / inside.len() as f32;
    assert!((mean - 3.4).abs() < 0.05, "{mean}");
}
