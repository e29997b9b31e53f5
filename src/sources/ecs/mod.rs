//! ECS services and tasks, cluster by cluster: what every service deploys and its service revisions
//! pinned, and the digest every running (and recently stopped) task's containers run. Services and
//! tasks share one cluster listing, so they are one source.

pub mod services;
pub mod tasks;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;

use ecr_warden_core::usage::Usage;

use super::{Scope, UsageSource};
use crate::aws::ecs::EcsApi;

/// ECS services (deployments, task sets, pinned revisions) and tasks.
pub struct EcsServicesAndTasks;

impl UsageSource for EcsServicesAndTasks {
    fn kind(&self) -> &'static str {
        "ecs"
    }

    fn scan<'a>(&'a self, scope: &'a Scope<'a>) -> BoxFuture<'a, Usage> {
        scan(&scope.aws.ecs, scope).boxed()
    }
}

/// Lists the clusters (unless `CLUSTERS` names them), then scans their services and tasks.
pub async fn scan<E: EcsApi>(ecs: &E, scope: &Scope<'_>) -> Usage {
    let clusters = if scope.settings.clusters.is_empty() {
        match scope.limit.ecs(ecs.list_clusters()).await {
            Ok(c) => c,
            Err(e) => {
                return Usage {
                    gaps: vec![e.into()],
                    ..Usage::default()
                };
            }
        }
    } else {
        scope.settings.clusters.clone()
    };
    tracing::info!(
        clusters = clusters.len(),
        "scanning ECS: services, tasks and task definitions"
    );
    let (mut usage, tasks) = futures_util::join!(
        services::scan(ecs, &clusters, scope),
        tasks::scan(ecs, &clusters, scope),
    );
    usage.merge(tasks);
    usage
}
