//! Usage sources: the plug-ins that find what uses images. Each kind of consumer is one file (or a
//! folder when its parts need each other's answers) behind [`UsageSource`]: given a [`Scope`] (an
//! account and region, its clients, the call limits and the settings) it returns a [`Usage`]
//! fragment. A source never fails: every failed call is a [`ScanGap`] in its fragment, and any gap
//! means nothing is deleted.
//!
//! [`scan_usage`] runs every source of [`SOURCES`] side by side, merges their fragments, and then
//! describes the task-definition revisions that the revision rule needs across all of them.
//!
//! Adding a kind of consumer: a file here implementing [`UsageSource`], and one line in
//! [`SOURCES`].

pub mod apprunner;
pub mod batch;
pub mod documents;
pub mod ecs;
pub mod eventbridge;
pub mod lambda;
pub mod scheduler;
pub mod task_definitions;

use futures_util::future::{BoxFuture, join_all};
use futures_util::stream::{self, StreamExt};

use ecr_warden_core::time::Timestamp;
use ecr_warden_core::usage::{Origin, ScanGap, Usage};

use crate::aws::{AwsError, Clients};
use crate::cache::Cache;
use crate::limit::Limiter;
use crate::scopes::Scopes;

/// What to scan and how hard to push.
#[derive(Debug, Clone)]
pub struct ScanSettings {
    /// Cluster names or ARNs; empty means every cluster in the account and region.
    pub clusters: Vec<String>,
    /// Calls in flight at once.
    pub concurrency: usize,
    /// Also protect the images of recently stopped tasks.
    pub stopped_tasks: bool,
    /// Older task-definition revisions kept for rollback (the policy's setting).
    pub rollback_revisions: u32,
    /// The kinds of consumer to scan (`ecs`, `lambda`, `eventbridge`, `scheduler`, `batch`,
    /// `apprunner`); every one by default. A kind left out is reported as not scanned.
    pub sources: Vec<String>,
    /// Usage documents: local paths, `s3://bucket/key` or `s3://bucket/prefix/`.
    pub usage_sources: Vec<String>,
    /// A usage document older than this is a gap.
    pub usage_max_age_hours: u32,
    /// Published versions kept per Lambda function, besides `$LATEST` and aliased versions.
    pub lambda_versions: usize,
    /// ECS requests per second at most (0: no limit).
    pub ecs_requests_per_second: f64,
    /// Scopes that must each have a complete, fresh usage document (a fan-in); one without is a gap.
    pub expected_scopes: Vec<Origin>,
    /// Usage comes from the documents alone: no scope is scanned live (a fan-in).
    pub documents_only: bool,
}

impl Default for ScanSettings {
    fn default() -> Self {
        ScanSettings {
            clusters: Vec::new(),
            concurrency: 8,
            stopped_tasks: true,
            rollback_revisions: 1,
            sources: OPTIONAL_SOURCES.iter().map(|s| s.to_string()).collect(),
            usage_sources: Vec::new(),
            usage_max_age_hours: 48,
            lambda_versions: 3,
            ecs_requests_per_second: 20.0,
            expected_scopes: Vec::new(),
            documents_only: false,
        }
    }
}

/// Where a source looks, and with what.
pub struct Scope<'a> {
    pub aws: &'a Clients,
    /// The account and region scanned.
    pub origin: &'a Origin,
    /// Answers that never change, from earlier runs.
    pub cache: &'a Cache,
    pub limit: &'a Limiter,
    pub settings: &'a ScanSettings,
    /// The time of the run (usage documents' age is measured against it).
    pub now: Timestamp,
}

/// One kind of consumer. Never fails: every failed call is a [`ScanGap`] in the returned usage.
pub trait UsageSource: Send + Sync {
    /// A short name for logs and `SCAN_SOURCES` (`ecs`, `lambda`).
    fn kind(&self) -> &'static str;
    /// False for sources that always run (`SCAN_SOURCES` does not name them).
    fn optional(&self) -> bool {
        true
    }
    /// Finds the uses of images in one scope.
    fn scan<'a>(&'a self, scope: &'a Scope<'a>) -> BoxFuture<'a, Usage>;
}

/// Every usage source, in the order their fragments are merged.
pub const SOURCES: &[&dyn UsageSource] = &[
    &ecs::EcsServicesAndTasks,
    &task_definitions::TaskDefinitionFamilies,
    &lambda::LambdaFunctions,
    &eventbridge::EventBridgeRules,
    &scheduler::Schedules,
    &batch::BatchJobs,
    &apprunner::AppRunnerServices,
];

/// The kinds `SCAN_SOURCES` can name.
pub const OPTIONAL_SOURCES: [&str; 6] = [
    "ecs",
    "lambda",
    "eventbridge",
    "scheduler",
    "batch",
    "apprunner",
];

/// Runs every enabled source in one scope and merges what they found; then resolves what rules
/// and schedules run, and describes the task-definition revisions the revision rule needs.
pub async fn scan_usage(
    scope: &crate::scopes::Scope,
    cache: &Cache,
    settings: &ScanSettings,
    now: Timestamp,
) -> Usage {
    let limit = Limiter::with_ecs_rate(settings.concurrency, settings.ecs_requests_per_second);
    let aws = &scope.clients;
    let scope = Scope {
        aws,
        origin: &scope.origin,
        cache,
        limit: &limit,
        settings,
        now,
    };
    let enabled =
        |s: &&&dyn UsageSource| !s.optional() || settings.sources.iter().any(|k| k == s.kind());
    let fragments = join_all(SOURCES.iter().filter(enabled).map(|source| {
        tracing::debug!(source = source.kind(), "scanning");
        source.scan(&scope)
    }))
    .await;
    let mut usage = Usage::default();
    for fragment in fragments {
        usage.merge(fragment);
    }
    let job_pins = std::mem::take(&mut usage.job_definition_pins);
    let ((), pinned_jobs) = futures_util::join!(
        task_definitions::describe_needed(&aws.ecs, &scope, &mut usage),
        batch::resolve_pins(&aws.batch, &scope, job_pins),
    );
    usage.merge(pinned_jobs);
    usage
}

/// The scopes whose scan has finished, so that a run out of time can say which were left.
#[derive(Debug, Default)]
pub struct Progress {
    finished: std::sync::Mutex<Vec<Origin>>,
}

impl Progress {
    fn finish(&self, origin: &Origin) {
        self.finished
            .lock()
            .expect("not poisoned")
            .push(origin.clone());
    }

    pub fn finished(&self) -> Vec<Origin> {
        self.finished.lock().expect("not poisoned").clone()
    }
}

/// At most this many scopes are scanned at once; each paces its own ECS calls.
pub const SCOPES_AT_ONCE: usize = 8;

/// Scans every reachable scope, each with its own limits (ECS throttles per account and region),
/// and returns one usage per scope: with several, each names its origin, and its gaps, notes and
/// warnings say which account and region they come from. The last usage carries the scopes that
/// could not be reached.
pub async fn scan_scopes(
    scopes: &Scopes,
    cache: &Cache,
    progress: &Progress,
    settings: &ScanSettings,
    now: Timestamp,
) -> Vec<Usage> {
    let several = scopes.several();
    let live: &[crate::scopes::Scope] = if settings.documents_only {
        &[]
    } else {
        &scopes.scanned
    };
    let step = crate::progress::step("account-regions scanned", live.len());
    let step = &step;
    let scanning = stream::iter(live)
        .map(|scope| async move {
            let mut usage = scan_usage(scope, cache, settings, now).await;
            usage.scanned_accounts.insert(scope.origin.account.clone());
            usage.scanned_regions.insert(scope.origin.region.clone());
            if several {
                label(&mut usage, &scope.origin);
            }
            progress.finish(&scope.origin);
            step.add(1);
            usage
        })
        .buffered(SCOPES_AT_ONCE)
        .collect::<Vec<Usage>>();
    let (scanned, documents) =
        futures_util::join!(scanning, read_documents(scopes, cache, settings, now));
    let unreachable = Usage {
        gaps: scopes.unreachable.clone(),
        scanned_organization: scopes.organization.clone(),
        unscanned: skipped_sources(settings),
        ..Usage::default()
    };
    scanned
        .into_iter()
        .chain([documents, unreachable])
        .collect()
}

/// The usage documents, read once with this account's credentials.
async fn read_documents(
    scopes: &Scopes,
    cache: &Cache,
    settings: &ScanSettings,
    now: Timestamp,
) -> Usage {
    let home = &scopes.home[0];
    let limit = Limiter::new(settings.concurrency);
    let scope = Scope {
        aws: &home.clients,
        origin: &home.origin,
        cache,
        limit: &limit,
        settings,
        now,
    };
    documents::scan(&home.clients.s3, &scope).await
}

/// The kinds of consumer `SCAN_SOURCES` leaves out, as partial-scope warnings.
pub fn skipped_sources(settings: &ScanSettings) -> Vec<String> {
    (SOURCES.iter())
        .filter(|s| s.optional() && !settings.sources.iter().any(|k| k == s.kind()))
        .map(|s| {
            format!(
                "{} was not scanned (SCAN_SOURCES): images only it uses look unused",
                s.kind()
            )
        })
        .collect()
}

/// Names a scope's usage, and what its scan reported, with the scope's account and region.
fn label(usage: &mut Usage, origin: &Origin) {
    usage.origin = Some(origin.clone());
    for gap in &mut usage.gaps {
        gap.resource = format!("{origin}: {}", gap.resource);
    }
    for line in usage.notes.iter_mut().chain(&mut usage.unscanned) {
        *line = format!("{origin}: {line}");
    }
}

/// The value of a successful call; a failed one becomes a gap.
pub fn keep_ok<T>(result: Result<T, AwsError>, gaps: &mut Vec<ScanGap>) -> Option<T> {
    match result {
        Ok(v) => Some(v),
        Err(e) => {
            gaps.push(e.into());
            None
        }
    }
}

/// Splits items into batches of at most `size`, each paired with `key`.
pub fn batches<K: Copy, T: Clone>(key: K, items: &[T], size: usize) -> Vec<(K, Vec<T>)> {
    items.chunks(size).map(|b| (key, b.to_vec())).collect()
}
