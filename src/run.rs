//! One run, wired: scan usage and inventory, plan, prune (unless dry run), alert, report.

use crate::alert::alert_for;
use crate::aws::ecr::EcrApi;
use crate::aws::ecs::EcsApi;
use crate::aws::lambda::LambdaApi;
use crate::aws::sns::Notifier;
use crate::inventory::Inventory;
use crate::plan::{Plan, plan};
use crate::policy::Policy;
use crate::prune::{Deadline, prune};
use crate::report::{Mode, Report};
use crate::scan::{ScanSettings, scan_inventory, scan_usage};
use crate::time::Timestamp;

/// The AWS services a run talks to.
pub struct Services<'a, E, R, L, N> {
    pub ecs: &'a E,
    pub ecr: &'a R,
    pub lambda: Option<&'a L>,
    pub notifier: Option<&'a N>,
}

/// Everything a run needs to know besides the services.
#[derive(Debug, Clone)]
pub struct RunSettings {
    pub policy: Policy,
    pub scan: ScanSettings,
    /// When true, nothing is deleted whatever the mode.
    pub dry_run: bool,
    /// The region the clients talk to; with the account it tells our ECR references from others'.
    pub region: Option<String>,
}

/// Scans, plans, prunes when `mode` is [`Mode::Prune`] and not dry run, alerts, and reports.
pub async fn run<E: EcsApi, R: EcrApi, L: LambdaApi, N: Notifier>(
    services: &Services<'_, E, R, L, N>,
    settings: &RunSettings,
    mode: Mode,
    context: Option<String>,
    now: Timestamp,
    deadline: &Deadline,
) -> Report {
    let (inventory, plan) = scan_and_plan(services, settings, now).await;
    let deleting = mode == Mode::Prune && !settings.dry_run && !plan.is_withheld();
    let pruned = if deleting {
        Some(prune(services.ecr, &plan, &inventory, deadline).await)
    } else {
        None
    };
    let dry_run = settings.dry_run || mode != Mode::Prune;
    let mut report = Report::new(mode, dry_run, &plan, pruned.as_ref());
    report.context = context;
    tracing::info!(
        mode = %mode,
        images = report.summary.images,
        protected = report.summary.protected,
        deletions = report.summary.planned_deletions,
        deleted = report.summary.deleted,
        missing = report.summary.missing,
        at_risk = report.summary.at_risk,
        scan_incomplete = report.scan_incomplete,
        "{}",
        report.headline()
    );
    send_alert(services.notifier, &mut report).await;
    report
}

/// Scans usage and inventory and plans, without acting.
pub async fn scan_and_plan<E: EcsApi, R: EcrApi, L: LambdaApi, N: Notifier>(
    services: &Services<'_, E, R, L, N>,
    settings: &RunSettings,
    now: Timestamp,
) -> (Inventory, Plan) {
    let mut usage = scan_usage(services.ecs, services.lambda, &settings.scan).await;
    let (inventory, gaps) = scan_inventory(
        services.ecr,
        settings.region.as_deref(),
        &settings.policy,
        &usage,
        settings.scan.concurrency,
    )
    .await;
    usage.gaps.extend(gaps);
    let plan = plan(&inventory, &usage, &settings.policy, now);
    (inventory, plan)
}

/// Publishes the report's alert, if it calls for one; without a notifier the alert is logged.
pub async fn send_alert<N: Notifier>(notifier: Option<&N>, report: &mut Report) {
    let Some(alert) = alert_for(report) else {
        return;
    };
    match notifier {
        Some(n) => {
            if let Err(e) = n.publish(&alert).await {
                tracing::error!(error = %e, "could not publish the alert");
                report.errors.push(format!("alert not sent: {e}"));
            }
        }
        None => {
            tracing::warn!(subject = %alert.subject, body = %alert.body, "alert (no SNS topic configured)")
        }
    }
}
