//! The next training step's batch, made on another thread while this step trains.

use std::sync::Arc;
use std::thread::JoinHandle;

/// Batches by step, with at most one (the next step's) in the making.
pub(crate) struct Prefetch<T> {
    make: Arc<dyn Fn(u64) -> T + Send + Sync>,
    steps: u64,
    pending: Option<(u64, JoinHandle<T>)>,
}

impl<T: Send + 'static> Prefetch<T> {
    /// Batches made by `make(step)` for a run of `steps` steps (none is made ahead past it).
    pub fn new(steps: u64, make: impl Fn(u64) -> T + Send + Sync + 'static) -> Self {
        Prefetch {
            make: Arc::new(make),
            steps,
            pending: None,
        }
    }

    /// The batch of `step` (from the thread when it was started for this step, else made
    /// now), and the next step's batch started on another thread.
    pub fn next(&mut self, step: u64) -> T {
        let batch = match self.pending.take() {
            Some((s, handle)) if s == step => {
                handle.join().expect("the batch thread does not panic")
            }
            _ => (self.make)(step),
        };
        let following = step + 1;
        if following < self.steps {
            let make = self.make.clone();
            self.pending = Some((following, std::thread::spawn(move || make(following))));
        }
        batch
    }
}
