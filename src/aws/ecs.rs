//! Amazon ECS, read-only: clusters, services and their revisions, tasks, task definitions.

use std::future::Future;

use aws_sdk_ecs::Client;
use aws_sdk_ecs::types::{DesiredStatus, TaskDefinitionStatus};

use super::{AwsError, arn_name};
use crate::limit::Page;
use ecr_warden_core::digest::Digest;
use ecr_warden_core::usage::ContainerImage;

/// DescribeServices takes at most this many services.
pub const DESCRIBE_SERVICES_BATCH: usize = 10;
/// DescribeServiceRevisions takes at most this many revision ARNs.
pub const DESCRIBE_REVISIONS_BATCH: usize = 20;
/// DescribeTasks takes at most this many tasks.
pub const DESCRIBE_TASKS_BATCH: usize = 100;
/// The largest page every ECS list call accepts.
pub const PAGE_SIZE: i32 = 100;

/// A service and what it deploys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceInfo {
    pub name: String,
    /// (task-definition ARN, status) for every deployment and task set.
    pub deployments: Vec<(String, String)>,
    /// ARNs of the service's current revisions.
    pub revision_arns: Vec<String>,
    /// Tasks running now (0 for a service scaled to zero).
    pub running: i32,
}

/// Digests pinned by service revisions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RevisionBatch {
    pub revisions: Vec<RevisionInfo>,
    /// (ARN, reason) of revisions ECS could not return (`MISSING` for pre-2024-10 revisions).
    pub failures: Vec<(String, String)>,
}

/// One service revision's pinned images.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevisionInfo {
    pub service: String,
    pub containers: Vec<PinnedContainer>,
}

/// A container of a task or service revision with the digest it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinnedContainer {
    pub name: String,
    pub image: String,
    pub digest: Option<Digest>,
}

/// A task and its containers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskInfo {
    pub arn: String,
    pub group: Option<String>,
    pub containers: Vec<PinnedContainer>,
}

/// The ECS calls the usage scan makes, one request each: a list call returns one page and the
/// next page's token (the caller paces every page, see [`crate::limit::Limiter::ecs_pages`]).
pub trait EcsApi: Sync {
    fn list_clusters(
        &self,
        token: Option<String>,
    ) -> impl Future<Output = Result<Page<String>, AwsError>> + Send;
    fn list_services(
        &self,
        cluster: &str,
        token: Option<String>,
    ) -> impl Future<Output = Result<Page<String>, AwsError>> + Send;
    /// At most [`DESCRIBE_SERVICES_BATCH`] services.
    fn describe_services(
        &self,
        cluster: &str,
        services: &[String],
    ) -> impl Future<Output = Result<Vec<ServiceInfo>, AwsError>> + Send;
    /// At most [`DESCRIBE_REVISIONS_BATCH`] ARNs.
    fn describe_service_revisions(
        &self,
        arns: &[String],
    ) -> impl Future<Output = Result<RevisionBatch, AwsError>> + Send;
    /// Tasks of a cluster (of one service when `service` is given), running or stopped.
    fn list_tasks(
        &self,
        cluster: &str,
        stopped: bool,
        service: Option<&str>,
        token: Option<String>,
    ) -> impl Future<Output = Result<Page<String>, AwsError>> + Send;
    /// At most [`DESCRIBE_TASKS_BATCH`] tasks.
    fn describe_tasks(
        &self,
        cluster: &str,
        tasks: &[String],
    ) -> impl Future<Output = Result<Vec<TaskInfo>, AwsError>> + Send;
    /// Every ACTIVE task-definition revision of the account and region, as (family, revision).
    fn list_active_task_definitions(
        &self,
        token: Option<String>,
    ) -> impl Future<Output = Result<Page<(String, u32)>, AwsError>> + Send;
    fn describe_task_definition(
        &self,
        family: &str,
        revision: u32,
    ) -> impl Future<Output = Result<Vec<ContainerImage>, AwsError>> + Send;
}

/// Splits a task-definition ARN or `family:revision` into its parts.
pub fn parse_task_definition(arn: &str) -> Option<(String, u32)> {
    let name = arn_name(arn);
    let (family, revision) = name.rsplit_once(':')?;
    Some((family.to_string(), revision.parse().ok()?))
}

/// A resource ECS could not describe (`failures[]`), as an error naming it and the reason.
fn failure(call: &'static str, resource: String, f: &aws_sdk_ecs::types::Failure) -> AwsError {
    let reason = f.reason().unwrap_or("unknown failure");
    AwsError::invalid(
        call,
        resource,
        format!("{}: {reason}", f.arn().unwrap_or_default()),
    )
}

fn pinned(name: Option<&str>, image: Option<&str>, digest: Option<&str>) -> PinnedContainer {
    PinnedContainer {
        name: name.unwrap_or_default().to_string(),
        image: image.unwrap_or_default().to_string(),
        digest: digest.and_then(|d| d.parse().ok()),
    }
}

impl EcsApi for Client {
    async fn list_clusters(&self, token: Option<String>) -> Result<Page<String>, AwsError> {
        let out = self
            .list_clusters()
            .max_results(PAGE_SIZE)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ecs:ListClusters", "account", e))?;
        Ok((out.cluster_arns().to_vec(), out.next_token))
    }

    async fn list_services(
        &self,
        cluster: &str,
        token: Option<String>,
    ) -> Result<Page<String>, AwsError> {
        let out = self
            .list_services()
            .cluster(cluster)
            .max_results(PAGE_SIZE)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ecs:ListServices", format!("cluster {cluster}"), e))?;
        Ok((out.service_arns().to_vec(), out.next_token))
    }

    async fn describe_services(
        &self,
        cluster: &str,
        services: &[String],
    ) -> Result<Vec<ServiceInfo>, AwsError> {
        let resource = || format!("cluster {cluster}, services {}", services.join(","));
        let out = self
            .describe_services()
            .cluster(cluster)
            .set_services(Some(services.to_vec()))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ecs:DescribeServices", resource(), e))?;
        if let Some(f) = out.failures().first() {
            // A listed service that cannot be described is a hole in the scan.
            return Err(failure("ecs:DescribeServices", resource(), f));
        }
        Ok(out
            .services()
            .iter()
            .map(|s| {
                let mut deployments: Vec<(String, String)> = s
                    .deployments()
                    .iter()
                    .filter_map(|d| {
                        Some((
                            d.task_definition()?.to_string(),
                            d.status().unwrap_or_default().to_string(),
                        ))
                    })
                    .collect();
                deployments.extend(s.task_sets().iter().filter_map(|t| {
                    Some((
                        t.task_definition()?.to_string(),
                        t.status().unwrap_or_default().to_string(),
                    ))
                }));
                ServiceInfo {
                    name: s.service_name().unwrap_or_default().to_string(),
                    deployments,
                    revision_arns: s
                        .current_service_revisions()
                        .iter()
                        .filter_map(|r| r.arn().map(str::to_string))
                        .collect(),
                    running: s.running_count(),
                }
            })
            .collect())
    }

    async fn describe_service_revisions(&self, arns: &[String]) -> Result<RevisionBatch, AwsError> {
        let out = self
            .describe_service_revisions()
            .set_service_revision_arns(Some(arns.to_vec()))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ecs:DescribeServiceRevisions", arns.join(","), e))?;
        Ok(RevisionBatch {
            revisions: out
                .service_revisions()
                .iter()
                .map(|r| RevisionInfo {
                    service: arn_name(r.service_arn().unwrap_or_default()).to_string(),
                    containers: r
                        .container_images()
                        .iter()
                        .map(|c| pinned(c.container_name(), c.image(), c.image_digest()))
                        .collect(),
                })
                .collect(),
            failures: out
                .failures()
                .iter()
                .map(|f| {
                    (
                        f.arn().unwrap_or_default().to_string(),
                        f.reason().unwrap_or_default().to_string(),
                    )
                })
                .collect(),
        })
    }

    async fn list_tasks(
        &self,
        cluster: &str,
        stopped: bool,
        service: Option<&str>,
        token: Option<String>,
    ) -> Result<Page<String>, AwsError> {
        let status = if stopped {
            DesiredStatus::Stopped
        } else {
            DesiredStatus::Running
        };
        let out = self
            .list_tasks()
            .cluster(cluster)
            .desired_status(status)
            .set_service_name(service.map(str::to_string))
            .max_results(PAGE_SIZE)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ecs:ListTasks", format!("cluster {cluster}"), e))?;
        Ok((out.task_arns().to_vec(), out.next_token))
    }

    async fn describe_tasks(
        &self,
        cluster: &str,
        tasks: &[String],
    ) -> Result<Vec<TaskInfo>, AwsError> {
        let out = self
            .describe_tasks()
            .cluster(cluster)
            .set_tasks(Some(tasks.to_vec()))
            .send()
            .await
            .map_err(|e| {
                AwsError::from_sdk("ecs:DescribeTasks", format!("cluster {cluster}"), e)
            })?;
        // Tasks that stopped long ago drop out of DescribeTasks (`MISSING`); they no longer need
        // their images, so only other failures are holes in the scan.
        if let Some(f) = out
            .failures()
            .iter()
            .find(|f| f.reason() != Some("MISSING"))
        {
            return Err(failure(
                "ecs:DescribeTasks",
                format!("cluster {cluster}"),
                f,
            ));
        }
        Ok(out
            .tasks()
            .iter()
            .map(|t| TaskInfo {
                arn: t.task_arn().unwrap_or_default().to_string(),
                group: t.group().map(str::to_string),
                containers: t
                    .containers()
                    .iter()
                    .map(|c| pinned(c.name(), c.image(), c.image_digest()))
                    .collect(),
            })
            .collect())
    }

    async fn list_active_task_definitions(
        &self,
        token: Option<String>,
    ) -> Result<Page<(String, u32)>, AwsError> {
        let out = self
            .list_task_definitions()
            .status(TaskDefinitionStatus::Active)
            .max_results(PAGE_SIZE)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ecs:ListTaskDefinitions", "account", e))?;
        let listed: Result<Vec<_>, _> = out
            .task_definition_arns()
            .iter()
            .map(|arn| {
                parse_task_definition(arn).ok_or_else(|| {
                    AwsError::invalid(
                        "ecs:ListTaskDefinitions",
                        "account",
                        format!("unreadable ARN {arn:?}"),
                    )
                })
            })
            .collect();
        Ok((listed?, out.next_token))
    }

    async fn describe_task_definition(
        &self,
        family: &str,
        revision: u32,
    ) -> Result<Vec<ContainerImage>, AwsError> {
        let name = format!("{family}:{revision}");
        let out = self
            .describe_task_definition()
            .task_definition(&name)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ecs:DescribeTaskDefinition", name.clone(), e))?;
        let definition = out.task_definition().ok_or_else(|| {
            AwsError::invalid(
                "ecs:DescribeTaskDefinition",
                name.clone(),
                "no task definition returned",
            )
        })?;
        Ok(definition
            .container_definitions()
            .iter()
            .map(|c| ContainerImage {
                container: c.name().unwrap_or_default().to_string(),
                image: c.image().unwrap_or_default().to_string(),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_task_definition_names() {
        assert_eq!(
            parse_task_definition("arn:aws:ecs:us-east-1:123456789012:task-definition/web-app:12"),
            Some(("web-app".into(), 12))
        );
        assert_eq!(parse_task_definition("web:3"), Some(("web".into(), 3)));
        assert_eq!(parse_task_definition("web"), None);
        assert_eq!(parse_task_definition("web:latest"), None);
    }
}
