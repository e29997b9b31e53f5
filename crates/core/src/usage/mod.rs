//! What uses images: every running task, service deployment, pinned service revision, task-definition
//! family and Lambda function the usage scan found, plus any part of the scan that did not complete.
//! Each usage source returns a [`Usage`] fragment; [`Usage::merge`] joins them.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::digest::Digest;

mod consumer;
mod gap;

pub use consumer::{Consumer, Origin, Pinner, RevisionUse};
pub use gap::{Blocks, ScanGap};

/// Everything the usage scan learned in one account and region (or, merged, in several of the
/// same account and region).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    /// Where this usage was gathered, when more than one account or region is scanned: its
    /// consumers are named with it, and its task-definition families are its own.
    #[serde(default)]
    pub origin: Option<Origin>,
    /// Direct uses: running tasks, service-revision pins, Lambda functions.
    #[serde(default)]
    pub uses: Vec<Use>,
    /// Which task-definition revision each service deployment runs.
    #[serde(default)]
    pub deployments: Vec<Deployment>,
    /// Task-definition families: their existing revisions and, where described, their images.
    #[serde(default)]
    pub families: BTreeMap<String, Family>,
    /// Task-definition revisions that rules and schedules run (the revision rule treats them like
    /// revisions a service runs).
    #[serde(default)]
    pub pins: Vec<RevisionPin>,
    /// Batch job definitions that rules and schedules submit, as they name them; the scan resolves
    /// them to images.
    #[serde(default)]
    pub job_definition_pins: Vec<JobDefinitionPin>,
    /// Parts of the scan that failed. A gap withholds the deletions it could concern.
    #[serde(default)]
    pub gaps: Vec<ScanGap>,
    /// Accounts whose consumers were scanned: a repository policy granting pull to any other
    /// principal means unscanned consumers.
    #[serde(default)]
    pub scanned_accounts: BTreeSet<String>,
    /// Regions usage was gathered in (for replication destinations).
    #[serde(default)]
    pub scanned_regions: BTreeSet<String>,
    /// The organization whose every ACTIVE account was scanned (`ACCOUNTS=organization`): a
    /// policy granting it pull is covered.
    #[serde(default)]
    pub scanned_organization: Option<String>,
    /// Consumers that use some digest of a repository the scan cannot see (an App Runner service
    /// without automatic deployment): nothing in that repository is deleted.
    #[serde(default)]
    pub holds: Vec<Hold>,
    /// What was deliberately not looked at (clusters outside `CLUSTERS`), for the report's warnings.
    #[serde(default)]
    pub unscanned: Vec<String>,
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
        self.pins.extend(other.pins);
        self.job_definition_pins.extend(other.job_definition_pins);
        self.gaps.extend(other.gaps);
        self.scanned_accounts.extend(other.scanned_accounts);
        self.scanned_regions.extend(other.scanned_regions);
        self.scanned_organization = self
            .scanned_organization
            .take()
            .or(other.scanned_organization);
        self.holds.extend(other.holds);
        self.unscanned.extend(other.unscanned);
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

/// A consumer that uses an unknown digest of the repository `image` names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Hold {
    pub image: String,
    /// Who, and why the digest is unknown.
    pub by: String,
}

/// A task-definition revision a rule or schedule runs. Without a revision, the family's newest
/// ACTIVE revision (the scan resolves it).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RevisionPin {
    pub family: String,
    #[serde(default)]
    pub revision: Option<u32>,
    pub by: Pinner,
}

/// A Batch job definition a rule or schedule submits: a name (newest ACTIVE revision),
/// `name:revision`, or an ARN with or without the revision.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct JobDefinitionPin {
    pub job_definition: String,
    pub by: Pinner,
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

/// Formats `family:revision`.
pub fn task_definition_name(family: &str, revision: u32) -> String {
    format!("{family}:{revision}")
}
