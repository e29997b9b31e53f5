//! One run, wired: scan usage and inventory, plan, prune (unless dry run), guard tags, alert,
//! report.

use ecr_warden_core::alert::alert_for;
use ecr_warden_core::guard::plan_guards;
use ecr_warden_core::inventory::Inventory;
use ecr_warden_core::plan::{Plan, plan};
use ecr_warden_core::policy::Policy;
use ecr_warden_core::report::{GuardReport, Mode, Report};
use ecr_warden_core::time::Timestamp;

use crate::act::{Deadline, apply_guards, prune};
use crate::aws::Clients;
use crate::aws::sns::Notifier;
use crate::inventory::{complete_inventory, list_managed};
use crate::sources::{ScanSettings, scan_usage};

/// Everything a run needs to know besides the clients.
#[derive(Debug, Clone)]
pub struct RunSettings {
    pub policy: Policy,
    pub scan: ScanSettings,
    /// When true, nothing is deleted whatever the mode.
    pub dry_run: bool,
    /// The region the clients talk to; with the account it tells our ECR references from others'.
    pub region: Option<String>,
    /// Tag every in-use digest with this prefix plus its first 12 hex digits (`GUARD_TAG_PREFIX`).
    pub guard_tag_prefix: Option<String>,
}

/// Scans, plans, prunes when `mode` is [`Mode::Prune`] and not dry run, alerts, and reports.
pub async fn run<N: Notifier>(
    aws: &Clients,
    notifier: Option<&N>,
    settings: &RunSettings,
    mode: Mode,
    context: Option<String>,
    now: Timestamp,
    deadline: &Deadline,
) -> Report {
    let (inventory, plan) = scan_and_plan(aws, settings, now).await;
    let deleting = mode == Mode::Prune && !settings.dry_run && !plan.is_withheld();
    let pruned = if deleting {
        Some(prune(&aws.ecr, &plan, &inventory, deadline).await)
    } else {
        None
    };
    let dry_run = settings.dry_run || mode != Mode::Prune;
    let mut report = Report::new(mode, dry_run, &plan, pruned.as_ref());
    report.context = context;
    if let Some(prefix) = &settings.guard_tag_prefix {
        let guards = plan_guards(&inventory, &plan, prefix);
        report.guard = Some(if dry_run {
            GuardReport::planned(&guards)
        } else {
            let deleted = pruned.map(|p| p.deleted).unwrap_or_default();
            apply_guards(&aws.ecr, &guards, &deleted).await
        });
    }
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
    send_alert(notifier, &mut report).await;
    report
}

/// Scans usage and inventory and plans, without acting.
pub async fn scan_and_plan(
    aws: &Clients,
    settings: &RunSettings,
    now: Timestamp,
) -> (Inventory, Plan) {
    // The managed repositories are listed while the usage sources scan (ECS mostly waits on its
    // rate limit); the images usage names elsewhere are looked up afterwards.
    let region = settings.region.as_deref();
    let concurrency = settings.scan.concurrency;
    let (mut usage, (mut inventory, mut gaps)) = futures_util::join!(
        scan_usage(aws, &settings.scan, now),
        list_managed(&aws.ecr, region, &settings.policy, concurrency),
    );
    complete_inventory(
        &aws.ecr,
        &mut inventory,
        &usage,
        region,
        concurrency,
        &mut gaps,
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
