//! Scanning and planning: usage in every scope and the listing of this account's registries side
//! by side, within the scan's share of the deadline, then a plan per registry.

use futures_util::future::join_all;

use ecr_warden_core::inventory::Inventory;
use ecr_warden_core::plan::plan_scopes;
use ecr_warden_core::time::Timestamp;
use ecr_warden_core::usage::{ScanGap, Usage};

use super::overtime::{out_of_time, time_warning};
use super::settings::{Planned, RunSettings};
use crate::act::Deadline;
use crate::app::memory::memory_warning;
use crate::cache::{Cache, CacheLocation};
use crate::inventory::{complete_inventory, list_managed};
use crate::scopes::Scopes;
use crate::sources::{Progress, scan_scopes};

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
