//! Checks triggered by incidents rather than the schedule. Neither ever deletes anything.
//!
//! - Task retirement (AWS Health `AWS_ECS_TASK_PATCHING_RETIREMENT`): the tasks and services AWS
//!   will replace pull their pinned digests again; check each still exists and is pullable, and
//!   alert at once if not, before the maintenance window.
//! - Pull failure (an ECS task stopped with `CannotPullContainerError`): find out whether the image
//!   is gone, archived, or present (then the cause is network or IAM), and say what to do.

use crate::aws::AwsError;
use crate::aws::ecr::EcrApi;
use crate::aws::ecs::{DESCRIBE_TASKS_BATCH, EcsApi, parse_task_definition};
use crate::aws::sns::Notifier;
use crate::event::{Entity, PullFailure, Retirement};
use crate::plan::{MissingProblem, plan};
use crate::policy::Policy;
use crate::reference::ImageRef;
use crate::report::{Diagnosis, Mode, Report};
use crate::run::send_alert;
use crate::scan::look_up_inventory;
use crate::time::Timestamp;
use crate::usage::{Consumer, Usage, Use};

/// Checks the images of every task and service a retirement event names.
pub async fn check_retirement<E: EcsApi, R: EcrApi, N: Notifier>(
    ecs: &E,
    ecr: &R,
    notifier: Option<&N>,
    event: &Retirement,
    region: Option<&str>,
    now: Timestamp,
) -> Report {
    let mut usage = Usage::default();
    for entity in &event.entities {
        if let Err(e) = add_entity(ecs, entity, &mut usage).await {
            usage.gaps.push(e.into());
        }
    }
    let (inventory, gaps) = look_up_inventory(ecr, region, &usage, 8).await;
    usage.gaps.extend(gaps);
    let plan = plan(&inventory, &usage, &Policy::usage_only(), now);
    let mut report = Report::new(Mode::Retirement, true, &plan, None);
    report.context = Some(format!(
        "AWS Health event {} ({}), window {} to {}",
        event.event_arn,
        crate::event::RETIREMENT_CODE,
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
            let services = ecs
                .describe_services(cluster, std::slice::from_ref(service))
                .await?;
            for s in services {
                for (task_definition, status) in &s.deployments {
                    let Some((family, revision)) = parse_task_definition(task_definition) else {
                        continue;
                    };
                    for c in ecs.describe_task_definition(&family, revision).await? {
                        usage.uses.push(Use {
                            consumer: Consumer::ServiceDeployment {
                                cluster: cluster.clone(),
                                service: s.name.clone(),
                                task_definition: format!("{family}:{revision} ({status})"),
                                container: c.container,
                            },
                            image: c.image,
                            pinned_digest: None,
                        });
                    }
                }
                if !s.revision_arns.is_empty() {
                    match ecs.describe_service_revisions(&s.revision_arns).await {
                        Ok(batch) => {
                            for r in batch.revisions {
                                for c in r.containers {
                                    usage.uses.push(Use {
                                        consumer: Consumer::ServiceRevision {
                                            cluster: cluster.clone(),
                                            service: s.name.clone(),
                                            container: c.name,
                                        },
                                        image: c.image,
                                        pinned_digest: c.digest,
                                    });
                                }
                            }
                        }
                        Err(e) => usage.notes.push(format!(
                            "service revisions of {} could not be read ({e}): checked its running tasks' digests instead",
                            s.name
                        )),
                    }
                }
            }
            let tasks = ecs.list_tasks(cluster, false, Some(service)).await?;
            for batch in tasks.chunks(DESCRIBE_TASKS_BATCH) {
                add_tasks(ecs, cluster, batch, usage).await?;
            }
            Ok(())
        }
    }
}

async fn add_tasks<E: EcsApi>(
    ecs: &E,
    cluster: &str,
    ids: &[String],
    usage: &mut Usage,
) -> Result<(), AwsError> {
    for task in ecs.describe_tasks(cluster, ids).await? {
        for c in task.containers {
            usage.uses.push(Use {
                consumer: Consumer::RunningTask {
                    cluster: crate::aws::arn_name(cluster).to_string(),
                    task: crate::aws::arn_name(&task.arn).to_string(),
                    group: task.group.clone(),
                    container: c.name,
                    stopped: false,
                },
                image: c.image,
                pinned_digest: c.digest,
            });
        }
    }
    Ok(())
}

/// Diagnoses a task that failed to pull its image.
pub async fn diagnose_pull_failure<R: EcrApi, N: Notifier>(
    ecr: &R,
    notifier: Option<&N>,
    failure: &PullFailure,
    region: Option<&str>,
    now: Timestamp,
) -> Report {
    let consumers: Vec<Consumer> = failure
        .containers
        .iter()
        .map(|c| Consumer::RunningTask {
            cluster: failure.cluster.clone(),
            task: failure.task.clone(),
            group: failure.group.clone(),
            container: c.name.clone(),
            stopped: true,
        })
        .collect();
    let usage = Usage {
        uses: failure
            .containers
            .iter()
            .zip(&consumers)
            .map(|(c, consumer)| Use {
                consumer: consumer.clone(),
                image: c.image.clone(),
                pinned_digest: c.digest,
            })
            .collect(),
        ..Usage::default()
    };
    let (inventory, gaps) = look_up_inventory(ecr, region, &usage, 4).await;
    let usage = Usage { gaps, ..usage };
    let plan = plan(&inventory, &usage, &Policy::usage_only(), now);
    let mut report = Report::new(Mode::PullFailure, true, &plan, None);
    report.context = Some(format!(
        "task {} in cluster {} stopped: {}",
        failure.task, failure.cluster, failure.stopped_reason
    ));

    for (c, consumer) in failure.containers.iter().zip(&consumers) {
        let problem = plan
            .missing
            .iter()
            .find(|m| m.users.contains(consumer))
            .map(|m| m.problem);
        let external = ImageRef::parse(&c.image)
            .map(|r| !r.is_ecr())
            .unwrap_or(false);
        let (cause, advice) = match problem {
            Some(MissingProblem::DigestNotFound) | Some(MissingProblem::TagNotFound) => (
                "image_missing",
                "The image is not in ECR: it was deleted (look for BatchDeleteImage or a lifecycle \
                 PolicyExecutionEvent in CloudTrail) or its tag was moved. Push it again, or deploy \
                 a task definition that names an image that exists."
                    .to_string(),
            ),
            Some(MissingProblem::Archived) | Some(MissingProblem::Activating) => (
                "image_archived",
                "The image is archived: restore it to the standard storage class (ecr \
                 update-image-storage-class) and wait until it is ACTIVE."
                    .to_string(),
            ),
            Some(MissingProblem::RepositoryNotFound) => (
                "repository_missing",
                "The repository does not exist in this registry: check the image URI in the task \
                 definition, the account and the region."
                    .to_string(),
            ),
            None if external => (
                "other_registry",
                "The image is in another registry: check the task's route to it (NAT gateway or \
                 internet gateway) and, for a private registry, repositoryCredentials."
                    .to_string(),
            ),
            None => (
                "image_present",
                "The image exists, so the cause is most likely the network or IAM: the task's \
                 subnets need a route to ECR and S3 (NAT gateway, or VPC endpoints for ecr.api, \
                 ecr.dkr and the S3 gateway), security groups and NACLs must allow HTTPS, and the \
                 task execution role needs ecr:GetAuthorizationToken, ecr:BatchCheckLayerAvailability, \
                 ecr:GetDownloadUrlForLayer and ecr:BatchGetImage."
                    .to_string(),
            ),
        };
        report.diagnoses.push(Diagnosis {
            cluster: failure.cluster.clone(),
            task: failure.task.clone(),
            container: c.name.clone(),
            image: c.image.clone(),
            cause: cause.to_string(),
            advice,
        });
    }
    if failure.containers.is_empty() {
        report.warnings.push(
            "the stopped reason names CannotPullContainerError but no container says which image"
                .into(),
        );
    }
    send_alert(notifier, &mut report).await;
    report
}
