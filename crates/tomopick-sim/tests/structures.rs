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

/// Found by fuzzing (fuzz/regressions/structure/): a category given twice with different items,
/// or pairs after a loop of it, once left rows shorter than the item list and panicked.
#[test]
fn mmcif_with_a_category_given_twice_reads_without_panicking() {
    let path = std::path::Path::new("twice.cif");
    let twice = "data_x\nloop_\n_atom_site.type_symbol\n_atom_site.Cartn_x\n_atom_site.Cartn_y\n\
                 _atom_site.Cartn_z\n_atom_site.pdbx_PDB_model_num\nC 1 2 3 1\nN 4 5 6 1\n\
                 loop_\n_atom_site.type_symbol\n_atom_site.Cartn_x\n_atom_site.Cartn_y\n\
                 _atom_site.Cartn_z\nO 7 8 9\n";
    let s = tomopick_sim::structure::parse_mmcif(path, twice, "x".into()).unwrap();
    assert_eq!(
        s.atoms.len(),
        1,
        "the last loop of a category is the one read"
    );
    let pairs_after = "data_x\nloop_\n_atom_site.type_symbol\n_atom_site.Cartn_x\n\
                       _atom_site.Cartn_y\n_atom_site.Cartn_z\nC 1 2 3\nN 4 5 6\n\
                       _atom_site.pdbx_PDB_model_num 1\n";
    // Pairs after the loop replace it: no coordinates left, a clean error rather than a panic.
    let e = tomopick_sim::structure::parse_mmcif(path, pairs_after, "x".into());
    assert!(e.is_err());
}

/// Found by fuzzing (fuzz/regressions/structure/): a quoted mmCIF value holding a character of
/// more than one byte was sliced inside that character and panicked; it is read as text.
#[test]
fn mmcif_quoted_value_with_a_multibyte_character_reads_without_panicking() {
    let path = std::path::Path::new("multibyte.cif");
    let text = "data_x\n_struct.title 'Rubisco \u{6b7}ڷ from a strange place'\nloop_\n\
                _atom_site.type_symbol\n_atom_site.Cartn_x\n_atom_site.Cartn_y\n\
                _atom_site.Cartn_z\nC 1 2 3\nN 'ڷ' 5 6\n";
    // Whatever the outcome (the second atom's x is not a number), no panic.
    let _ = tomopick_sim::structure::parse_mmcif(path, text, "x".into());
    let ok = "data_x\n_struct.title 'caf\u{e9} ڷ'\nloop_\n_atom_site.type_symbol\n\
              _atom_site.Cartn_x\n_atom_site.Cartn_y\n_atom_site.Cartn_z\nC 1 2 3\n";
    let s = tomopick_sim::structure::parse_mmcif(path, ok, "x".into()).unwrap();
    assert_eq!(s.atoms.len(), 1);
}
