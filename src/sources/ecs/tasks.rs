//! Running and recently stopped tasks: the digest each container runs. A task's replacement pulls
//! the same digest, so a recently stopped task's images are protected too.

use futures_util::future::join_all;

use ecr_warden_core::usage::{Consumer, Usage, Use};

use crate::aws::arn_name;
use crate::aws::ecs::{DESCRIBE_TASKS_BATCH, EcsApi, TaskInfo};
use crate::limit::EcsBucket;
use crate::sources::{Scope, batches, keep_ok};

/// Lists and describes the tasks of every cluster.
pub async fn scan<E: EcsApi>(ecs: &E, clusters: &[String], scope: &Scope<'_>) -> Usage {
    let mut usage = Usage::default();
    let statuses: &[bool] = if scope.settings.stopped_tasks {
        &[false, true]
    } else {
        &[false]
    };
    let listed = join_all(
        clusters
            .iter()
            .flat_map(|c| statuses.iter().map(move |&s| (c, s)))
            .map(|(c, s)| async move {
                let pages =
                    (scope.limit).ecs_pages(EcsBucket::ClusterResourceRead, "ecs:ListTasks", |t| {
                        ecs.list_tasks(c, s, None, t)
                    });
                ((c, s), pages.await)
            }),
    )
    .await;
    let task_batches: Vec<((&String, bool), Vec<String>)> = listed
        .into_iter()
        .filter_map(|(key, r)| keep_ok(r, &mut usage.gaps).map(|t| (key, t)))
        .flat_map(|(key, t)| batches(key, &t, DESCRIBE_TASKS_BATCH))
        .collect();
    let described = join_all(task_batches.iter().map(|((c, s), b)| async move {
        (
            *c,
            *s,
            (scope.limit)
                .ecs(EcsBucket::ClusterResourceRead, ecs.describe_tasks(c, b))
                .await,
        )
    }))
    .await;
    for (cluster, stopped, result) in described {
        for task in keep_ok(result, &mut usage.gaps).unwrap_or_default() {
            usage.uses.extend(task_uses(cluster, &task, stopped));
        }
    }
    usage
}

/// The uses of one task: each container's image, pinned to the digest it runs.
pub fn task_uses(cluster: &str, task: &TaskInfo, stopped: bool) -> Vec<Use> {
    task.containers
        .iter()
        .map(|c| Use {
            consumer: Consumer::RunningTask {
                cluster: arn_name(cluster).to_string(),
                task: arn_name(&task.arn).to_string(),
                group: task.group.clone(),
                container: c.name.clone(),
                stopped,
            },
            image: c.image.clone(),
            pinned_digest: c.digest,
        })
        .collect()
}
