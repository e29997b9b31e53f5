//! Task-definition families: every ACTIVE revision of the account and region (one listing for all
//! families), and then, once every source has said which revisions it runs, the revisions the
//! revision rule needs, each described once.

use std::collections::{BTreeMap, BTreeSet};

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use futures_util::stream::{self, StreamExt};

use ecr_warden_core::revisions::needed_revisions;
use ecr_warden_core::usage::{Family, Pinner, RevisionPin, Usage};

use super::{Scope, UsageSource, keep_ok};
use crate::aws::arn_name;
use crate::aws::ecs::EcsApi;
use crate::limit::EcsBucket;

/// The account's ACTIVE task-definition revisions, by family (not yet described).
pub struct TaskDefinitionFamilies;

impl UsageSource for TaskDefinitionFamilies {
    fn kind(&self) -> &'static str {
        "task_definitions"
    }

    fn optional(&self) -> bool {
        false
    }

    fn scan<'a>(&'a self, scope: &'a Scope<'a>) -> BoxFuture<'a, Usage> {
        list_families(&scope.aws.ecs, scope).boxed()
    }
}

/// Lists every ACTIVE revision in one listing (far fewer calls than a listing per family).
pub async fn list_families<E: EcsApi>(ecs: &E, scope: &Scope<'_>) -> Usage {
    let mut usage = Usage::default();
    let listed = (scope.limit)
        .ecs_pages(
            EcsBucket::TaskDefinitionRead,
            "ecs:ListTaskDefinitions",
            |t| ecs.list_active_task_definitions(t),
        )
        .await;
    for (family, revision) in keep_ok(listed, &mut usage.gaps).unwrap_or_default() {
        usage
            .families
            .entry(family)
            .or_default()
            .revisions
            .insert(revision, None);
    }
    usage
}

/// Describes the revisions the revision rule needs, given every revision a deployment, a rule or a
/// schedule runs.
/// A revision a deployment runs is described even when it was deregistered (it still runs), and
/// a family whose every revision was deregistered still gets its deployments' revisions.
pub async fn describe_needed<E: EcsApi>(ecs: &E, scope: &Scope<'_>, usage: &mut Usage) {
    // A rule or schedule that names only a family runs its newest ACTIVE revision: resolve it
    // from the listing before any revision a deployment runs is added to it.
    for pin in usage.pins.iter_mut().filter(|p| p.revision.is_none()) {
        pin.revision =
            (usage.families.get(&pin.family)).and_then(|f| f.revisions.keys().next_back().copied());
    }
    let mut in_service: BTreeMap<String, BTreeSet<u32>> = BTreeMap::new();
    let deployments = usage.deployments.iter().map(|d| (&d.family, d.revision));
    let pins = (usage.pins.iter()).filter_map(|p| Some((&p.family, p.revision?)));
    for (family, revision) in deployments.chain(pins) {
        in_service
            .entry(family.clone())
            .or_default()
            .insert(revision);
    }
    tracing::info!(
        families = usage.families.len(),
        "describing the task-definition revisions in use"
    );
    let mut wanted: Vec<(String, u32)> = Vec::new();
    for (family, serving) in &in_service {
        let revisions = &mut usage.families.entry(family.clone()).or_default().revisions;
        for &r in serving {
            revisions.entry(r).or_insert(None);
        }
    }
    for (family, Family { revisions }) in &usage.families {
        let serving = in_service.remove(family).unwrap_or_default();
        let needed = needed_revisions(
            revisions.keys().copied(),
            &serving,
            scope.settings.rollback_revisions,
        );
        wanted.extend(needed.into_iter().map(|(r, _)| (family.clone(), r)));
    }
    // A revision never changes: what an earlier run described is taken from the cache.
    let key = |f: &str, r: u32| format!("{}:{}:{f}:{r}", scope.origin.account, scope.origin.region);
    // A few calls' worth ahead of the limits, not one future per revision: thousands of pending
    // SDK calls would hold their memory all at once.
    let ahead = scope.settings.concurrency * 4;
    let step = crate::progress::step("task definitions", wanted.len());
    let step = &step;
    let described: Vec<_> = stream::iter(wanted.iter().map(|(f, r)| async move {
        step.add(1);
        if let Some(containers) = scope.cache.task_definition(&key(f, *r)) {
            return Ok(containers);
        }
        let described = ecs.describe_task_definition(f, *r);
        let answer = (scope.limit)
            .ecs(EcsBucket::TaskDefinitionRead, described)
            .await;
        if let Ok(containers) = &answer {
            scope
                .cache
                .keep_task_definition(key(f, *r), containers.clone());
        }
        answer
    }))
    .buffered(ahead)
    .collect()
    .await;
    for ((family, revision), result) in wanted.into_iter().zip(described) {
        if let Some(containers) = keep_ok(result, &mut usage.gaps) {
            usage
                .families
                .entry(family)
                .or_default()
                .revisions
                .insert(revision, Some(containers));
        }
    }
}

/// A pin on the task definition a rule or schedule names: `family:revision`, or a family alone
/// (its newest ACTIVE revision, resolved once the families are listed), as a name or an ARN.
pub fn revision_pin(task_definition: &str, by: Pinner) -> Option<RevisionPin> {
    let name = arn_name(task_definition);
    let (family, revision) = match name.rsplit_once(':') {
        Some((family, revision)) => (family, Some(revision.parse().ok()?)),
        None => (name, None),
    };
    (!family.is_empty()).then(|| RevisionPin {
        family: family.to_string(),
        revision,
        by,
    })
}
