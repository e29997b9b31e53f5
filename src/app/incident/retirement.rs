//! Task retirement (AWS Health `AWS_ECS_TASK_PATCHING_RETIREMENT`): the tasks and services AWS
//! will replace pull their pinned digests again. Check that each still exists and is pullable, and
//! alert at once if not, before the maintenance window. Never deletes.

use std::collections::{BTreeMap, BTreeSet};

use futures_util::future::join_all;

use ecr_warden_core::report::{Mode, Report};
use ecr_warden_core::time::Timestamp;
use ecr_warden_core::usage::{Consumer, Usage, Use};

use crate::app::event::{Entity, RETIREMENT_CODE, Retirement};
use crate::app::run::send_alert;

use super::lookup::{look_up, scope_of};
use crate::aws::ecs::{DESCRIBE_TASKS_BATCH, EcsApi, ServiceInfo};
use crate::aws::sns::Notifier;
use crate::limit::{EcsBucket, Limiter};
use crate::scopes::Scopes;
use crate::sources::ecs::services::{self, deployments, revision_uses};
use crate::sources::ecs::tasks::task_uses;
use crate::sources::{batches, keep_ok};

/// Checks the images of every task and service a retirement event names, in the account and
/// region the event comes from; each image is looked up in the registry its reference names.
pub async fn check_retirement<N: Notifier>(
    scopes: &Scopes,
    notifier: Option<&N>,
    limit: &Limiter,
    event: &Retirement,
    now: Timestamp,
) -> Report {
    let mut usage = Usage::default();
    match scope_of(scopes, event.account.as_deref(), event.region.as_deref()) {
        Ok(scope) => {
            add_entities(&scope.clients.ecs, limit, &event.entities, &mut usage).await;
            if scopes.several() {
                usage.uses = (usage.uses.into_iter())
                    .map(|u| Use {
                        consumer: u.consumer.in_scope(Some(&scope.origin)),
                        ..u
                    })
                    .collect();
            }
        }
        Err(gap) => usage.gaps.push(gap),
    }
    let (plan, _) = look_up(scopes, &usage, now).await;
    let mut report = Report::new(Mode::Retirement, true, &plan, None);
    report.context = Some(format!(
        "AWS Health event {} ({}), window {} to {}",
        event.event_arn,
        RETIREMENT_CODE,
        event.start.as_deref().unwrap_or("unknown"),
        event.end.as_deref().unwrap_or("not announced"),
    ));
    report.notes.push(format!(
        "checked {} image reference(s) of {} affected task(s) and service(s)",
        usage.uses.len(),
        event.entities.len()
    ));
    report.warnings.extend(
        event
            .unrecognized
            .iter()
            .map(|v| format!("affected entity {v:?} names neither a task nor a service")),
    );
    if report.missing.is_empty() && !report.scan_incomplete {
        tracing::info!(event = %event.event_arn, "every image the retiring tasks need is present");
    }
    send_alert(notifier, &mut report).await;
    report
}

/// Adds what the event's tasks and services will pull when they are replaced. Tasks are described
/// 100 at a time per cluster (a task named by id alone is looked for in every cluster), services 10
/// at a time, every call paced like the scan's; each failed call is a gap.
pub async fn add_entities<E: EcsApi>(
    ecs: &E,
    limit: &Limiter,
    entities: &[Entity],
    usage: &mut Usage,
) {
    let Grouped {
        mut tasks,
        loose,
        services,
    } = group(entities);
    if !loose.is_empty() {
        let clusters = limit.ecs_pages(EcsBucket::ClusterRead, "ecs:ListClusters", |t| {
            ecs.list_clusters(t)
        });
        for cluster in keep_ok(clusters.await, &mut usage.gaps).unwrap_or_default() {
            let ids = tasks.entry(cluster).or_default();
            ids.extend(loose.iter().map(|id| id.to_string()));
        }
    }
    let services: Vec<_> = services.into_iter().collect();
    let described = services::describe(ecs, limit, &services).await;
    for (cluster, result) in described {
        for service in keep_ok(result, &mut usage.gaps).unwrap_or_default() {
            add_service(ecs, limit, cluster, &service, usage).await;
        }
    }
    let listed = join_all(services.iter().flat_map(|(c, names)| {
        names.iter().map(move |s| async move {
            let pages = limit.ecs_pages(EcsBucket::ClusterResourceRead, "ecs:ListTasks", |t| {
                ecs.list_tasks(c, false, Some(s), t)
            });
            (*c, pages.await)
        })
    }))
    .await;
    for (cluster, result) in listed {
        let ids = keep_ok(result, &mut usage.gaps).unwrap_or_default();
        tasks.entry(cluster.clone()).or_default().extend(ids);
    }
    let task_batches: Vec<_> = (tasks.iter())
        .flat_map(|(c, ids)| {
            batches(
                c,
                &ids.iter().cloned().collect::<Vec<_>>(),
                DESCRIBE_TASKS_BATCH,
            )
        })
        .collect();
    let described = join_all(task_batches.iter().map(|(c, b)| async move {
        (
            *c,
            limit
                .ecs(EcsBucket::ClusterResourceRead, ecs.describe_tasks(c, b))
                .await,
        )
    }))
    .await;
    for (cluster, result) in described {
        for task in keep_ok(result, &mut usage.gaps).unwrap_or_default() {
            usage.uses.extend(task_uses(cluster, &task, false));
        }
    }
}

/// An event's entities by cluster: tasks, tasks named by id alone, services.
struct Grouped<'a> {
    tasks: BTreeMap<String, BTreeSet<String>>,
    loose: Vec<&'a String>,
    services: BTreeMap<&'a String, Vec<String>>,
}

fn group(entities: &[Entity]) -> Grouped<'_> {
    let mut grouped = Grouped {
        tasks: BTreeMap::new(),
        loose: Vec::new(),
        services: BTreeMap::new(),
    };
    for entity in entities {
        match entity {
            Entity::Task {
                cluster: Some(cluster),
                id,
            } => {
                let ids = grouped.tasks.entry(cluster.clone()).or_default();
                ids.insert(id.clone());
            }
            Entity::Task { cluster: None, id } => grouped.loose.push(id),
            Entity::Service { cluster, service } => {
                let names = grouped.services.entry(cluster).or_default();
                names.push(service.clone());
            }
        }
    }
    grouped
}

/// Adds what a service's deployments run and what its service revisions pinned.
async fn add_service<E: EcsApi>(
    ecs: &E,
    limit: &Limiter,
    cluster: &str,
    s: &ServiceInfo,
    usage: &mut Usage,
) {
    let runs: Vec<_> = deployments(cluster, s).flatten().collect();
    let described = join_all(runs.iter().map(|d| {
        limit.ecs(
            EcsBucket::TaskDefinitionRead,
            ecs.describe_task_definition(&d.family, d.revision),
        )
    }))
    .await;
    for (d, result) in runs.iter().zip(described) {
        for c in keep_ok(result, &mut usage.gaps).unwrap_or_default() {
            usage.uses.push(Use {
                consumer: Consumer::ServiceDeployment {
                    cluster: cluster.to_string(),
                    service: s.name.clone(),
                    task_definition: format!("{}:{} ({})", d.family, d.revision, d.status),
                    container: c.container,
                },
                image: c.image,
                pinned_digest: None,
            });
        }
    }
    if s.revision_arns.is_empty() {
        return;
    }
    let revisions = ecs.describe_service_revisions(&s.revision_arns);
    match limit.ecs(EcsBucket::ServiceRevisionRead, revisions).await {
        Ok(batch) => {
            for r in &batch.revisions {
                usage.uses.extend(revision_uses(cluster, r));
            }
        }
        Err(e) => usage.notes.push(format!(
            "service revisions of {} could not be read ({e}): checked its running tasks' digests instead",
            s.name
        )),
    }
}
