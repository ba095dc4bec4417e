//! The whole pick of one tomogram file: open (streamed when it can be), check, resample to the
//! model's voxel size, standardise, tile, detect, suppress, and optionally refine the classes.

use crate::class_scores::ClassScores;
use crate::error::{PickError, Result};
use crate::picker::{PickOptions, pick, to_particles};
use crate::refine::{Refinement, check_refines, refine_classes};
use crate::source::{TomoSource, VOXEL_SIZE_TOLERANCE, describe, voxel_size_mismatch};
use crate::template_match::{TemplateMatchOptions, TemplateScores, check_options, match_templates};
use crate::template_tomogram::{TemplateSource, least_reach, load_templates};
use std::path::Path;
use tomopick_io::volume::standard_scale;
use tomopick_io::{Particle, VolumeFormat, VoxelSize};
use tomopick_nn::{ClassifierModel, DetectorModel};

/// How to pick: the models and the options that do not change between tomograms.
pub struct PickRequest<'a> {
    /// The detector.
    pub detector: &'a DetectorModel,
    /// A classifier whose class each pick takes (`--refine-classes`); picks it calls membrane
    /// are dropped.
    pub classifier: Option<&'a ClassifierModel>,
    /// Thresholds, tile size, NMS.
    pub options: PickOptions,
    /// Overrides the header's voxel size.
    pub voxel_size: Option<VoxelSize>,
    /// Keep the whole (resampled) volume in memory for the caller (a preview); otherwise an MRC
    /// file is streamed tile by tile.
    pub keep_volume: bool,
    /// Set from another thread (Ctrl-C in Python, say) to stop the pick before its next tile
    /// with [`PickError::Cancelled`].
    pub cancel: Option<&'a std::sync::atomic::AtomicBool>,
    /// Name each pick's class by template matching (`--match-templates`): templates of the
    /// detector's classes (shipped structures) simulated at the grid's voxel size.
    pub templates: Option<TemplateMatchOptions>,
}

/// One tomogram picked.
pub struct Picked {
    /// The picks, positions in Å in the tomogram's own frame, `tomogram` unset.
    pub picks: Vec<Particle>,
    /// The tomogram's own voxel size (pixel-based lists count these voxels).
    pub voxel_size: VoxelSize,
    /// The tomogram's size in its own voxels `[x, y, z]`.
    pub shape_xyz: [usize; 3],
    /// The grid the network saw: the model's voxel size when the tomogram was resampled.
    pub grid_voxel_size: VoxelSize,
    /// When resampled: a sentence saying from what to what.
    pub resampled: Option<String>,
    /// What `--refine-classes` did.
    pub refinement: Option<Refinement>,
    /// How many picks `--match-templates` gave another class.
    pub template_changes: Option<usize>,
    /// Every class's scores at each pick (the detector's, and template matching's when it
    /// ran), in the order of `picks`.
    pub class_scores: ClassScores,
    /// The (resampled) tomogram, in memory when [`PickRequest::keep_volume`] asked for it.
    pub source: TomoSource,
}

impl Picked {
    /// What template matching found about the tomogram's hand, for the log (`None` without
    /// template matching, or when the hand was taken as it is without a check).
    pub fn hand_note(&self) -> Option<String> {
        self.class_scores.templates.as_ref()?.hand_note()
    }
}

impl PickRequest<'_> {
    /// Refuses options out of range and a classifier that cannot refine this detector
    /// (`classifier_path` names it; `None`: the embedded default). Check once, before a batch.
    pub fn check(&self, classifier_path: Option<&Path>) -> Result<()> {
        let o = &self.options;
        if !(0.0..1.0).contains(&o.threshold) {
            return Err(PickError::Option(format!(
                "--threshold {}: must be in [0, 1)",
                o.threshold
            )));
        }
        if o.max_tile < 32 {
            return Err(PickError::Option(format!(
                "--tile {}: must be at least 32 voxels",
                o.max_tile
            )));
        }
        if let Some(c) = self.classifier {
            check_refines(c, &self.detector.config.classes, classifier_path)?;
            if self.templates.is_some() {
                return Err(PickError::Option(
                    "--refine-classes and --match-templates: choose one way to name the classes"
                        .into(),
                ));
            }
        }
        if let Some(o) = &self.templates {
            check_options(o, Path::new("--match-templates"))?;
        }
        Ok(())
    }
}

/// Refuses a tomogram whose voxel size is more than 10 % from `want` Å (for models that read
/// boxes at the tomogram's own voxel size).
pub fn check_voxel_size(want: f64, vs: VoxelSize, tomo: &Path) -> Result<()> {
    if voxel_size_mismatch(want, vs) > VOXEL_SIZE_TOLERANCE {
        return Err(PickError::input(
            tomo,
            format!(
                "voxel size {}, but the model was trained at {want} Å. Bin or rescale the \
                 tomogram to {want} Å (e.g. IMOD binvol), or pass --voxel-size if the header is wrong",
                describe(vs)
            ),
        ));
    }
    Ok(())
}

/// Refuses volumes too thin to pick (under 16 voxels on an axis).
fn check_shape(shape_xyz: [usize; 3], path: &Path) -> Result<()> {
    if shape_xyz.iter().any(|&n| n < 16) {
        return Err(PickError::input(
            path,
            format!(
                "{shape_xyz:?} voxels (x, y, z) is too small to pick; each axis needs at least 16"
            ),
        ));
    }
    Ok(())
}

/// Picks the tomogram at `path` (MRC, gzip MRC, TIFF, OME-Zarr); `progress(done, total)` after
/// each tile. Every check (voxel size, shape, NaN voxels) runs before the network does.
pub fn pick_tomogram(
    path: &Path,
    req: &PickRequest<'_>,
    progress: impl Fn(usize, usize) + Sync,
) -> Result<Picked> {
    let streamed = VolumeFormat::from_path(path) == VolumeFormat::Mrc && !req.keep_volume;
    let tomo = if streamed {
        TomoSource::open(path, req.voxel_size)?
    } else {
        TomoSource::load(path, req.voxel_size)?
    };
    pick_source(tomo, path, req, progress)
}

/// Picks an opened tomogram (a file, or a volume in memory: `TomoSource::Memory`); `path` names
/// it in errors. As [`pick_tomogram`] after opening: every check runs before the network does.
pub fn pick_source(
    tomo: TomoSource,
    path: &Path,
    req: &PickRequest<'_>,
    progress: impl Fn(usize, usize) + Sync,
) -> Result<Picked> {
    let model = req.detector;
    let (tomo_vs, tomo_shape) = (tomo.voxel_size(), tomo.shape_xyz());
    let rescale = tomo.rescaler_for(model.config.voxel_size_a, path)?;
    let (vs, shape) = match &rescale {
        Some(r) => (r.voxel_size(), r.shape_xyz()),
        None => (tomo_vs, tomo_shape),
    };
    if let Some(c) = req.classifier {
        check_voxel_size(c.config.voxel_size_a, vs, path)?;
    }
    check_shape(shape, path)?;
    let stats = tomo.stats()?;
    let bad = stats.nan + stats.inf;
    if bad > 0 {
        return Err(PickError::input(
            path,
            format!(
                "{bad} voxels are NaN or infinite; fix the tomogram first (`tomopick validate` shows them)"
            ),
        ));
    }
    let (source, stats, resampled) = match rescale {
        Some(r) => {
            let said = tomo.rescale_note(&r);
            let s = tomo.rescaled(r);
            // Standardised as the network saw its training cubes: on the grid it picks.
            let st = s.stats()?;
            (s, st, Some(said))
        }
        None => (tomo, stats, None),
    };
    let (mean, inv) = (stats.mean as f32, standard_scale(stats.rms));
    let dets = pick(
        model,
        shape,
        &req.options,
        |origin, size| {
            if req
                .cancel
                .is_some_and(|c| c.load(std::sync::atomic::Ordering::Relaxed))
            {
                return Err(PickError::Cancelled);
            }
            source.block(origin, size, |v| (v - mean) * inv)
        },
        progress,
    )?;
    let mut picks = to_particles(&dets, model, vs);
    let mut class_scores = ClassScores {
        classes: model.config.classes.clone(),
        detector: dets.into_iter().map(|d| d.class_probabilities).collect(),
        templates: None,
    };
    // The classes a pick may be named: those the sample holds (`--classes`), or all.
    let named: Vec<String> = match &req.options.classes {
        Some(idx) => idx
            .iter()
            .map(|&i| model.config.classes[i].clone())
            .collect(),
        None => model.config.classes.clone(),
    };
    let mut refinement = None;
    if let Some(c) = req.classifier {
        let (p, r) = refine_classes(picks, c, &source, path, &named)?;
        picks = p;
        refinement = Some(r);
    }
    let mut template_changes = None;
    if let Some(o) = &req.templates {
        let (changed, scores) =
            rename_by_templates(&mut picks, &model.config.classes, &named, &source, path, o)?;
        template_changes = Some(changed);
        class_scores.templates = Some(scores);
    }
    Ok(Picked {
        picks,
        voxel_size: tomo_vs,
        shape_xyz: tomo_shape,
        grid_voxel_size: vs,
        resampled,
        refinement,
        template_changes,
        class_scores,
        source,
    })
}

/// Gives each pick the class that template matching names among `named` (the detector's
/// classes, or those the sample holds: only those are matched, at the grid's voxel size);
/// returns how many changed, and the scores laid out over all the detector's `classes` (NaN for
/// a class not matched).
fn rename_by_templates(
    picks: &mut [Particle],
    classes: &[String],
    named: &[String],
    source: &TomoSource,
    path: &Path,
    opts: &TemplateMatchOptions,
) -> Result<(usize, TemplateScores)> {
    let vs = source.voxel_size();
    let templates = load_templates(&TemplateSource::Simulated(named.to_vec()), vs.as_array()[0])?;
    let least = least_reach(vs.as_array()[0])?;
    let centres: Vec<[f64; 3]> = picks
        .iter()
        .map(|p| p.pos_a.to_voxels(vs).as_array())
        .collect();
    let scores = match_templates(source, path, &centres, &templates, least, opts, |_, _| {})?;
    let mut changed = 0;
    for (i, p) in picks.iter_mut().enumerate() {
        let name = &scores.classes[scores.best(i).0];
        if &p.class != name {
            p.class = name.clone();
            changed += 1;
        }
    }
    Ok((changed, scores.over(classes)))
}
