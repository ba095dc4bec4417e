//! The `tomopick` command line: each command parses its arguments, calls one library function
//! (in `tomopick-pick`, `tomopick-sim`, `tomopick-train`, `tomopick-eval`, `tomopick-io`) and
//! prints what it did.

mod args;
mod args_files;
mod args_match;
mod args_pick;
mod cmd_calibrate;
mod cmd_classify;
mod cmd_convert;
mod cmd_demo;
mod cmd_evaluate;
mod cmd_info;
mod cmd_match;
mod cmd_pick;
mod cmd_pick_dataset;
mod cmd_simulate;
mod cmd_train;
mod progress;

use clap::Parser;
use std::io::IsTerminal;
use std::process::ExitCode;

/// A closed pipe (`tomopick evaluate … | head -1`) ends the process quietly, as it ends any
/// Unix tool. Rust ignores SIGPIPE by default, so the next print would fail and panic instead.
#[cfg(unix)]
fn quiet_on_closed_pipe() {
    // SAFETY: called first thing in main, before any other thread exists; SIG_DFL is a valid
    // disposition for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Freed memory stays in the process for the next tile or step instead of going back to the
/// system: glibc hands each buffer of more than 32 MB (a network layer's activations) out as a
/// fresh mapping and unmaps it on free, so every layer of every tile paid page faults and
/// zeroing (12 % of a pick in the kernel's page-fault paths). Peak memory grows by the largest
/// buffers kept (about 80 MB on a SHREC-size pick); BENCHMARKS.md has the timings. A user who
/// tunes glibc's allocator (`GLIBC_TUNABLES`, `MALLOC_MMAP_THRESHOLD_`, `MALLOC_TRIM_THRESHOLD_`,
/// `MALLOC_TOP_PAD_`) keeps their settings.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn keep_freed_memory() {
    let tuned = [
        "GLIBC_TUNABLES",
        "MALLOC_MMAP_THRESHOLD_",
        "MALLOC_TRIM_THRESHOLD_",
        "MALLOC_TOP_PAD_",
    ];
    if tuned.iter().any(|v| std::env::var_os(v).is_some()) {
        return;
    }
    // SAFETY: mallopt only sets allocator parameters; called first thing in main, before any
    // other thread allocates. A refused value leaves glibc's default.
    unsafe {
        if libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 30) == 0 {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        }
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
        libc::mallopt(libc::M_TOP_PAD, 64 << 20);
    }
}

fn main() -> ExitCode {
    #[cfg(unix)]
    quiet_on_closed_pipe();
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    keep_freed_memory();
    let cli = args::Cli::parse();
    let level = match (cli.quiet, cli.verbose) {
        (true, _) => "error",
        (false, 0) => "info",
        (false, 1) => "debug",
        _ => "trace",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TOMOPICK_LOG")
                .unwrap_or_else(|_| level.into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .without_time()
        .init();
    let result = match cli.command {
        args::Command::Info(a) => cmd_info::info(a),
        args::Command::Validate(a) => cmd_info::validate(a),
        args::Command::Convert(a) => cmd_convert::convert(a),
        args::Command::Evaluate(a) => cmd_evaluate::evaluate(a),
        args::Command::Simulate(args::SimulateCommand::Subtomograms(a)) => {
            cmd_simulate::subtomograms(a)
        }
        args::Command::Simulate(args::SimulateCommand::Tomogram(a)) => cmd_simulate::tomogram(a),
        args::Command::Simulate(args::SimulateCommand::Template(a)) => cmd_simulate::template(a),
        args::Command::Demo(a) => cmd_demo::demo(a),
        args::Command::Pick(a) => cmd_pick::pick_cmd(*a),
        args::Command::Adapt(a) => cmd_train::adapt(a),
        args::Command::Train(args::TrainCommand::Detector(a)) => cmd_train::train_detector(a),
        args::Command::Train(args::TrainCommand::Classifier(a)) => cmd_train::train_classifier(a),
        args::Command::Calibrate(a) => cmd_calibrate::calibrate_cmd(a),
        args::Command::Classify(a) => cmd_classify::classify_cmd(a),
        args::Command::MatchTemplates(a) => cmd_match::match_templates_cmd(a),
        args::Command::EvaluateClassifier(a) => cmd_classify::evaluate_classifier_cmd(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
