//! The Lambda handler: one event in, one report out. The CLI's `invoke` runs the same code.

use serde_json::Value;

use crate::aws::ecr::EcrApi;
use crate::aws::ecs::EcsApi;
use crate::aws::lambda::LambdaApi;
use crate::aws::sns::Notifier;
use crate::config::Config;
use crate::event::{Action, EventError, Trigger};
use crate::incident::{check_retirement, diagnose_pull_failure};
use crate::prune::Deadline;
use crate::report::{Mode, Report};
use crate::run::{RunSettings, Services, run};
use crate::time::Timestamp;

/// Handles one event. Only a scheduled `prune` (with `DRY_RUN=false`) can delete anything.
pub async fn handle<E: EcsApi, R: EcrApi, L: LambdaApi, N: Notifier>(
    services: &Services<'_, E, R, L, N>,
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
            let settings = RunSettings {
                policy: config.policy.clone(),
                scan: config.scan.clone(),
                dry_run: config.dry_run,
                region: region.map(str::to_string),
                guard_tag_prefix: config.guard_tag_prefix.clone(),
            };
            run(services, &settings, mode, Some(context), now, deadline).await
        }
        Trigger::Retirement(r) => {
            check_retirement(
                services.ecs,
                services.ecr,
                services.notifier,
                &r,
                region,
                now,
            )
            .await
        }
        Trigger::PullFailure(p) => {
            diagnose_pull_failure(services.ecr, services.notifier, &p, region, now).await
        }
        Trigger::Ignored { reason } => {
            tracing::info!(%reason, "event ignored");
            Report::empty(Mode::Ignored, Some(reason))
        }
    };
    Ok(report)
}

/// One CloudWatch Embedded Metric Format line with the run's counts.
pub fn metrics_line(report: &Report, now: Timestamp) -> String {
    let s = &report.summary;
    serde_json::json!({
        "_aws": {
            "Timestamp": now.0 * 1000,
            "CloudWatchMetrics": [{
                "Namespace": "ecr-warden",
                "Dimensions": [["Mode"]],
                "Metrics": [
                    {"Name": "ImagesScanned", "Unit": "Count"},
                    {"Name": "ImagesProtected", "Unit": "Count"},
                    {"Name": "ImagesDeleted", "Unit": "Count"},
                    {"Name": "ImagesMissing", "Unit": "Count"},
                    {"Name": "DigestsAtRisk", "Unit": "Count"},
                    {"Name": "ScanIncomplete", "Unit": "Count"}
                ]
            }]
        },
        "Mode": report.mode,
        "ImagesScanned": s.images,
        "ImagesProtected": s.protected,
        "ImagesDeleted": s.deleted,
        "ImagesMissing": s.missing,
        "DigestsAtRisk": s.at_risk,
        "ScanIncomplete": u8::from(report.scan_incomplete),
    })
    .to_string()
}
