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

pub mod ecs;
pub mod lambda;
pub mod task_definitions;

use futures_util::future::{BoxFuture, join_all};

use ecr_warden_core::usage::{ScanGap, Usage};

use crate::aws::{AwsError, Clients};
use crate::limit::Limiter;

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
    /// Whether Lambda functions are scanned.
    pub lambda: bool,
    /// Published versions kept per Lambda function, besides `$LATEST` and aliased versions.
    pub lambda_versions: usize,
    /// ECS requests per second at most (0: no limit).
    pub ecs_requests_per_second: f64,
}

impl Default for ScanSettings {
    fn default() -> Self {
        ScanSettings {
            clusters: Vec::new(),
            concurrency: 8,
            stopped_tasks: true,
            rollback_revisions: 1,
            lambda: true,
            lambda_versions: 3,
            ecs_requests_per_second: 20.0,
        }
    }
}

/// Where a source looks, and with what.
pub struct Scope<'a> {
    pub aws: &'a Clients,
    pub limit: &'a Limiter,
    pub settings: &'a ScanSettings,
}

/// One kind of consumer. Never fails: every failed call is a [`ScanGap`] in the returned usage.
pub trait UsageSource: Send + Sync {
    /// A short name for logs (`ecs`, `lambda`).
    fn kind(&self) -> &'static str;
    /// Finds the uses of images in one scope.
    fn scan<'a>(&'a self, scope: &'a Scope<'a>) -> BoxFuture<'a, Usage>;
}

/// Every usage source, in the order their fragments are merged.
pub const SOURCES: &[&dyn UsageSource] = &[
    &ecs::EcsServicesAndTasks,
    &task_definitions::TaskDefinitionFamilies,
    &lambda::LambdaFunctions,
];

/// Runs every source in one scope and merges what they found; then describes the task-definition
/// revisions the revision rule needs for every service, rule and family they reported.
pub async fn scan_usage(aws: &Clients, settings: &ScanSettings) -> Usage {
    let limit = Limiter::with_ecs_rate(settings.concurrency, settings.ecs_requests_per_second);
    let scope = Scope {
        aws,
        limit: &limit,
        settings,
    };
    let fragments = join_all(SOURCES.iter().map(|source| {
        tracing::debug!(source = source.kind(), "scanning");
        source.scan(&scope)
    }))
    .await;
    let mut usage = Usage::default();
    for fragment in fragments {
        usage.merge(fragment);
    }
    task_definitions::describe_needed(&aws.ecs, &scope, &mut usage).await;
    usage
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
