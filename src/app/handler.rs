//! The Lambda handler: one event in, one report out. The CLI's `invoke` runs the same code.

use serde_json::Value;

use ecr_warden_core::report::{Mode, Report};
use ecr_warden_core::time::Timestamp;

use super::config::Config;
use super::event::{Action, EventError, Trigger};
use super::incident::{check_retirement, diagnose_pull_failure};
use super::run::{RunSettings, run};
use crate::act::Deadline;
use crate::aws::sns::Notifier;
use crate::limit::Limiter;
use crate::scopes::Scopes;

/// Handles one event. Only a scheduled `prune` (with `DRY_RUN=false`) can delete anything.
pub async fn handle<N: Notifier>(
    scopes: &Scopes,
    notifier: Option<&N>,
    config: &Config,
    event: &Value,
    now: Timestamp,
    deadline: &Deadline,
) -> Result<Report, EventError> {
    let report = match Trigger::parse(event)? {
        Trigger::Run { action, context } => {
            let mode = match action {
                Action::Prune => Mode::Prune,
                Action::Plan => Mode::Plan,
                Action::Check => Mode::Check,
            };
            let settings = config.run_settings();
            run(
                scopes,
                notifier,
                &settings,
                mode,
                Some(context),
                now,
                deadline,
            )
            .await
        }
        Trigger::Retirement(r) => {
            let limit = Limiter::with_ecs_rate(
                config.scan.concurrency,
                config.scan.ecs_requests_per_second,
            );
            check_retirement(scopes, notifier, &limit, &r, now).await
        }
        Trigger::PullFailure(p) => diagnose_pull_failure(scopes, notifier, &p, now).await,
        Trigger::Ignored { reason } => {
            tracing::info!(%reason, "event ignored");
            Report::empty(Mode::Ignored, Some(reason))
        }
    };
    Ok(report)
}

impl Config {
    /// The settings of a scheduled or command-line run.
    pub fn run_settings(&self) -> RunSettings {
        RunSettings {
            policy: self.policy.clone(),
            scan: self.scan.clone(),
            dry_run: self.dry_run,
            guard_tag_prefix: self.guard_tag_prefix.clone(),
            cache: self.cache.clone(),
            memory_limit_mb: self.memory_limit_mb,
        }
    }
}
