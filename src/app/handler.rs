//! The Lambda handler: one event in, one report out. The CLI's `invoke` runs the same code.

use serde_json::Value;

use ecr_warden_core::report::{Mode, Report};
use ecr_warden_core::time::Timestamp;

use super::config::Config;
use super::event::{Action, EventError, Trigger};
use super::incident::{check_retirement, diagnose_pull_failure};
use super::run::{RunSettings, run};
use crate::act::Deadline;
use crate::aws::Clients;
use crate::aws::sns::Notifier;

/// Handles one event. Only a scheduled `prune` (with `DRY_RUN=false`) can delete anything.
pub async fn handle<N: Notifier>(
    aws: &Clients,
    notifier: Option<&N>,
    config: &Config,
    region: Option<&str>,
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
            let settings = config.run_settings(region);
            run(aws, notifier, &settings, mode, Some(context), now, deadline).await
        }
        Trigger::Retirement(r) => {
            check_retirement(&aws.ecs, &aws.ecr, notifier, &r, region, now).await
        }
        Trigger::PullFailure(p) => diagnose_pull_failure(&aws.ecr, notifier, &p, region, now).await,
        Trigger::Ignored { reason } => {
            tracing::info!(%reason, "event ignored");
            Report::empty(Mode::Ignored, Some(reason))
        }
    };
    Ok(report)
}

impl Config {
    /// The settings of a scheduled or command-line run in this region.
    pub fn run_settings(&self, region: Option<&str>) -> RunSettings {
        RunSettings {
            policy: self.policy.clone(),
            scan: self.scan.clone(),
            dry_run: self.dry_run,
            region: region.map(str::to_string),
            guard_tag_prefix: self.guard_tag_prefix.clone(),
        }
    }
}
