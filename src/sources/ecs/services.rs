//! ECS services: the task-definition revision of every deployment and task set, and the digests
//! their current service revisions pinned (software version consistency).

use std::collections::BTreeMap;

use futures_util::future::join_all;

use ecr_warden_core::usage::{Blocks, Consumer, Deployment, ScanGap, Usage, Use};

use crate::aws::ecs::{
    DESCRIBE_REVISIONS_BATCH, DESCRIBE_SERVICES_BATCH, EcsApi, RevisionBatch, RevisionInfo,
    ServiceInfo, parse_task_definition,
};
use crate::aws::{AwsError, arn_name};
use crate::limit::{EcsBucket, Limiter};
use crate::sources::{Scope, batches, keep_ok};

/// Describes each cluster's named services, [`DESCRIBE_SERVICES_BATCH`] at a time, every call
/// paced in the service-read bucket; one answer per batch.
pub async fn describe<'a, E: EcsApi>(
    ecs: &E,
    limit: &Limiter,
    services: &[(&'a String, Vec<String>)],
) -> Vec<(&'a String, Result<Vec<ServiceInfo>, AwsError>)> {
    let service_batches: Vec<_> = (services.iter())
        .flat_map(|(c, s)| batches(*c, s, DESCRIBE_SERVICES_BATCH))
        .collect();
    join_all(service_batches.iter().map(|(c, b)| async move {
        let answer = limit.ecs(EcsBucket::ServiceRead, ecs.describe_services(c, b));
        (*c, answer.await)
    }))
    .await
}

/// Lists and describes the services of every cluster, then their pinned service revisions.
pub async fn scan<E: EcsApi>(ecs: &E, clusters: &[String], scope: &Scope<'_>) -> Usage {
    let mut usage = Usage::default();
    let limit = scope.limit;
    let listed = join_all(clusters.iter().map(|c| {
        limit.ecs_pages(EcsBucket::ServiceRead, "ecs:ListServices", move |t| {
            ecs.list_services(c, t)
        })
    }))
    .await;
    let named: Vec<(&String, Vec<String>)> = clusters
        .iter()
        .zip(listed)
        .filter_map(|(c, r)| keep_ok(r, &mut usage.gaps).map(|s| (c, s)))
        .collect();
    let described = describe(ecs, limit, &named).await;

    let mut revision_arns: BTreeMap<&String, Vec<String>> = BTreeMap::new();
    // Services scaled to zero, by revision ARN: if their pins cannot be read, no running task
    // shows the digests, so the repositories their task definitions name are held.
    let mut idle: BTreeMap<String, Vec<Deployment>> = BTreeMap::new();
    for (cluster, result) in described {
        for service in keep_ok(result, &mut usage.gaps).unwrap_or_default() {
            let mut runs = Vec::new();
            for deployment in deployments(cluster, &service) {
                match deployment {
                    Ok(d) => runs.push(d),
                    Err(gap) => usage.gaps.push(gap),
                }
            }
            if service.running == 0 {
                for arn in &service.revision_arns {
                    idle.insert(arn.clone(), runs.clone());
                }
            }
            usage.deployments.extend(runs);
            revision_arns
                .entry(cluster)
                .or_default()
                .extend(service.revision_arns);
        }
    }
    tracing::info!(
        services = usage.deployments.len(),
        "describing pinned service revisions and the task-definition revisions in use"
    );
    // Batched per cluster (not per DescribeServices batch) so each call carries the most ARNs.
    let revision_batches: Vec<(&String, Vec<String>)> = revision_arns
        .into_iter()
        .flat_map(|(cluster, arns)| batches(cluster, &arns, DESCRIBE_REVISIONS_BATCH))
        .collect();
    let revisions = join_all(revision_batches.iter().map(|(c, b)| async move {
        let answer = limit
            .ecs(
                EcsBucket::ServiceRevisionRead,
                ecs.describe_service_revisions(b),
            )
            .await;
        (*c, b.as_slice(), answer)
    }))
    .await;
    add_revisions(&mut usage, revisions, &idle);
    usage
}

/// The task-definition revision each deployment and task set of a service runs; a task definition
/// that cannot be read is a gap.
pub fn deployments<'a>(
    cluster: &'a str,
    service: &'a ServiceInfo,
) -> impl Iterator<Item = Result<Deployment, ScanGap>> + 'a {
    service
        .deployments
        .iter()
        .map(move |(task_definition, status)| {
            let (family, revision) = parse_task_definition(task_definition).ok_or_else(|| {
                ScanGap::new(
                    "ecs:DescribeServices",
                    format!("service {}", service.name),
                    format!("unreadable task definition {task_definition:?}"),
                )
            })?;
            Ok(Deployment {
                cluster: arn_name(cluster).to_string(),
                service: service.name.clone(),
                family,
                revision,
                status: status.clone(),
            })
        })
}

/// The uses of one service revision: each container's pinned digest.
pub fn revision_uses(cluster: &str, revision: &RevisionInfo) -> Vec<Use> {
    revision
        .containers
        .iter()
        .map(|c| Use {
            consumer: Consumer::ServiceRevision {
                cluster: arn_name(cluster).to_string(),
                service: revision.service.clone(),
                container: c.name.clone(),
            },
            image: c.image.clone(),
            pinned_digest: c.digest,
        })
        .collect()
}

/// Adds the pinned digests. Revisions ECS cannot return are noted, with what protects them
/// instead (running tasks' digests); for a service with no running task that fallback sees
/// nothing, so its task definitions' repositories are held.
fn add_revisions(
    usage: &mut Usage,
    revisions: Vec<(
        &String,
        &[String],
        Result<RevisionBatch, crate::aws::AwsError>,
    )>,
    idle: &BTreeMap<String, Vec<Deployment>>,
) {
    let mut missing_revisions = 0;
    let mut unavailable = None;
    for (cluster, arns, result) in revisions {
        match result {
            Ok(batch) => {
                missing_revisions += batch.failures.len();
                for revision in &batch.revisions {
                    usage.uses.extend(revision_uses(cluster, revision));
                }
            }
            Err(e) => {
                for d in arns.iter().filter_map(|a| idle.get(a)).flatten() {
                    let gap = ScanGap::new(
                        e.call,
                        format!(
                            "service {} in cluster {} (no running task)",
                            d.service, d.cluster
                        ),
                        format!("{}: its pinned digests are unknown", e.message),
                    );
                    usage.gaps.push(gap.blocking(Blocks::TaskDefinition {
                        family: d.family.clone(),
                        revision: d.revision,
                    }));
                }
                unavailable = Some(e);
            }
        }
    }
    if missing_revisions > 0 {
        usage.notes.push(format!(
            "{missing_revisions} service revision(s) have no pinned digests on record (created \
             before 2024-10-25): their images are protected through running tasks' digests and \
             their task definitions' tags instead"
        ));
    }
    if let Some(e) = unavailable {
        usage.notes.push(format!(
            "service revisions could not be read ({e}): pinned digests are protected through \
             running tasks' digests and task definitions' tags instead"
        ));
    }
}
