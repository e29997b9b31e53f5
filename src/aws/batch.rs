//! AWS Batch, read-only: job definitions and the jobs waiting or running in each queue, with the
//! images their containers name (`containerProperties`, `ecsProperties`, `eksProperties` and
//! `nodeProperties`, the same paths inside each node range).

use std::future::Future;

use aws_sdk_batch::Client;
use aws_sdk_batch::types::{
    ContainerProperties, EcsProperties, EksProperties, JobDefinition, JobDetail, JobStatus,
    NodeProperties,
};

use ecr_warden_core::usage::ContainerImage;

use super::AwsError;

/// DescribeJobDefinitions (by id) and DescribeJobs take at most this many ids.
pub const ID_BATCH: usize = 100;
/// The job statuses between submission and completion: a job in one of them will pull, or is
/// running, its image.
pub const WAITING_OR_RUNNING: [&str; 5] =
    ["SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING"];

/// A job definition revision and its images.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobDefinitionInfo {
    pub name: String,
    pub revision: u32,
    pub containers: Vec<ContainerImage>,
}

/// A job and its images.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobInfo {
    pub id: String,
    pub name: String,
    pub containers: Vec<ContainerImage>,
}

/// The Batch calls the usage scan makes. Every list call follows its pages to the end.
pub trait BatchApi: Sync {
    /// Every ACTIVE job definition revision.
    fn active_job_definitions(
        &self,
    ) -> impl Future<Output = Result<Vec<JobDefinitionInfo>, AwsError>> + Send;
    /// The ACTIVE revisions of one job definition name.
    fn job_definitions_named(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Vec<JobDefinitionInfo>, AwsError>> + Send;
    /// Job definitions by `name:revision` or ARN (at most [`ID_BATCH`]), ACTIVE or INACTIVE.
    fn job_definitions(
        &self,
        ids: &[String],
    ) -> impl Future<Output = Result<Vec<JobDefinitionInfo>, AwsError>> + Send;
    /// Every job queue's ARN.
    fn job_queues(&self) -> impl Future<Output = Result<Vec<String>, AwsError>> + Send;
    /// The ids of a queue's jobs in one status.
    fn list_jobs(
        &self,
        queue: &str,
        status: &str,
    ) -> impl Future<Output = Result<Vec<String>, AwsError>> + Send;
    /// Jobs by id (at most [`ID_BATCH`]).
    fn describe_jobs(
        &self,
        ids: &[String],
    ) -> impl Future<Output = Result<Vec<JobInfo>, AwsError>> + Send;
}

impl BatchApi for Client {
    async fn active_job_definitions(&self) -> Result<Vec<JobDefinitionInfo>, AwsError> {
        let definitions: Vec<JobDefinition> = self
            .describe_job_definitions()
            .status("ACTIVE")
            .max_results(100)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| AwsError::from_sdk("batch:DescribeJobDefinitions", "account", e))?;
        Ok(definitions.iter().map(definition_info).collect())
    }

    async fn job_definitions_named(&self, name: &str) -> Result<Vec<JobDefinitionInfo>, AwsError> {
        let definitions: Vec<JobDefinition> = self
            .describe_job_definitions()
            .job_definition_name(name)
            .status("ACTIVE")
            .max_results(100)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| {
                let resource = format!("job definition {name}");
                AwsError::from_sdk("batch:DescribeJobDefinitions", resource, e)
            })?;
        Ok(definitions.iter().map(definition_info).collect())
    }

    async fn job_definitions(&self, ids: &[String]) -> Result<Vec<JobDefinitionInfo>, AwsError> {
        let out = self
            .describe_job_definitions()
            .set_job_definitions(Some(ids.to_vec()))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("batch:DescribeJobDefinitions", ids.join(","), e))?;
        Ok(out.job_definitions().iter().map(definition_info).collect())
    }

    async fn job_queues(&self) -> Result<Vec<String>, AwsError> {
        let queues: Vec<_> = self
            .describe_job_queues()
            .max_results(100)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| AwsError::from_sdk("batch:DescribeJobQueues", "account", e))?;
        Ok(queues
            .iter()
            .filter_map(|q| q.job_queue_arn().map(str::to_string))
            .collect())
    }

    async fn list_jobs(&self, queue: &str, status: &str) -> Result<Vec<String>, AwsError> {
        let jobs: Vec<_> = self
            .list_jobs()
            .job_queue(queue)
            .job_status(JobStatus::from(status))
            .max_results(1000)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| {
                AwsError::from_sdk("batch:ListJobs", format!("queue {queue} ({status})"), e)
            })?;
        Ok(jobs
            .iter()
            .filter_map(|j| j.job_id().map(str::to_string))
            .collect())
    }

    async fn describe_jobs(&self, ids: &[String]) -> Result<Vec<JobInfo>, AwsError> {
        let out = self
            .describe_jobs()
            .set_jobs(Some(ids.to_vec()))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("batch:DescribeJobs", ids.join(","), e))?;
        Ok(out.jobs().iter().map(job_info).collect())
    }
}

fn definition_info(d: &JobDefinition) -> JobDefinitionInfo {
    let mut containers = Vec::new();
    add_container(&mut containers, "container", d.container_properties());
    add_ecs(&mut containers, d.ecs_properties());
    add_eks(&mut containers, d.eks_properties());
    add_nodes(&mut containers, d.node_properties());
    JobDefinitionInfo {
        name: d.job_definition_name().unwrap_or_default().to_string(),
        revision: d.revision().unwrap_or_default().max(0) as u32,
        containers,
    }
}

fn job_info(j: &JobDetail) -> JobInfo {
    let mut containers = Vec::new();
    if let Some(image) = j.container().and_then(|c| c.image()) {
        containers.push(image_of("container", image));
    }
    for task in j
        .ecs_properties()
        .map(|e| e.task_properties())
        .unwrap_or_default()
    {
        for c in task.containers() {
            containers.extend(
                c.image()
                    .map(|i| image_of(c.name().unwrap_or("container"), i)),
            );
        }
    }
    if let Some(pod) = j.eks_properties().and_then(|e| e.pod_properties()) {
        for c in pod.containers().iter().chain(pod.init_containers()) {
            containers.extend(
                c.image()
                    .map(|i| image_of(c.name().unwrap_or("container"), i)),
            );
        }
    }
    add_nodes(&mut containers, j.node_properties());
    JobInfo {
        id: j.job_id().unwrap_or_default().to_string(),
        name: j.job_name().unwrap_or_default().to_string(),
        containers,
    }
}

fn image_of(container: &str, image: &str) -> ContainerImage {
    ContainerImage {
        container: container.to_string(),
        image: image.to_string(),
    }
}

fn add_container(out: &mut Vec<ContainerImage>, name: &str, c: Option<&ContainerProperties>) {
    if let Some(image) = c.and_then(|c| c.image()) {
        out.push(image_of(name, image));
    }
}

fn add_ecs(out: &mut Vec<ContainerImage>, ecs: Option<&EcsProperties>) {
    for task in ecs.map(|e| e.task_properties()).unwrap_or_default() {
        for c in task.containers() {
            out.extend(
                c.image()
                    .map(|i| image_of(c.name().unwrap_or("container"), i)),
            );
        }
    }
}

fn add_eks(out: &mut Vec<ContainerImage>, eks: Option<&EksProperties>) {
    if let Some(pod) = eks.and_then(|e| e.pod_properties()) {
        for c in pod.containers().iter().chain(pod.init_containers()) {
            out.extend(
                c.image()
                    .map(|i| image_of(c.name().unwrap_or("container"), i)),
            );
        }
    }
}

fn add_nodes(out: &mut Vec<ContainerImage>, nodes: Option<&NodeProperties>) {
    for range in nodes.map(|n| n.node_range_properties()).unwrap_or_default() {
        let name = format!("nodes {}", range.target_nodes().unwrap_or("*"));
        add_container(out, &name, range.container());
        add_ecs(out, range.ecs_properties());
        add_eks(out, range.eks_properties());
    }
}
