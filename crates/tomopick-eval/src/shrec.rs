//! The SHREC metric (SHREC 2020/2021 `eval.py`): each pick is rounded to a voxel and looked
//! up in the dilated occupancy (instance) mask, whose value is the 1-based index of a true
//! particle. TP = distinct true particles hit; every pick counts in the precision denominator,
//! so duplicates lower precision, as in the official script.

use crate::confusion::Confusion;
use crate::counts::Scores;
use crate::error::{EvalError, Result};
use crate::report::MetricReport;
use ndarray::Array3;
use std::collections::BTreeMap;
use tomopick_io::{Particle, Volume};

/// Grey dilation of a label volume with the 6-connected cross (skimage's default 3D footprint):
/// each voxel takes the largest label among itself and its face neighbours.
pub fn dilate_labels(labels: &Array3<u32>) -> Array3<u32> {
    let (nz, ny, nx) = labels.dim();
    let mut out = labels.clone();
    for z in 0..nz {
        for y in 0..ny {
            for x in 0..nx {
                let mut m = labels[[z, y, x]];
                if z > 0 {
                    m = m.max(labels[[z - 1, y, x]]);
                }
                if z + 1 < nz {
                    m = m.max(labels[[z + 1, y, x]]);
                }
                if y > 0 {
                    m = m.max(labels[[z, y - 1, x]]);
                }
                if y + 1 < ny {
                    m = m.max(labels[[z, y + 1, x]]);
                }
                if x > 0 {
                    m = m.max(labels[[z, y, x - 1]]);
                }
                if x + 1 < nx {
                    m = m.max(labels[[z, y, x + 1]]);
                }
                out[[z, y, x]] = m;
            }
        }
    }
    out
}

/// Converts an occupancy volume (float or int MRC) into integer labels, checking that every
/// label names a true particle.
pub fn occupancy_labels(occupancy: &Volume, n_truth: usize) -> Result<Array3<u32>> {
    let mut bad = None;
    let labels = occupancy.data.mapv(|v| {
        let k = v.round();
        if k.is_nan() || k < 0.0 || k as usize > n_truth {
            bad.get_or_insert(v);
            0
        } else {
            k as u32
        }
    });
    if let Some(v) = bad {
        return Err(EvalError::Input(format!(
            "the occupancy mask holds the label {v}, but the truth list has {n_truth} particles (labels must be 0 or 1..={n_truth}, in the truth file's order)"
        )));
    }
    Ok(labels)
}

/// The label under each pick (the voxel nearest its centre) in the (already dilated) label
/// volume: 0 = background, `k` = the truth list's particle `k - 1`; `None` outside the volume.
pub fn shrec_hits(
    picks: &[Particle],
    labels: &Array3<u32>,
    voxel_size: tomopick_io::VoxelSize,
) -> Vec<Option<u32>> {
    let (nz, ny, nx) = labels.dim();
    picks
        .iter()
        .map(|p| {
            let [x, y, z] = p.pos_a.to_voxels(voxel_size).nearest_index([nx, ny, nz])?;
            Some(labels[[z, y, x]])
        })
        .collect()
}

/// Scores `picks` against `truth` with the (already dilated) label volume.
/// Returns the report and the number of picks that fell outside the volume.
pub fn evaluate_shrec(
    picks: &[Particle],
    truth: &[Particle],
    labels: &Array3<u32>,
    voxel_size: tomopick_io::VoxelSize,
    beta: f64,
) -> (MetricReport, usize) {
    let hits = shrec_hits(picks, labels, voxel_size);
    let outside = hits.iter().filter(|h| h.is_none()).count();

    // Class-agnostic pass.
    let mut first_pick: Vec<Option<usize>> = vec![None; truth.len()];
    let mut duplicates = 0;
    let mut fp = 0;
    for (i, h) in hits.iter().enumerate() {
        match h {
            Some(k) if *k > 0 => {
                let t = *k as usize - 1;
                if first_pick[t].is_some() {
                    duplicates += 1
                } else {
                    first_pick[t] = Some(i)
                }
            }
            _ => fp += 1,
        }
    }
    let tp = first_pick.iter().filter(|f| f.is_some()).count();
    let overall = Scores::from_counts(
        tp,
        fp,
        duplicates,
        picks.len(),
        truth.len(),
        picks.len(),
        beta,
    );
    let mut confusion = Confusion::default();
    let mut dist_sum = 0.0;
    for (t, f) in first_pick.iter().enumerate() {
        confusion.add(&truth[t].class, f.map(|i| picks[i].class.as_str()));
        if let Some(i) = f {
            dist_sum += picks[*i].pos_a.distance(truth[t].pos_a);
        }
    }

    // Per-class pass: picks of class c scored against true particles of class c.
    let mut classes: Vec<&str> = truth
        .iter()
        .chain(picks.iter())
        .map(|p| p.class.as_str())
        .collect();
    classes.sort();
    classes.dedup();
    let mut per_class = BTreeMap::new();
    for c in classes {
        let mut found = vec![false; truth.len()];
        let (mut n_picks, mut dup, mut fpc) = (0, 0, 0);
        for (i, _) in picks.iter().enumerate().filter(|(_, p)| p.class == c) {
            n_picks += 1;
            match hits[i] {
                Some(k) if k > 0 && truth[k as usize - 1].class == c => {
                    let t = k as usize - 1;
                    if found[t] { dup += 1 } else { found[t] = true }
                }
                _ => fpc += 1,
            }
        }
        let tpc = found.iter().filter(|f| **f).count();
        let n_truth = truth.iter().filter(|p| p.class == c).count();
        per_class.insert(
            c.to_string(),
            Scores::from_counts(tpc, fpc, dup, n_picks, n_truth, n_picks, beta),
        );
    }
    let report = MetricReport {
        metric: "shrec".into(),
        overall,
        per_class,
        confusion,
        mean_distance_a: (tp > 0).then(|| dist_sum / tp as f64),
        weighted_f_beta: None,
    };
    (report, outside)
}

/// Builds an occupancy label volume from true positions and radii when no mask is given:
/// a ball of the class radius around each particle (later particles do not overwrite earlier).
pub fn spheres_as_labels(
    truth: &[Particle],
    radii_a: &[f64],
    shape_xyz: [usize; 3],
    voxel_size: tomopick_io::VoxelSize,
) -> Array3<u32> {
    let mut labels = Array3::<u32>::zeros((shape_xyz[2], shape_xyz[1], shape_xyz[0]));
    let vs = voxel_size.as_array();
    for (k, (p, &r)) in truth.iter().zip(radii_a).enumerate() {
        let c = p.pos_a.as_array();
        let lo: Vec<i64> = (0..3)
            .map(|a| ((c[a] - r) / vs[a]).floor() as i64)
            .collect();
        let hi: Vec<i64> = (0..3).map(|a| ((c[a] + r) / vs[a]).ceil() as i64).collect();
        for z in lo[2].max(0)..=hi[2].min(shape_xyz[2] as i64 - 1) {
            for y in lo[1].max(0)..=hi[1].min(shape_xyz[1] as i64 - 1) {
                for x in lo[0].max(0)..=hi[0].min(shape_xyz[0] as i64 - 1) {
                    let d2 = (x as f64 * vs[0] - c[0]).powi(2)
                        + (y as f64 * vs[1] - c[1]).powi(2)
                        + (z as f64 * vs[2] - c[2]).powi(2);
                    let cell = &mut labels[[z as usize, y as usize, x as usize]];
                    if d2 <= r * r && *cell == 0 {
                        *cell = k as u32 + 1;
                    }
                }
            }
        }
    }
    labels
}
