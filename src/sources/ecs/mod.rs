//! ECS services and tasks, cluster by cluster: what every service deploys and its service revisions
//! pinned, and the digest every running (and recently stopped) task's containers run. Services and
//! tasks share one cluster listing, so they are one source.

pub mod services;
pub mod tasks;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;

use ecr_warden_core::usage::Usage;

use super::{Scope, UsageSource};
use crate::aws::arn_name;
use crate::aws::ecs::EcsApi;
use crate::limit::EcsBucket;

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

/// Lists the clusters, then scans their services and tasks (only those `CLUSTERS` names, when it
/// names some: the others are reported as not scanned).
pub async fn scan<E: EcsApi>(ecs: &E, scope: &Scope<'_>) -> Usage {
    let listed = (scope.limit)
        .ecs_pages(EcsBucket::ClusterRead, "ecs:ListClusters", |t| {
            ecs.list_clusters(t)
        })
        .await;
    let configured = &scope.settings.clusters;
    let mut usage = Usage::default();
    let clusters = match (listed, configured.is_empty()) {
        (Ok(all), true) => all,
        (Err(e), true) => {
            usage.gaps.push(e.into());
            return usage;
        }
        (listed, false) => {
            let named = |c: &String| configured.iter().any(|n| arn_name(n) == arn_name(c));
            match listed {
                Ok(all) => usage.unscanned.extend(all.iter().filter(|c| !named(c)).map(|c| {
                    format!(
                        "cluster {} was not scanned (CLUSTERS): images only its services and tasks use look unused",
                        arn_name(c)
                    )
                })),
                Err(e) => usage.notes.push(format!(
                    "could not list the clusters CLUSTERS leaves out ({e}): only the named ones were scanned"
                )),
            }
            configured.clone()
        }
    };
    tracing::info!(
        clusters = clusters.len(),
        "scanning ECS: services, tasks and task definitions"
    );
    let (services, tasks) = futures_util::join!(
        services::scan(ecs, &clusters, scope),
        tasks::scan(ecs, &clusters, scope),
    );
    usage.merge(services);
    usage.merge(tasks);
    usage
}
