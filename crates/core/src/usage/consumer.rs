//! Who uses an image: every kind of consumer a usage source can report, and how a report names it.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::revisions::RevisionRole;

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
    /// An EventBridge rule's target that runs a task definition or submits a Batch job (enabled
    /// or not: a disabled rule can be enabled again).
    EventBridgeRule {
        bus: String,
        rule: String,
        /// The task definition or job definition it runs (`family:revision`, `name:revision`).
        runs: String,
        container: String,
    },
    /// An EventBridge Scheduler schedule that runs a task definition or submits a Batch job.
    Schedule {
        group: String,
        name: String,
        runs: String,
        container: String,
    },
    /// The newest ACTIVE revision of a Batch job definition (`SubmitJob` without a revision
    /// runs it).
    BatchJobDefinition {
        job_definition: String,
        container: String,
    },
    /// A Batch job between SUBMITTED and RUNNING.
    BatchJob {
        queue: String,
        job: String,
        container: String,
    },
    /// An App Runner service whose source is an ECR image.
    AppRunner { service: String },
    /// A usage document: images something ecr-warden cannot scan itself uses (EKS, CI, other
    /// platforms).
    UsageDocument { source: String, location: String },
    /// A consumer in another account or region than the registry's own (when several were
    /// scanned): reports name its account and region first.
    InScope {
        account: String,
        region: String,
        consumer: Box<Consumer>,
    },
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

/// What pins a task-definition or job-definition revision besides a service: a rule's or a
/// schedule's target.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Pinner {
    Rule { bus: String, rule: String },
    Schedule { group: String, name: String },
}

impl Pinner {
    /// The consumer this pinner is for one container of what it runs.
    pub fn consumer(&self, runs: String, container: String) -> Consumer {
        match self.clone() {
            Pinner::Rule { bus, rule } => Consumer::EventBridgeRule {
                bus,
                rule,
                runs,
                container,
            },
            Pinner::Schedule { group, name } => Consumer::Schedule {
                group,
                name,
                runs,
                container,
            },
        }
    }
}

impl fmt::Display for Pinner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pinner::Rule { bus, rule } => write!(f, "EventBridge rule {rule} on bus {bus}"),
            Pinner::Schedule { group, name } => {
                write!(f, "EventBridge Scheduler schedule {group}/{name}")
            }
        }
    }
}

impl Consumer {
    /// The ECS cluster involved, if any.
    pub fn cluster(&self) -> Option<&str> {
        match self {
            Consumer::RunningTask { cluster, .. }
            | Consumer::ServiceRevision { cluster, .. }
            | Consumer::ServiceDeployment { cluster, .. } => Some(cluster),
            Consumer::InScope { consumer, .. } => consumer.cluster(),
            _ => None,
        }
    }

    /// This consumer, named with the account and region it runs in.
    pub fn in_scope(self, origin: Option<&Origin>) -> Consumer {
        match origin {
            Some(o) => Consumer::InScope {
                account: o.account.clone(),
                region: o.region.clone(),
                consumer: Box::new(self),
            },
            None => self,
        }
    }
}

/// An account and region usage was gathered in.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Origin {
    pub account: String,
    pub region: String,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "account {} {}", self.account, self.region)
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
            Consumer::EventBridgeRule { .. }
            | Consumer::Schedule { .. }
            | Consumer::BatchJobDefinition { .. }
            | Consumer::BatchJob { .. }
            | Consumer::AppRunner { .. }
            | Consumer::UsageDocument { .. } => self.fmt_beyond_ecs(f),
            Consumer::InScope {
                account,
                region,
                consumer,
            } => write!(f, "account {account} {region} {consumer}"),
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

impl Consumer {
    /// How the consumers beyond ECS services, tasks and Lambda are named.
    fn fmt_beyond_ecs(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Consumer::EventBridgeRule {
                bus,
                rule,
                runs,
                container,
            } => write!(
                f,
                "EventBridge rule {rule} on bus {bus} runs {runs}, container {container}"
            ),
            Consumer::Schedule {
                group,
                name,
                runs,
                container,
            } => write!(
                f,
                "EventBridge Scheduler schedule {group}/{name} runs {runs}, container {container}"
            ),
            Consumer::BatchJobDefinition {
                job_definition,
                container,
            } => write!(
                f,
                "Batch job definition {job_definition} (newest ACTIVE revision), container {container}"
            ),
            Consumer::BatchJob {
                queue,
                job,
                container,
            } => write!(f, "Batch job {job} in queue {queue}, container {container}"),
            Consumer::AppRunner { service } => write!(f, "App Runner service {service}"),
            Consumer::UsageDocument { source, location } => {
                write!(f, "{source} (usage document {location})")
            }
            _ => unreachable!("named by Display"),
        }
    }
}
