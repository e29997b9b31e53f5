//! ECS `Task State Change` events for tasks that stopped with `CannotPullContainerError`: which
//! containers could not pull which image, and the digest they asked for when the error names it.

use serde::Deserialize;

use ecr_warden_core::digest::Digest;

use super::{Envelope, EventError, Trigger, detail, malformed};
use crate::aws::arn_name;

const NAME: &str = "ECS task state change";
const PULL_ERROR: &str = "CannotPullContainerError";

/// An ECS task that stopped because an image could not be pulled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullFailure {
    /// The account and region the event came from.
    pub account: Option<String>,
    pub region: Option<String>,
    pub cluster: String,
    pub task: String,
    pub group: Option<String>,
    pub stopped_reason: String,
    pub containers: Vec<FailedContainer>,
}

/// A container of a task that failed to pull.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedContainer {
    pub name: String,
    pub image: String,
    /// From the container's `imageDigest`, or from the error message's `@sha256:…`.
    pub digest: Option<Digest>,
}

/// The task in the event's detail, as much of it as this tool reads.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct TaskDetail {
    task_arn: Option<String>,
    cluster_arn: Option<String>,
    group: Option<String>,
    stopped_reason: Option<String>,
    containers: Option<Vec<ContainerDetail>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct ContainerDetail {
    name: Option<String>,
    image: Option<String>,
    image_digest: Option<String>,
    reason: Option<String>,
}

/// Reads a task state change: a pull failure, or any other change to ignore.
pub(super) fn parse(envelope: &Envelope) -> Result<Trigger, EventError> {
    let task: TaskDetail = detail(NAME, envelope)?;
    let stopped_reason = task.stopped_reason.unwrap_or_default();
    let containers: Vec<FailedContainer> = (task.containers.into_iter().flatten())
        .filter_map(|c| {
            let image = c.image.unwrap_or_default();
            let reason = c.reason.filter(|r| !r.is_empty());
            let failed = reason.as_deref().is_some_and(|r| r.contains(PULL_ERROR))
                || (stopped_reason.contains(PULL_ERROR) && stopped_reason.contains(&image));
            failed.then(|| FailedContainer {
                digest: (c.image_digest.and_then(|d| d.parse().ok()))
                    .or_else(|| digest_in(reason.as_deref().unwrap_or(&stopped_reason))),
                name: c.name.unwrap_or_default(),
                image,
            })
        })
        .collect();
    if containers.is_empty() && !stopped_reason.contains(PULL_ERROR) {
        return Ok(Trigger::Ignored {
            reason: "ECS task state change without a CannotPullContainerError".into(),
        });
    }
    let Some(task_arn) = task.task_arn.filter(|a| !a.is_empty()) else {
        return Err(malformed(NAME, "\"detail.taskArn\" is missing"));
    };
    Ok(Trigger::PullFailure(PullFailure {
        account: envelope.account.clone(),
        region: envelope.region.clone(),
        cluster: arn_name(&task.cluster_arn.unwrap_or_default()).to_string(),
        task: arn_name(&task_arn).to_string(),
        group: task.group,
        stopped_reason,
        containers,
    }))
}

/// The first `sha256:` digest in a text (ECS error messages name the reference they failed on).
pub fn digest_in(text: &str) -> Option<Digest> {
    let start = text.find("sha256:")?;
    text.get(start..start + 71)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_digest_in_a_pull_error() {
        let hex = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        let reason = format!(
            "CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to \
             resolve ref 123456789012.dkr.ecr.us-east-1.amazonaws.com/web:v1@sha256:{hex}: not found"
        );
        assert_eq!(digest_in(&reason).unwrap().hex(), hex);
        assert_eq!(digest_in("no digest here"), None);
        assert_eq!(digest_in("sha256:abc"), None);
    }
}
