//! `match-templates` on a whole tomogram: read the picks, make or read the templates at the
//! tomogram's voxel size, match, and write the picks with their new classes and every class's
//! score.

use crate::class_scores::{score_header, score_row};
use crate::error::{PickError, Result};
use crate::refine::check_picks_inside;
use crate::source::TomoSource;
use crate::template_match::{
    Template, TemplateMatchOptions, TemplateScores, match_templates, template_reach,
};
use std::path::{Path, PathBuf};
use tomopick_io::atomic::write_atomic;
use tomopick_io::{Particle, open_volume};
use tomopick_sim::library::{ClassSpec, class_potential};
use tomopick_sim::potential::PotentialOptions;

/// Where the templates come from.
#[derive(Debug, Clone, PartialEq)]
pub enum TemplateSource {
    /// Simulated from atomic models (class entries as `tomopick simulate` takes them: shipped
    /// names, `name=file.pdb[:assembly]`, paths), at the tomogram's voxel size.
    Simulated(Vec<String>),
    /// Density maps (MRC; protein positive), one per class, named by file stem; each must have
    /// the tomogram's voxel size within 1 %.
    Files(Vec<PathBuf>),
}

impl TemplateSource {
    /// Template maps named on the command line or in Python: each path a map, or a folder
    /// standing for the `.mrc` files in it (sorted by name).
    pub fn files(paths: &[PathBuf]) -> Result<TemplateSource> {
        let mut out = Vec::new();
        for p in paths {
            if !p.is_dir() {
                out.push(p.clone());
                continue;
            }
            let entries = std::fs::read_dir(p).map_err(|e| tomopick_io::IoError::os(p, e))?;
            let mut found: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.extension().is_some_and(|x| x == "mrc"))
                .collect();
            if found.is_empty() {
                return Err(PickError::input(p, "no .mrc templates in this folder"));
            }
            found.sort();
            out.extend(found);
        }
        Ok(TemplateSource::Files(out))
    }

    /// Simulated templates of `classes` (`tomopick simulate`'s class entries), or of the 13
    /// SHREC 2021 classes when none are named.
    pub fn simulated(classes: Option<Vec<String>>) -> TemplateSource {
        TemplateSource::Simulated(classes.unwrap_or_else(|| {
            tomopick_sim::library::SHREC2021_CLASSES
                .iter()
                .map(|c| c.to_string())
                .collect()
        }))
    }
}

/// The reach (voxels, [`template_reach`]) that matching allows for at least at `voxel_a` Å:
/// that of the 13 SHREC 2021 classes (the library simulated templates are named from, and the
/// default detector's classes), whatever templates are matched. So matching a few of them
/// (`--classes`) scores each as matching all would, and template files score as the same
/// templates simulated.
pub fn least_reach(voxel_a: f64) -> Result<f64> {
    Ok(template_reach(&load_templates(
        &TemplateSource::simulated(None),
        voxel_a,
    )?))
}

/// Picks with the classes that template matching gave them.
pub struct TemplateMatched {
    /// The picks as given.
    pub input: Vec<Particle>,
    /// The picks with the best-matching class and its z-score (or correlation, with few picks)
    /// as score.
    pub particles: Vec<Particle>,
    /// Every class's scores at every pick.
    pub scores: TemplateScores,
}

/// The templates of `source` at `voxel_a` Å.
pub fn load_templates(source: &TemplateSource, voxel_a: f64) -> Result<Vec<Template>> {
    match source {
        TemplateSource::Simulated(classes) => {
            let opts = PotentialOptions {
                voxel_size_a: voxel_a,
                ..Default::default()
            };
            classes
                .iter()
                .map(|c| {
                    let spec = ClassSpec::parse(c)?;
                    let v = class_potential(&spec, &opts)?.volume;
                    Ok(Template {
                        name: spec.name,
                        data: v.data,
                    })
                })
                .collect()
        }
        TemplateSource::Files(paths) => paths.iter().map(|p| read_template(p, voxel_a)).collect(),
    }
}

fn read_template(path: &Path, voxel_a: f64) -> Result<Template> {
    let v = open_volume(path, None)?;
    let [x, y, z] = v.voxel_size.as_array();
    if [x, y, z].iter().any(|&s| (s / voxel_a - 1.0).abs() > 0.01) {
        return Err(PickError::input(
            path,
            format!(
                "template voxel size {x:.3} × {y:.3} × {z:.3} Å, the tomogram's {voxel_a:.3} Å: \
                 resample the template first (or make it with `tomopick simulate template \
                 --voxel-size {voxel_a}`)"
            ),
        ));
    }
    let (nz, ny, nx) = v.data.dim();
    if nz != ny || ny != nx {
        return Err(PickError::input(
            path,
            format!("template of {nx} × {ny} × {nz} voxels: a template must be a cube"),
        ));
    }
    if !v.data.iter().all(|s| s.is_finite()) || !v.data.iter().any(|&s| s > 0.0) {
        return Err(PickError::input(
            path,
            "template has no positive voxels or has NaN/infinite ones (protein must be positive)",
        ));
    }
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().trim_end_matches(".mrc").to_string())
        .unwrap_or_default();
    Ok(Template { name, data: v.data })
}

/// Matches the templates of `source` at each of `picks` (read from `list`) in `tomo` (`path`
/// names it); refuses picks outside the tomogram. `progress(done, total)` as it goes.
pub fn match_tomogram(
    tomo: TomoSource,
    path: &Path,
    picks: Vec<Particle>,
    list: &Path,
    source: &TemplateSource,
    opts: &TemplateMatchOptions,
    progress: impl Fn(usize, usize),
) -> Result<TemplateMatched> {
    crate::template_match::check_options(opts, path)?;
    let vs = tomo.voxel_size();
    let [x, y, z] = vs.as_array();
    if (y / x - 1.0).abs() > 0.01 || (z / x - 1.0).abs() > 0.01 {
        return Err(PickError::input(
            path,
            format!("voxel size {x} × {y} × {z} Å: template matching needs cubic voxels"),
        ));
    }
    check_picks_inside(&picks, tomo.shape_xyz(), vs, list, path)?;
    let templates = load_templates(source, x)?;
    let centres: Vec<[f64; 3]> = picks
        .iter()
        .map(|p| p.pos_a.to_voxels(vs).as_array())
        .collect();
    let least = least_reach(x)?;
    let scores = match_templates(&tomo, path, &centres, &templates, least, opts, progress)?;
    let particles = picks
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let (k, z) = scores.best(i);
            let mut q = p.clone();
            q.class = scores.classes[k].clone();
            q.score = Some(z as f64);
            q
        })
        .collect();
    Ok(TemplateMatched {
        input: picks,
        particles,
        scores,
    })
}

impl TemplateMatched {
    /// CSV: each pick's new class, position (Å), z-score, the class it came with, then every
    /// class's correlation (`cc_<class>`) and z-score (`z_<class>`).
    pub fn scores_csv(&self) -> String {
        let s = &self.scores;
        let mut text = score_header("class,x,y,z,score,input_class", &["cc_", "z_"], &s.classes);
        for (i, (p, q)) in self.input.iter().zip(&self.particles).enumerate() {
            // q is p with the matched class and z-score: the same position.
            score_row(
                &mut text,
                q,
                &format!(",{}", p.class),
                s.cc[i].iter().chain(&s.z[i]),
            );
        }
        text
    }

    /// Writes [`TemplateMatched::scores_csv`] to `path` (whole or not at all).
    pub fn write_scores_csv(&self, path: &Path) -> Result<()> {
        let text = self.scores_csv();
        Ok(write_atomic(path, |w| {
            std::io::Write::write_all(w, text.as_bytes())
        })?)
    }
}
