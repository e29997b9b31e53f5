//! The run's deadline: a Lambda invocation ends at a fixed time (and the command line may be given
//! one), so the whole run works within it. The scan must end early enough to leave the reserve
//! twice over (planning and the first deletions, then the report and the alert); acting on a plan
//! stops starting new work when only the reserve remains, and the rest is left for the next run.

use std::future::Future;
use std::time::{Duration, Instant};

/// When the run must stop starting new work.
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    at: Option<Instant>,
    reserve: Duration,
}

impl Deadline {
    /// No time limit.
    pub fn none() -> Self {
        Deadline {
            at: None,
            reserve: Duration::ZERO,
        }
    }

    /// Stop starting work when less than `reserve` remains before `at`.
    pub fn at(at: Instant, reserve: Duration) -> Self {
        Deadline {
            at: Some(at),
            reserve,
        }
    }

    /// The whole run within `total` from now (`--deadline`), keeping a tenth of it, at most
    /// 20 seconds, as the reserve.
    pub fn within(total: Duration) -> Self {
        Deadline::at(
            Instant::now() + total,
            (total / 10).min(Duration::from_secs(20)),
        )
    }

    /// True while there is time for another batch.
    pub fn allows_another_batch(&self) -> bool {
        self.at
            .is_none_or(|at| at.saturating_duration_since(Instant::now()) > self.reserve)
    }

    /// How long the scan may still take, if there is a limit.
    pub fn scan_budget(&self) -> Option<Duration> {
        let at = self.at?;
        Some(
            at.saturating_duration_since(Instant::now())
                .saturating_sub(self.reserve * 2),
        )
    }

    /// Runs `work` unless only the reserve is left first; `None` when time ran out.
    pub async fn before_reserve<T>(&self, work: impl Future<Output = T>) -> Option<T> {
        match self.at {
            None => Some(work.await),
            Some(at) => {
                let stop = at.checked_sub(self.reserve).unwrap_or(at);
                tokio::time::timeout_at(stop.into(), work).await.ok()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_spent_deadline_allows_nothing_more() {
        let spent = Deadline::at(Instant::now(), Duration::from_secs(30));
        assert!(!spent.allows_another_batch());
        assert_eq!(spent.scan_budget(), Some(Duration::ZERO));
        assert_eq!(
            spent.before_reserve(std::future::pending::<()>()).await,
            None
        );
        let open = Deadline::none();
        assert!(open.allows_another_batch());
        assert_eq!(open.scan_budget(), None);
        assert_eq!(open.before_reserve(async { 7 }).await, Some(7));
    }

    #[test]
    fn the_command_line_keeps_a_tenth_at_most_twenty_seconds() {
        assert_eq!(
            Deadline::within(Duration::from_secs(60)).reserve,
            Duration::from_secs(6)
        );
        assert_eq!(
            Deadline::within(Duration::from_secs(3600)).reserve,
            Duration::from_secs(20)
        );
    }
}
