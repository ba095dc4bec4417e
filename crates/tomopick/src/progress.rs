//! Progress bars on stderr (hidden when stderr is not a terminal), fed by the library's
//! callbacks.

use indicatif::{ProgressBar, ProgressStyle};

/// A progress bar of `n` steps of `what`.
pub fn progress(n: u64, what: &str) -> ProgressBar {
    let pb = ProgressBar::new(n);
    pb.set_style(
        ProgressStyle::with_template(
            "{msg} {bar:40} {pos}/{len} [{elapsed_precise} < {eta}] {per_sec}",
        )
        .expect("valid template"),
    );
    pb.set_message(what.to_string());
    pb
}

/// A `progress(done, total)` callback that moves `pb` (its length comes from the calls).
pub fn advance(pb: &ProgressBar) -> impl Fn(usize, usize) + Sync + '_ {
    move |done, total| {
        pb.set_length(total as u64);
        pb.set_position(done as u64);
    }
}
