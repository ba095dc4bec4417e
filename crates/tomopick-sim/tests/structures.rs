//! Reading PDB and mmCIF models and building assemblies.

use std::path::PathBuf;
use tomopick_sim::read_structure;

fn repo(p: &str) -> PathBuf {
    PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo test"))
        .join("../..")
        .join(p)
}

fn counts() -> (usize, usize) {
    let t = std::fs::read_to_string(repo("tests/fixtures/made/3qm1_counts.txt")).unwrap();
    let get = |k: &str| {
        t.lines()
            .find(|l| l.starts_with(k))
            .unwrap()
            .split_whitespace()
            .nth(1)
            .unwrap()
            .parse()
            .unwrap()
    };
    (get("asymmetric_unit_atoms"), get("assembly_1_atoms"))
}

#[test]
fn pdb_and_gemmi_mmcif_agree_with_gemmi_counts() {
    let (asu, asm) = counts();
    let pdb = read_structure(&repo("data/structures/pdb/3qm1.pdb.gz")).unwrap();
    let cif = read_structure(&repo("tests/fixtures/made/3qm1.cif")).unwrap();
    assert_eq!(pdb.atoms.len(), asu);
    assert_eq!(cif.atoms.len(), asu);
    let a = pdb.assembly_atoms(None).unwrap();
    let b = cif.assembly_atoms(Some("1")).unwrap();
    assert_eq!((a.len(), b.len()), (asm, asm));
    // Same atoms in the same order, whichever file they came from.
    let centroid = |v: &[tomopick_sim::Atom]| {
        let mut c = [0.0; 3];
        for x in v {
            for (ck, p) in c.iter_mut().zip(x.pos_a) {
                *ck += p / v.len() as f64;
            }
        }
        c
    };
    let (ca, cb) = (centroid(&a), centroid(&b));
    for k in 0..3 {
        assert!((ca[k] - cb[k]).abs() < 1e-3, "{ca:?} {cb:?}");
    }
}

#[test]
fn biomt_builds_the_rubisco_16mer() {
    let s = read_structure(&repo("data/structures/pdb/1bxn.pdb.gz")).unwrap();
    assert_eq!(s.assemblies.len(), 1);
    let asm = s.assembly_atoms(None).unwrap();
    assert_eq!(
        asm.len(),
        2 * s.atoms.len(),
        "two operations on all 8 chains"
    );
    // The second copy is the first moved by BIOMT 2: no atom of the copy sits on its original.
    let n = s.atoms.len();
    assert!((0..n).all(|i| {
        (0..3)
            .map(|k| (asm[i].pos_a[k] - asm[n + i].pos_a[k]).powi(2))
            .sum::<f64>()
            > 1.0
    }));
}

#[test]
fn unknown_elements_are_reported_and_bad_files_refused() {
    let s = read_structure(&repo("data/structures/pdb/1qvr.pdb.gz")).unwrap();
    assert_eq!(s.unknown_elements.get("Pt"), Some(&23));
    let pt: Vec<_> = s.atoms.iter().filter(|a| a.occupancy < 0.2).collect();
    assert!(pt.len() >= 20, "partial Pt sites keep their occupancy");
    let e = read_structure(&repo("tests/fixtures/made/bad_no_atoms.pdb"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("bad_no_atoms.pdb") && e.contains("no atoms"),
        "{e}"
    );
    let e = s.assembly_atoms(Some("7")).unwrap_err().to_string();
    assert!(
        e.contains("assembly '7' does not exist") && e.contains("declares: 1"),
        "{e}"
    );
}
