//! One run end to end: scan and plan ([`plan`]), act on each registry (prune, guard tags),
//! report, and alert.

mod overtime;
mod plan;
mod settings;

use ecr_warden_core::alert::alert_for;
use ecr_warden_core::guard::plan_guards;
use ecr_warden_core::report::{GuardReport, Mode, Report};
use ecr_warden_core::time::Timestamp;

pub use plan::scan_and_plan;
pub use settings::{Planned, RunSettings};

use crate::act::{Deadline, apply_guards, prune};
use crate::aws::sns::Notifier;
use crate::scopes::Scopes;

/// Scans, plans, prunes when `mode` is [`Mode::Prune`] and not dry run, alerts, and reports.
pub async fn run<N: Notifier>(
    scopes: &Scopes,
    notifier: Option<&N>,
    settings: &RunSettings,
    mode: Mode,
    context: Option<String>,
    now: Timestamp,
    deadline: &Deadline,
) -> Report {
    let scanned = Scanned::of(scopes, settings, now, deadline).await;
    finish(scanned, notifier, settings, mode, context, deadline).await
}

/// Every registry of a run, scanned and planned, and how long that took.
pub struct Scanned<'a> {
    pub planned: Vec<Planned<'a>>,
    pub seconds: u64,
}

impl<'a> Scanned<'a> {
    /// Scans and plans every registry of the scopes.
    pub async fn of(
        scopes: &'a Scopes,
        settings: &RunSettings,
        now: Timestamp,
        deadline: &Deadline,
    ) -> Scanned<'a> {
        let started = std::time::Instant::now();
        let planned = scan_and_plan(scopes, settings, now, deadline).await;
        let seconds = started.elapsed().as_secs();
        Scanned { planned, seconds }
    }

    /// The plan as a report, before anything is done (what a prune asks to confirm).
    pub fn preview(&self, settings: &RunSettings, context: Option<String>) -> Report {
        let parts = (self.planned.iter())
            .map(|p| {
                let report = Report::new(Mode::Plan, true, &p.plan, None);
                (p.scope.origin.region.clone(), report)
            })
            .collect();
        let mut report = Report::combine(parts);
        report.mode = Mode::Plan;
        report.context = context;
        report.add_storage(settings.storage_price);
        report.scan_seconds = self.seconds;
        report
    }
}

/// Acts on the plans (prunes when `mode` is [`Mode::Prune`] and not dry run), alerts, and
/// reports.
pub async fn finish<N: Notifier>(
    scanned: Scanned<'_>,
    notifier: Option<&N>,
    settings: &RunSettings,
    mode: Mode,
    context: Option<String>,
    deadline: &Deadline,
) -> Report {
    let mut parts = Vec::new();
    for p in scanned.planned {
        let report = act(&p, settings, mode, deadline).await;
        parts.push((p.scope.origin.region.clone(), report));
    }
    let mut report = Report::combine(parts);
    report.mode = mode;
    report.context = context;
    report.add_storage(settings.storage_price);
    report.scan_seconds = scanned.seconds;
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

/// Prunes one registry as its plan says (in `prune` mode, not a dry run), and applies guard tags.
async fn act(p: &Planned<'_>, settings: &RunSettings, mode: Mode, deadline: &Deadline) -> Report {
    let ecr = &p.scope.clients.ecr;
    let deleting = mode == Mode::Prune && !settings.dry_run && !p.plan.is_withheld();
    let pruned = if deleting {
        Some(prune(ecr, &p.plan, &p.inventory, deadline).await)
    } else {
        None
    };
    let dry_run = settings.dry_run || mode != Mode::Prune;
    let mut report = Report::new(mode, dry_run, &p.plan, pruned.as_ref());
    if let Some(prefix) = &settings.guard_tag_prefix {
        let guards = plan_guards(&p.inventory, &p.plan, prefix);
        report.guard = Some(if dry_run {
            GuardReport::planned(&guards)
        } else {
            let deleted = pruned.map(|p| p.deleted).unwrap_or_default();
            apply_guards(ecr, &guards, &deleted, deadline).await
        });
    }
    report
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
            tracing::debug!(subject = %alert.subject, "alert not published");
            report.notes.push(format!(
                "alert not published: {} (it goes to SNS_TOPIC_ARN; from the command line only with --alert)",
                alert.subject
            ));
        }
    }
}
