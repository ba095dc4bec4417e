//! Particle lists: readers on every fixture, writers' round trips, unit handling.

mod common;
use common::{made, portal};
use tomopick_io::{
    ListContext, ListFormat, Particle, PosAngstrom, Rotation, VoxelSize, read_particles,
    write_particles,
};

fn ctx(vs: f64) -> ListContext {
    ListContext {
        voxel_size: Some(VoxelSize::isotropic(vs)),
        ..Default::default()
    }
}

fn close(a: PosAngstrom, b: PosAngstrom) -> bool {
    a.distance(b) < 1e-4
}

/// The three particles the fixture script wrote, in pixels of 2.5 Å, with RELION angles.
const FIXTURE: [(&str, &str, [f64; 3], [f64; 3]); 3] = [
    ("TS_01", "1", [10.0, 20.0, 30.0], [10.0, 20.0, 30.0]),
    ("TS_01", "2", [40.5, 50.25, 6.0], [-45.0, 90.0, 120.0]),
    ("TS_02", "1", [0.0, 7.0, 8.0], [170.0, 135.0, -60.0]),
];

fn check_fixture(ps: &[Particle], px: f64) {
    assert_eq!(ps.len(), 3);
    for (p, (tomo, class, c, ang)) in ps.iter().zip(FIXTURE) {
        assert_eq!(p.tomogram.as_deref(), Some(tomo));
        assert_eq!(p.class, class);
        assert!(
            close(p.pos_a, PosAngstrom::new(c[0] * px, c[1] * px, c[2] * px)),
            "{:?}",
            p.pos_a
        );
        let want = Rotation::from_relion_zyz_deg(ang[0], ang[1], ang[2]);
        assert!(p.rotation.unwrap().angle_to_deg(&want) < 1e-6);
    }
}

#[test]
fn relion4_from_starfile_uses_the_optics_pixel_size() {
    let ps = read_particles(
        &made("relion4_particles.star"),
        None,
        &ListContext::default(),
    )
    .unwrap();
    check_fixture(&ps, 2.5);
    // Tomogram at 10 Å, binned 4× relative to the 2.5 Å coordinates: agrees with the file.
    let ok = ListContext {
        binning: Some(4.0),
        ..ctx(10.0)
    };
    check_fixture(
        &read_particles(&made("relion4_particles.star"), None, &ok).unwrap(),
        2.5,
    );
    // Forgetting the binning would silently mix units: refused, naming the field.
    let e = read_particles(&made("relion4_particles.star"), None, &ctx(10.0))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("rlnMicrographOriginalPixelSize") && e.contains("--binning"),
        "{e}"
    );
}

#[test]
fn relion5_centred_coordinates_need_the_tomogram_size() {
    let e = read_particles(&made("relion5_particles.star"), None, &ctx(10.0))
        .unwrap_err()
        .to_string();
    assert!(e.contains("--tomo-size"), "{e}");
    let c = ListContext {
        tomo_shape_xyz: Some([64, 64, 32]),
        ..ctx(10.0)
    };
    check_fixture(
        &read_particles(&made("relion5_particles.star"), None, &c).unwrap(),
        10.0,
    );
}

#[test]
fn copick_written_by_copick_agrees_with_relion_angles() {
    let ps = read_particles(&made("copick_ribosome.json"), None, &ListContext::default()).unwrap();
    assert_eq!(
        ps.len(),
        1,
        "the script writes the TS_01 particles of class 1"
    );
    assert_eq!(ps[0].class, "ribosome");
    assert_eq!(ps[0].tomogram.as_deref(), Some("TS_01"));
    assert_eq!(ps[0].score, Some(0.75));
    // copick's matrix is Rotation.from_euler("ZYZ", angles).inv(): the same as ours.
    let star = read_particles(
        &made("relion4_particles.star"),
        None,
        &ListContext::default(),
    )
    .unwrap();
    for (c, s) in ps.iter().zip([&star[0]]) {
        assert!(close(c.pos_a, s.pos_a));
        assert!(c.rotation.unwrap().angle_to_deg(&s.rotation.unwrap()) < 1e-6);
    }
}

#[test]
fn every_portal_fixture_has_a_reader() {
    let p = |n: &str| portal(&format!("annotations/{n}"));
    let c2 = ctx(2.0);
    let r3 = read_particles(&p("relion_3_star.star"), None, &ListContext::default()).unwrap();
    // 4 px × 1.7005 Å (DetectorPixelSize 1.7005 µm at 10000×), minus the origin shift −1.2 px.
    assert!(close(
        r3[0].pos_a,
        PosAngstrom::new(5.2 * 1.7005, 10.4 * 1.7005, 15.2 * 1.7005)
    ));
    let r4 = read_particles(&p("relion_4_star.star"), None, &ListContext::default()).unwrap();
    assert_eq!(r4.len(), 6);
    assert!(
        close(
            r4[0].pos_a,
            PosAngstrom::new(2.0 + 1.2, 4.0 + 2.4, 6.0 + 3.2)
        ),
        "{:?}",
        r4[0].pos_a
    );
    let tm = read_particles(
        &p("tomoman_relion_star.star"),
        None,
        &ListContext::default(),
    )
    .unwrap();
    assert!(close(
        tm[1].pos_a,
        PosAngstrom::new((4.0 - 3.2) * 1.96, (4.0 - 2.4) * 1.96, (4.0 - 1.2) * 1.96)
    ));
    let cp = read_particles(&p("copick.json"), None, &ListContext::default()).unwrap();
    assert!(close(cp[0].pos_a, PosAngstrom::new(40.0, 20.0, 30.0)));
    assert_eq!(
        read_particles(&p("copick_instance.json"), None, &ListContext::default()).unwrap()[0].class,
        "testobject"
    );
    let m = read_particles(&p("points.mod"), None, &c2).unwrap();
    assert_eq!(m.len(), 3);
    assert!(
        close(m[0].pos_a, PosAngstrom::new(2.0, 4.0, 6.0)),
        "{:?}",
        m[0].pos_a
    );
    let o = read_particles(
        &p("oriented_points.mod"),
        None,
        &ListContext {
            voxel_size: Some(VoxelSize::isotropic(1.0)),
            ..Default::default()
        },
    )
    .unwrap();
    assert!(!o.is_empty() && o.iter().all(|q| q.class == "object_1"));
    for name in [
        "points.csv",
        "points_tab_delim.csv",
        "points_with_header.csv",
        "points_with_header_pipe_delim.csv",
    ] {
        let m = read_particles(&p(name), Some(ListFormat::Points), &c2).unwrap();
        assert_eq!(m.len(), 3, "{name}");
        assert!(close(m[2].pos_a, PosAngstrom::new(0.0, 6.0, 0.0)), "{name}");
    }
    let tardis = read_particles(
        &p("tardis.csv"),
        Some(ListFormat::Points),
        &ListContext::default(),
    )
    .unwrap();
    assert!(close(tardis[0].pos_a, PosAngstrom::new(4.0, 8.0, 12.0)));
    assert_eq!(tardis[5].class, "instance_2");
    let sg = read_particles(&p("stopgap_star.star"), Some(ListFormat::Points), &c2).unwrap();
    assert!(close(
        sg[0].pos_a,
        PosAngstrom::new(2.0 * 2.8, 2.0 * 5.6, 2.0 * 8.8)
    ));
}

fn sample() -> Vec<Particle> {
    let mut v = Vec::new();
    for (i, (class, tomo)) in [
        ("ribosome", "TS_1"),
        ("apo-ferritin", "TS_1"),
        ("ribosome", "TS_2"),
        ("ribosome", "TS_1"),
    ]
    .iter()
    .enumerate()
    {
        let mut p = Particle::new(
            *class,
            PosAngstrom::new(10.0 * i as f64 + 1.25, 250.5, 37.5 * i as f64),
        );
        p.rotation = Some(Rotation::from_relion_zyz_deg(
            13.0 * i as f64,
            20.0 + 30.0 * i as f64,
            -70.0 + i as f64,
        ));
        p.score = Some(0.5 + 0.1 * i as f64);
        p.tomogram = Some(tomo.to_string());
        v.push(p);
    }
    v
}

fn assert_same(a: &[Particle], b: &[Particle], fields: &str) {
    assert_eq!(a.len(), b.len());
    let key = |p: &Particle| {
        (
            p.tomogram.clone(),
            p.class.clone(),
            (p.pos_a.x * 1000.0) as i64,
        )
    };
    let (mut a, mut b) = (a.to_vec(), b.to_vec());
    a.sort_by_key(key);
    b.sort_by_key(key);
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.class, y.class);
        assert!(close(x.pos_a, y.pos_a), "{:?} vs {:?}", x.pos_a, y.pos_a);
        assert!(x.rotation.unwrap().angle_to_deg(&y.rotation.unwrap()) < 1e-3);
        if fields.contains('s') {
            assert!((x.score.unwrap() - y.score.unwrap()).abs() < 1e-9);
        }
        if fields.contains('t') {
            assert_eq!(x.tomogram, y.tomogram);
        }
    }
}

#[test]
fn every_writer_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let ps = sample();
    let c = ListContext {
        voxel_size: Some(VoxelSize::isotropic(10.0)),
        binning: Some(4.0),
        tomo_shape_xyz: Some([100, 80, 40]),
        ..ListContext::default()
    };
    for (fmt, name, fields) in [
        (ListFormat::Csv, "a.csv", "st"),
        (ListFormat::Relion4, "a.star", "st"),
        (ListFormat::Relion5, "b.star", "st"),
        (ListFormat::Copick, "copick_dir", "st"),
    ] {
        let p = dir.path().join(name);
        write_particles(&p, fmt, &ps, &c).unwrap();
        let back = read_particles(&p, Some(fmt), &c).unwrap();
        assert_same(&ps, &back, fields);
    }
    let shrec = dir.path().join("particle_locations.txt");
    write_particles(&shrec, ListFormat::Shrec, &ps, &c).unwrap();
    let untitled: Vec<Particle> = ps
        .iter()
        .map(|p| Particle {
            tomogram: None,
            ..p.clone()
        })
        .collect();
    assert_same(&untitled, &read_particles(&shrec, None, &c).unwrap(), "");
    // The RELION 4 file states its own pixel size (10 Å / 4), so it reads back without flags.
    let back = read_particles(&dir.path().join("a.star"), None, &ListContext::default()).unwrap();
    assert_same(&ps, &back, "st");
}

#[test]
fn star_to_copick_and_back_is_lossless() {
    let dir = tempfile::tempdir().unwrap();
    let none = ListContext::default();
    let orig = read_particles(&made("relion4_particles.star"), None, &none).unwrap();
    let folder = dir.path().join("picks");
    write_particles(&folder, ListFormat::Copick, &orig, &none).unwrap();
    let via = read_particles(&folder, None, &none).unwrap();
    let star = dir.path().join("back.star");
    let c = ctx(2.5);
    write_particles(&star, ListFormat::Relion4, &via, &c).unwrap();
    let back = read_particles(&star, None, &none).unwrap();
    assert_same(
        &orig
            .iter()
            .map(|p| Particle {
                score: Some(1.0),
                ..p.clone()
            })
            .collect::<Vec<_>>(),
        &back,
        "t",
    );
}

#[test]
fn copick_single_file_refuses_mixed_classes() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("picks.json");
    let e = write_particles(&p, ListFormat::Copick, &sample(), &ListContext::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("give a folder"), "{e}");
    assert!(!p.exists());
}

#[test]
fn bad_lists_name_the_file_and_the_line_or_field() {
    let none = ListContext::default();
    let e = read_particles(&made("bad_no_coordinates.star"), None, &none)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("bad_no_coordinates.star") && e.contains("rlnCoordinateX"),
        "{e}"
    );
    let e = read_particles(&made("bad_non_numeric.csv"), None, &none)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("bad_non_numeric.csv") && e.contains("line 3") && e.contains("'five'"),
        "{e}"
    );
    let e = read_particles(&made("bad_not_copick.json"), None, &none)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("bad_not_copick.json") && e.contains("not a copick"),
        "{e}"
    );
    let e = read_particles(&portal("annotations/points.mod"), None, &none)
        .unwrap_err()
        .to_string();
    assert!(e.contains("--voxel-size"), "{e}");
    let e = read_particles(&made("bad_empty.mrc").with_extension("csv"), None, &none)
        .unwrap_err()
        .to_string();
    assert!(e.contains("bad_empty.csv"), "{e}");
}

/// Found by fuzzing (`fuzz/regressions/star/`): a `tomograms.star` whose row holds fewer values
/// than the block has labels was indexed past its end. It is read without panicking.
#[test]
fn a_tomograms_star_row_shorter_than_its_labels_does_not_panic() {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/regressions/star/tomograms_star_row_shorter_than_labels");
    let _ = tomopick_io::lists::tomograms_star::read_tomograms_star(&p);
    let _ = tomopick_io::read_particles(
        &p,
        Some(tomopick_io::ListFormat::Relion5),
        &Default::default(),
    );
}
