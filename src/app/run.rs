//! One run, wired: scan usage in every scope and this account's registries, plan each registry,
//! prune (unless dry run), guard tags, alert, report.

use futures_util::future::join_all;

use ecr_warden_core::alert::alert_for;
use ecr_warden_core::guard::plan_guards;
use ecr_warden_core::inventory::Inventory;
use ecr_warden_core::plan::{Plan, plan_scopes};
use ecr_warden_core::policy::Policy;
use ecr_warden_core::report::{GuardReport, Mode, Report};
use ecr_warden_core::time::Timestamp;
use ecr_warden_core::usage::{ScanGap, Usage};

use super::memory::memory_warning;
use super::overtime::{out_of_time, time_warning};
use crate::act::{Deadline, apply_guards, prune};
use crate::aws::sns::Notifier;
use crate::cache::{Cache, CacheLocation};
use crate::inventory::{complete_inventory, list_managed};
use crate::scopes::{Scope, Scopes};
use crate::sources::{Progress, ScanSettings, scan_scopes};

/// Everything a run needs to know besides the clients.
#[derive(Debug, Clone)]
pub struct RunSettings {
    pub policy: Policy,
    pub scan: ScanSettings,
    /// When true, nothing is deleted whatever the mode.
    pub dry_run: bool,
    /// Tag every in-use digest with this prefix plus its first 12 hex digits (`GUARD_TAG_PREFIX`).
    pub guard_tag_prefix: Option<String>,
    /// Where answers that never change are kept between runs (`CACHE_URI`).
    pub cache: CacheLocation,
    /// The Lambda function's memory in MB, to warn before a growing registry outgrows it.
    pub memory_limit_mb: Option<u64>,
    /// US dollars per GB-month, for the monthly saving.
    pub storage_price: f64,
}

/// One of this account's registries, scanned and planned.
pub struct Planned<'a> {
    pub scope: &'a Scope,
    pub inventory: Inventory,
    pub plan: Plan,
}

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

/// Scans usage in every scope and lists this account's registries side by side, then plans each
/// registry against all of it, without acting.
pub async fn scan_and_plan<'a>(
    scopes: &'a Scopes,
    settings: &RunSettings,
    now: Timestamp,
    deadline: &Deadline,
) -> Vec<Planned<'a>> {
    let s3 = &scopes.home[0].clients.s3;
    let (cache, load_warning) = Cache::load(&settings.cache, s3).await;
    let progress = Progress::default();
    // A scan that cannot finish in time stops; what it learnt is still cached.
    let budget = deadline.scan_budget();
    let started = std::time::Instant::now();
    let scanning = scan_all(scopes, settings, &cache, &progress, now);
    let scanned = match budget {
        Some(budget) => tokio::time::timeout(budget, scanning).await.ok(),
        None => Some(scanning.await),
    };
    let took = time_warning(started.elapsed(), budget);
    let warnings: Vec<String> = (load_warning.into_iter())
        .chain(took.filter(|_| scanned.is_some()))
        .chain(cache.save(s3).await)
        .collect();
    let Some((usages, listed)) = scanned else {
        let budget = budget.unwrap_or_default();
        let mut planned = out_of_time(scopes, &progress, budget, settings, now);
        planned[0].plan.warnings.extend(warnings);
        return planned;
    };
    let mut planned = Vec::new();
    for (home, (mut inventory, mut gaps)) in scopes.home.iter().zip(listed) {
        let ecr = &home.clients.ecr;
        let concurrency = settings.scan.concurrency;
        complete_inventory(ecr, &mut inventory, &usages, concurrency, &mut gaps).await;
        let listing = Usage {
            gaps,
            ..Usage::default()
        };
        let all: Vec<Usage> = usages.iter().cloned().chain([listing]).collect();
        let plan = plan_scopes(&inventory, &all, &settings.policy, now);
        planned.push(Planned {
            scope: home,
            inventory,
            plan,
        });
    }
    add_run_notes(&mut planned, settings, &cache, warnings);
    planned
}

/// The usage of every scope and the listing of every managed registry, side by side (ECS mostly
/// waits on its rate limit); the images usage names elsewhere are looked up afterwards.
async fn scan_all(
    scopes: &Scopes,
    settings: &RunSettings,
    cache: &Cache,
    progress: &Progress,
    now: Timestamp,
) -> (Vec<Usage>, Vec<(Inventory, Vec<ScanGap>)>) {
    let concurrency = settings.scan.concurrency;
    futures_util::join!(
        scan_scopes(scopes, cache, progress, &settings.scan, now),
        join_all(scopes.home.iter().map(|home| {
            let region = home.origin.region.as_str();
            list_managed(
                &home.clients.ecr,
                region,
                &settings.policy,
                cache,
                concurrency,
            )
        })),
    )
}

/// What the run says about itself, once: the cache's use, its warnings, and memory.
fn add_run_notes(
    planned: &mut [Planned],
    settings: &RunSettings,
    cache: &Cache,
    warnings: Vec<String>,
) {
    let images: usize = (planned.iter())
        .flat_map(|p| p.inventory.repositories.values())
        .map(|r| r.images.len())
        .sum();
    let Some(first) = planned.first_mut() else {
        return;
    };
    if settings.cache != CacheLocation::Off {
        let stats = cache.stats();
        first.plan.notes.push(format!(
            "cache {}: {} answers from earlier runs, {} asked afresh",
            settings.cache, stats.hits, stats.misses
        ));
    }
    first.plan.warnings.extend(warnings);
    first
        .plan
        .warnings
        .extend(memory_warning(images, settings.memory_limit_mb));
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
