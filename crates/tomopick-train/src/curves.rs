//! `curve.csv` and `curve.png` of a run: losses on a log axis above, validation scores below.

use crate::error::Result;
use std::path::Path;
use tomopick_eval::plot::{Series, write_two_panel_png};
use tomopick_nn::classifier_train::{ClassifierCurveRow, write_classifier_curve_csv};
use tomopick_nn::train::{CurveRow, write_curve_csv};

/// The points of one column of a curve (rows where it is `None` left out).
fn points<R>(
    curve: &[R],
    step: impl Fn(&R) -> u64,
    f: impl Fn(&R) -> Option<f64>,
) -> Vec<(f64, f64)> {
    curve
        .iter()
        .filter_map(|r| f(r).map(|v| (step(r) as f64, v)))
        .collect()
}

/// The detector's curves: total, box, confidence and class loss; validation F1.
pub fn write_detector_curves(run: &Path, curve: &[CurveRow]) -> Result<()> {
    write_curve_csv(&run.join("curve.csv"), curve)?;
    let pts = |f: fn(&CurveRow) -> Option<f64>| points(curve, |r| r.step, f);
    let top = [
        Series {
            label: "total",
            points: pts(|r| Some(r.loss)),
        },
        Series {
            label: "box",
            points: pts(|r| Some(r.box_loss)),
        },
        Series {
            label: "confidence",
            points: pts(|r| Some(r.conf_loss)),
        },
        Series {
            label: "class",
            points: pts(|r| Some(r.class_loss)),
        },
    ];
    let f1 = [Series {
        label: "validation F1",
        points: pts(|r| r.val_f1),
    }];
    write_two_panel_png(
        &run.join("curve.png"),
        "step",
        ("loss per cube", &top),
        ("validation F1 (SHREC metric, class-agnostic)", &f1),
    )?;
    Ok(())
}

/// The classifier's curves: total, class and mask loss; batch and validation accuracy, mIoU.
pub fn write_classifier_curves(run: &Path, curve: &[ClassifierCurveRow]) -> Result<()> {
    write_classifier_curve_csv(&run.join("curve.csv"), curve)?;
    let pts = |f: fn(&ClassifierCurveRow) -> Option<f64>| points(curve, |r| r.step, f);
    let top = [
        Series {
            label: "total",
            points: pts(|r| Some(r.loss)),
        },
        Series {
            label: "class (NLL)",
            points: pts(|r| Some(r.class_loss)),
        },
        Series {
            label: "mask (BCE)",
            points: pts(|r| Some(r.seg_loss)),
        },
    ];
    let bottom = [
        Series {
            label: "batch accuracy",
            points: pts(|r| Some(r.accuracy)),
        },
        Series {
            label: "validation accuracy",
            points: pts(|r| r.val_accuracy),
        },
        Series {
            label: "validation mIoU",
            points: pts(|r| r.val_miou),
        },
    ];
    write_two_panel_png(
        &run.join("curve.png"),
        "step",
        ("loss", &top),
        ("accuracy and mIoU", &bottom),
    )?;
    Ok(())
}
