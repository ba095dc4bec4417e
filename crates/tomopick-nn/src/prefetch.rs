//! The next training step's batch, made on another thread while this step trains.

use std::thread::JoinHandle;

/// At most one batch in the making, labelled with its step.
pub(crate) struct Prefetch<T> {
    pending: Option<(u64, JoinHandle<T>)>,
}

impl<T: Send + 'static> Prefetch<T> {
    /// Nothing in the making.
    pub fn new() -> Self {
        Prefetch { pending: None }
    }

    /// The batch of `step` when it is the one in the making (waits for it); `None` otherwise.
    pub fn take(&mut self, step: u64) -> Option<T> {
        match self.pending.take() {
            Some((s, handle)) if s == step => {
                Some(handle.join().expect("the batch thread does not panic"))
            }
            _ => None,
        }
    }

    /// Starts making the batch of `step`.
    pub fn start(&mut self, step: u64, make: impl FnOnce() -> T + Send + 'static) {
        self.pending = Some((step, std::thread::spawn(make)));
    }
}
