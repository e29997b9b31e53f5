//! Task retirement (AWS Health `AWS_ECS_TASK_PATCHING_RETIREMENT`): the tasks and services AWS
//! will replace pull their pinned digests again. Check that each still exists and is pullable, and
//! alert at once if not, before the maintenance window. Never deletes.

use ecr_warden_core::report::{Mode, Report};
use ecr_warden_core::time::Timestamp;
use ecr_warden_core::usage::{Consumer, Usage, Use};

use crate::app::event::{Entity, RETIREMENT_CODE, Retirement};
use crate::app::run::send_alert;

use super::lookup::{look_up, scope_of};
use crate::aws::AwsError;
use crate::aws::ecs::{DESCRIBE_TASKS_BATCH, EcsApi, ServiceInfo};
use crate::aws::sns::Notifier;
use crate::scopes::Scopes;
use crate::sources::ecs::services::{deployments, revision_uses};
use crate::sources::ecs::tasks::task_uses;

/// Checks the images of every task and service a retirement event names, in the account and
/// region the event comes from; each image is looked up in the registry its reference names.
pub async fn check_retirement<N: Notifier>(
    scopes: &Scopes,
    notifier: Option<&N>,
    event: &Retirement,
    now: Timestamp,
) -> Report {
    let mut usage = Usage::default();
    match scope_of(scopes, event.account.as_deref(), event.region.as_deref()) {
        Ok(scope) => {
            for entity in &event.entities {
                if let Err(e) = add_entity(&scope.clients.ecs, entity, &mut usage).await {
                    usage.gaps.push(e.into());
                }
            }
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

/// Adds what one entity will pull when it is replaced.
async fn add_entity<E: EcsApi>(
    ecs: &E,
    entity: &Entity,
    usage: &mut Usage,
) -> Result<(), AwsError> {
    match entity {
        Entity::Task {
            cluster: Some(cluster),
            id,
        } => add_tasks(ecs, cluster, std::slice::from_ref(id), usage).await,
        Entity::Task { cluster: None, id } => {
            // Named by id alone: look in every cluster.
            for cluster in ecs.list_clusters().await? {
                add_tasks(ecs, &cluster, std::slice::from_ref(id), usage).await?;
            }
            Ok(())
        }
        Entity::Service { cluster, service } => {
            for s in ecs
                .describe_services(cluster, std::slice::from_ref(service))
                .await?
            {
                add_service(ecs, cluster, &s, usage).await?;
            }
            let tasks = ecs.list_tasks(cluster, false, Some(service)).await?;
            for batch in tasks.chunks(DESCRIBE_TASKS_BATCH) {
                add_tasks(ecs, cluster, batch, usage).await?;
            }
            Ok(())
        }
    }
}

/// Adds what a service's deployments run and what its service revisions pinned.
async fn add_service<E: EcsApi>(
    ecs: &E,
    cluster: &str,
    s: &ServiceInfo,
    usage: &mut Usage,
) -> Result<(), AwsError> {
    for d in deployments(cluster, s).flatten() {
        for c in ecs.describe_task_definition(&d.family, d.revision).await? {
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
        return Ok(());
    }
    match ecs.describe_service_revisions(&s.revision_arns).await {
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
    Ok(())
}

async fn add_tasks<E: EcsApi>(
    ecs: &E,
    cluster: &str,
    ids: &[String],
    usage: &mut Usage,
) -> Result<(), AwsError> {
    for task in ecs.describe_tasks(cluster, ids).await? {
        usage.uses.extend(task_uses(cluster, &task, false));
    }
    Ok(())
}
