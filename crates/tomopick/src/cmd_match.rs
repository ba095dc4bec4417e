//! `tomopick match-templates`.

use crate::args_match::{MatchTemplatesArgs, checked, template_look};
use crate::cmd_pick::print_counts;
use crate::progress::{advance, progress};
use anyhow::Result;
use tomopick_io::atomic::check_writable;
use tomopick_io::{ListContext, ListFormat, VoxelSize, read_particles, write_particles};
use tomopick_pick::template_look::Follows;
use tomopick_pick::template_match::parse_protein;
use tomopick_pick::{TemplateMatchOptions, TemplateSource, TomoSource, match_tomogram};

pub fn match_templates_cmd(a: MatchTemplatesArgs) -> Result<()> {
    let look = checked(template_look(&a.ctf, &a.hand), Follows::OneTomogram)?;
    check_writable(&a.output)?;
    let Some(format) = ListFormat::from_path(&a.output) else {
        anyhow::bail!(
            "{}: cannot tell the list format from the extension (.csv, .star, .json, .txt)",
            a.output.display()
        );
    };
    let Some(protein_bright) = parse_protein(&a.protein) else {
        anyhow::bail!("--protein {}: expected dark, bright or auto", a.protein);
    };
    let opts = TemplateMatchOptions {
        rotations: a.rotations,
        seed: a.seed,
        lowpass_a: a.lowpass,
        highpass_a: a.highpass,
        tilt_max_deg: tomopick_pick::missing_wedge(a.tilt_max),
        shift_vox: a.shift,
        protein_bright,
        whiten: a.whiten,
        refine: a.refine,
        background: a.background,
        naming_exponent: a.naming_exponent,
        ctf: look.ctf(),
        hand: look.hand,
    };
    let source = match &a.templates {
        Some(paths) => TemplateSource::files(paths)?,
        None => TemplateSource::simulated(a.classes),
    };
    if let Some(ctf) = &opts.ctf {
        tracing::info!(
            "templates given the CTF at {:.2} µm underfocus ({}; first zero at {:.0} Å)",
            ctf.params.defocus_a / 1e4,
            if ctf.phase_flipped {
                "phase-flipped: no sign changes"
            } else {
                "bands past it inverted"
            },
            ctf.first_zero_a().unwrap_or(f64::NAN)
        );
    }
    let tomo = TomoSource::open(&a.tomogram, a.voxel_size.map(VoxelSize::isotropic))?;
    let ctx = ListContext {
        voxel_size: Some(tomo.voxel_size()),
        ..Default::default()
    };
    let picks = read_particles(&a.picks, None, &ctx)?;
    let pb = progress(picks.len() as u64, "picks");
    let m = match_tomogram(
        tomo,
        &a.tomogram,
        picks,
        &a.picks,
        &source,
        &opts,
        advance(&pb),
    )?;
    pb.finish_and_clear();
    tracing::info!(
        "protein taken as {} than ice; boxes of {}³ voxels",
        if m.scores.protein_bright {
            "brighter"
        } else {
            "darker"
        },
        m.scores.box_size
    );
    if let Some(h) = m.scores.hand_note() {
        tracing::info!("{h}");
    }
    match format {
        ListFormat::Csv => m.write_scores_csv(&a.output)?,
        f => write_particles(&a.output, f, &m.particles, &ctx)?,
    }
    print_counts(&m.particles);
    tracing::info!("wrote {}", a.output.display());
    Ok(())
}
