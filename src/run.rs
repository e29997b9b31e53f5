//! One run, wired: scan usage and inventory, plan, prune (unless dry run), alert, report.

use std::collections::BTreeMap;

use crate::alert::alert_for;
use crate::aws::ecr::EcrApi;
use crate::aws::ecr::{IMAGE_ID_BATCH, ImageId};
use crate::aws::ecs::EcsApi;
use crate::aws::lambda::LambdaApi;
use crate::aws::sns::Notifier;
use crate::guard::{GuardPlan, GuardTag, plan_guards};
use crate::inventory::Inventory;
use crate::plan::{Plan, plan};
use crate::policy::Policy;
use crate::prune::{Deadline, prune};
use crate::report::GuardReport;
use crate::report::{Mode, Report};
use crate::scan::{ScanSettings, complete_inventory, list_managed, scan_usage};
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
    /// Tag every in-use digest with this prefix plus its first 12 hex digits (`GUARD_TAG_PREFIX`).
    pub guard_tag_prefix: Option<String>,
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
    if let Some(prefix) = &settings.guard_tag_prefix {
        let guards = plan_guards(&inventory, &plan, prefix);
        let applied = if dry_run {
            GuardReport::planned(&guards)
        } else {
            let deleted: Vec<(String, crate::Digest)> = pruned
                .as_ref()
                .map(|p| p.deleted.clone())
                .unwrap_or_default();
            apply_guards(services.ecr, &guards, &deleted).await
        };
        report.guard = Some(applied);
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
    send_alert(services.notifier, &mut report).await;
    report
}

/// Adds and removes guard tags as planned, skipping images that were just deleted. A guard tag is
/// removed only after re-reading that the image still carries another tag.
pub async fn apply_guards<R: EcrApi>(
    ecr: &R,
    guards: &GuardPlan,
    deleted: &[(String, crate::Digest)],
) -> GuardReport {
    let mut out = GuardReport {
        stale_guard: guards.stale.clone(),
        ..GuardReport::default()
    };
    let mut by_repo: BTreeMap<&str, Vec<&GuardTag>> = BTreeMap::new();
    for g in &guards.add {
        by_repo.entry(&g.repository).or_default().push(g);
    }
    for (repo, tags) in by_repo {
        for batch in tags.chunks(IMAGE_ID_BATCH) {
            let digests: Vec<crate::Digest> = batch.iter().map(|g| g.digest).collect();
            let manifests = match ecr.manifests(repo, &digests).await {
                Ok(m) => m,
                Err(e) => {
                    out.failures.push(e.to_string());
                    continue;
                }
            };
            for g in batch {
                let Some(m) = manifests.iter().find(|m| m.digest == g.digest) else {
                    out.failures
                        .push(format!("{repo}@{}: manifest not returned", g.digest));
                    continue;
                };
                match ecr.put_tag(repo, m, &g.tag).await {
                    Ok(()) => out.added.push((*g).clone()),
                    Err(e) => out.failures.push(e.to_string()),
                }
            }
        }
    }
    for g in &guards.remove {
        if deleted
            .iter()
            .any(|(r, d)| *r == g.repository && *d == g.digest)
        {
            continue;
        }
        // Re-read: remove the tag only if it still sits on that image next to another tag.
        let now = ecr
            .find_images(&g.repository, &[ImageId::Tag(g.tag.clone())])
            .await;
        match now {
            Ok(Some(images)) => match images.iter().find(|i| i.digest == g.digest) {
                Some(image) if image.tags.len() > 1 => match ecr.untag(&g.repository, &g.tag).await
                {
                    Ok(()) => out.removed.push(g.clone()),
                    Err(e) => out.failures.push(e.to_string()),
                },
                Some(_) => out.stale_guard.push(g.clone()),
                None => {}
            },
            Ok(None) => {}
            Err(e) => out.failures.push(e.to_string()),
        }
    }
    out
}

/// Scans usage and inventory and plans, without acting.
pub async fn scan_and_plan<E: EcsApi, R: EcrApi, L: LambdaApi, N: Notifier>(
    services: &Services<'_, E, R, L, N>,
    settings: &RunSettings,
    now: Timestamp,
) -> (Inventory, Plan) {
    // The managed repositories are listed while ECS and Lambda are scanned (the ECS scan mostly
    // waits on its rate limit); the images usage names elsewhere are looked up afterwards.
    let region = settings.region.as_deref();
    let concurrency = settings.scan.concurrency;
    let (mut usage, (mut inventory, mut gaps)) = futures_util::join!(
        scan_usage(services.ecs, services.lambda, &settings.scan),
        list_managed(services.ecr, region, &settings.policy, concurrency),
    );
    complete_inventory(
        services.ecr,
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
