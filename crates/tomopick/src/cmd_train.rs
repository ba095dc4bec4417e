//! `tomopick train detector` and `tomopick train classifier`.

use crate::args::{AdaptArgs, TrainRunArgs};
use crate::args_match::{checked, template_look};
use crate::progress::progress;
use anyhow::Result;
use indicatif::ProgressBar;
use std::path::Path;
use tomopick_io::VoxelSize;
use tomopick_pick::TemplateMatchOptions;
use tomopick_pick::template_look::Follows;
use tomopick_train::{AdaptRequest, TrainEvent, TrainRun};

/// The library's run description of the arguments.
fn run_of(a: TrainRunArgs) -> TrainRun {
    TrainRun {
        config: a.config,
        output: a.output,
        resume: a.resume,
        steps: a.steps,
        cancel: None,
    }
}

/// Shows the events of the training run in folder `run`: a progress bar for the steps, log
/// lines for the rest.
fn show(pb: &mut Option<ProgressBar>, run: &Path, e: TrainEvent) {
    match e {
        TrainEvent::Started {
            step,
            steps,
            resumed,
            description,
        } => {
            if resumed {
                tracing::info!("resuming {} at step {step}", run.display());
            }
            tracing::info!("{description}");
            let bar = progress(steps, "training");
            bar.set_position(step);
            *pb = Some(bar);
        }
        TrainEvent::Step { step, message } => {
            if let Some(bar) = pb {
                bar.set_position(step);
                bar.set_message(message);
            }
        }
        TrainEvent::Note(line) => match pb {
            Some(bar) => bar.suspend(|| tracing::info!("{line}")),
            None => tracing::info!("{line}"),
        },
    }
}

pub fn train_detector(a: TrainRunArgs) -> Result<()> {
    let run = run_of(a);
    let mut pb = None;
    tomopick_train::train_detector(&run, &mut |e| show(&mut pb, &run.output, e))?;
    if let Some(bar) = pb {
        bar.finish_and_clear();
    }
    Ok(())
}

pub fn train_classifier(a: TrainRunArgs) -> Result<()> {
    let run = run_of(a);
    let mut pb = None;
    tomopick_train::train_classifier(&run, &mut |e| show(&mut pb, &run.output, e))?;
    if let Some(bar) = pb {
        bar.finish_and_clear();
    }
    Ok(())
}

/// `tomopick adapt`: one library call; prints where the adapted model is and how to use it.
pub fn adapt(a: AdaptArgs) -> Result<()> {
    let follows = if a.match_templates {
        Follows::OneTomogram
    } else {
        Follows::Nothing
    };
    let look = checked(template_look(&a.ctf, &a.hand), follows)?;
    let req = AdaptRequest {
        model: a.model,
        steps: a.steps,
        seed: a.seed,
        user_fraction: a.user_fraction,
        voxel_size: a.voxel_size.map(VoxelSize::isotropic),
        templates: a.match_templates.then(|| {
            TemplateMatchOptions::for_pick(a.tilt_max, a.template_rotations, look.ctf(), look.hand)
        }),
        labels: a.labels,
        classes: a.classes,
        ..AdaptRequest::new(a.tomograms, a.output)
    };
    let training = req.output.join("training");
    let mut pb = None;
    let model = tomopick_train::adapt_detector(&req, &mut |e| show(&mut pb, &training, e))?;
    if let Some(bar) = pb {
        bar.finish_and_clear();
    }
    println!("adapted model: {}", model.display());
    println!(
        "pick with: tomopick pick TOMOGRAM --model {} -o picks.star",
        model.display()
    );
    Ok(())
}
