//! The run's deadline: a Lambda invocation ends at a fixed time, so acting on a plan stops starting
//! new work when too little time remains, and the rest is left for the next run.

use std::time::{Duration, Instant};

/// When the run must stop starting new deletion batches.
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    at: Option<Instant>,
    reserve: Duration,
}

impl Deadline {
    /// No time limit (the CLI).
    pub fn none() -> Self {
        Deadline {
            at: None,
            reserve: Duration::ZERO,
        }
    }

    /// Stop starting batches when less than `reserve` remains before `at`.
    pub fn at(at: Instant, reserve: Duration) -> Self {
        Deadline {
            at: Some(at),
            reserve,
        }
    }

    /// True while there is time for another batch.
    pub fn allows_another_batch(&self) -> bool {
        self.at
            .is_none_or(|at| at.saturating_duration_since(Instant::now()) > self.reserve)
    }
}
