//! What uses images: every running task, service deployment, pinned service revision, task-definition
//! family and Lambda function the usage scan found, plus any part of the scan that did not complete.
//! Each usage source returns a [`Usage`] fragment; [`Usage::merge`] joins them.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::digest::Digest;
use crate::revisions::RevisionRole;

/// Everything the usage scan learned.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    /// Direct uses: running tasks, service-revision pins, Lambda functions.
    #[serde(default)]
    pub uses: Vec<Use>,
    /// Which task-definition revision each service deployment runs.
    #[serde(default)]
    pub deployments: Vec<Deployment>,
    /// Task-definition families: their existing revisions and, where described, their images.
    #[serde(default)]
    pub families: BTreeMap<String, Family>,
    /// Parts of the scan that failed. Any gap means: delete nothing.
    #[serde(default)]
    pub gaps: Vec<ScanGap>,
    /// Things the scan did differently than usual and the report should say (fallbacks).
    #[serde(default)]
    pub notes: Vec<String>,
}

/// One place that uses an image.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Use {
    pub consumer: Consumer,
    /// The image as the consumer names it (`repo:tag`, `repo@sha256:…`, or both).
    pub image: String,
    /// The digest the consumer is pinned to, when known apart from `image` (a task's `imageDigest`,
    /// a service revision's pinned digest, a Lambda's resolved image URI).
    #[serde(default)]
    pub pinned_digest: Option<Digest>,
}

/// Who uses an image.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Consumer {
    /// A task in RUNNING (or recently STOPPED) state.
    RunningTask {
        cluster: String,
        task: String,
        /// `service:NAME` or `family:NAME` as ECS reports the task's group.
        #[serde(default)]
        group: Option<String>,
        container: String,
        /// True for a recently stopped task (its replacement pulls the same digest).
        #[serde(default)]
        stopped: bool,
    },
    /// The digest a service revision pinned at deployment (software version consistency).
    ServiceRevision {
        cluster: String,
        service: String,
        container: String,
    },
    /// A task-definition revision a service deployment runs.
    ServiceDeployment {
        cluster: String,
        service: String,
        task_definition: String,
        container: String,
    },
    /// A Lambda function version or alias with a container image.
    Lambda { function: String, qualifier: String },
    /// A task-definition revision the revision rule keeps: newer than a revision a service runs,
    /// kept for rollback, or the newest of a family no service runs. Written with its role as the
    /// `kind` (`newer_revision`, `rollback_revision`, `standalone_latest`).
    #[serde(untagged)]
    Revision(RevisionUse),
}

/// A task-definition revision's container, and why the revision rule keeps the revision.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RevisionUse {
    #[serde(rename = "kind")]
    pub role: RevisionRole,
    pub task_definition: String,
    pub container: String,
}

impl Consumer {
    /// The ECS cluster involved, if any.
    pub fn cluster(&self) -> Option<&str> {
        match self {
            Consumer::RunningTask { cluster, .. }
            | Consumer::ServiceRevision { cluster, .. }
            | Consumer::ServiceDeployment { cluster, .. } => Some(cluster),
            _ => None,
        }
    }
}

impl fmt::Display for Consumer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Consumer::RunningTask {
                cluster,
                task,
                group,
                container,
                stopped,
            } => {
                let state = if *stopped { "stopped" } else { "running" };
                write!(f, "{state} task {task} in cluster {cluster}")?;
                if let Some(group) = group {
                    write!(f, " ({group})")?;
                }
                write!(f, ", container {container}")
            }
            Consumer::ServiceRevision {
                cluster,
                service,
                container,
            } => write!(
                f,
                "service {service} in cluster {cluster}, pinned digest of container {container}"
            ),
            Consumer::ServiceDeployment {
                cluster,
                service,
                task_definition,
                container,
            } => write!(
                f,
                "service {service} in cluster {cluster} deploys {task_definition}, container {container}"
            ),
            Consumer::Revision(RevisionUse {
                role,
                task_definition,
                container,
            }) => {
                let why = match role {
                    RevisionRole::InService => "run by a service",
                    RevisionRole::Newer => "newer than a service's revision",
                    RevisionRole::Rollback => "rollback revision",
                    RevisionRole::StandaloneLatest => "newest revision of a family no service runs",
                };
                write!(f, "{task_definition} ({why}), container {container}")
            }
            Consumer::Lambda {
                function,
                qualifier,
            } => write!(f, "Lambda function {function}:{qualifier}"),
        }
    }
}

impl Usage {
    /// Adds another fragment's uses, deployments, families, gaps and notes to this one.
    pub fn merge(&mut self, other: Usage) {
        self.uses.extend(other.uses);
        self.deployments.extend(other.deployments);
        for (name, family) in other.families {
            self.families
                .entry(name)
                .or_default()
                .revisions
                .extend(family.revisions);
        }
        self.gaps.extend(other.gaps);
        self.notes.extend(other.notes);
    }
}

/// A service deployment and the task-definition revision it runs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Deployment {
    pub cluster: String,
    pub service: String,
    pub family: String,
    pub revision: u32,
    /// `PRIMARY`, `ACTIVE`, or a task set's status.
    #[serde(default)]
    pub status: String,
}

/// A task-definition family's existing revisions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Family {
    /// Revision number → its containers' images, or `None` when the scan did not describe it.
    pub revisions: BTreeMap<u32, Option<Vec<ContainerImage>>>,
}

/// The image one container of a task definition names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ContainerImage {
    pub container: String,
    pub image: String,
}

/// A part of the usage scan that did not complete.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ScanGap {
    /// The API call or step (`ecs:DescribeTasks`).
    pub call: String,
    /// What it was about (a cluster, service, family or function).
    pub resource: String,
    /// The error, as the service or the scanner reported it.
    pub error: String,
}

impl fmt::Display for ScanGap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} on {} failed: {}",
            self.call, self.resource, self.error
        )
    }
}

/// Formats `family:revision`.
pub fn task_definition_name(family: &str, revision: u32) -> String {
    format!("{family}:{revision}")
}
