//! Findings an operator must act on: in-use images that are missing, pinned digests that lost
//! their tag, and in-use images the repository's own lifecycle policy would remove.

use serde::{Deserialize, Serialize};

use crate::digest::Digest;
use crate::lifecycle::Verdict;
use crate::usage::Consumer;

/// An in-use reference that cannot be pulled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Missing {
    pub repository: String,
    /// The reference as the consumers hold it (canonical form).
    pub reference: String,
    pub problem: MissingProblem,
    pub users: Vec<Consumer>,
}

/// What is wrong with a missing reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissingProblem {
    RepositoryNotFound,
    DigestNotFound,
    TagNotFound,
    Archived,
    Activating,
}

impl MissingProblem {
    pub fn describe(self) -> &'static str {
        match self {
            MissingProblem::RepositoryNotFound => "the repository does not exist",
            MissingProblem::DigestNotFound => "no image with this digest exists",
            MissingProblem::TagNotFound => "no image carries this tag",
            MissingProblem::Archived => "the image is archived and cannot be pulled until restored",
            MissingProblem::Activating => "the image is being restored from the archive",
        }
    }
}

/// An in-use image that the repository's native lifecycle policy would expire or archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LifecycleRisk {
    pub repository: String,
    pub digest: Digest,
    pub tags: Vec<String>,
    /// The rule that would act, and how.
    pub verdict: Verdict,
    /// Who uses the image.
    pub users: Vec<String>,
}

/// An in-use digest that no tag points to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AtRisk {
    pub repository: String,
    pub digest: Digest,
    pub users: Vec<Consumer>,
}

/// A repository that principals ecr-warden did not scan can pull from (its policy or the registry's
/// grants them pull), or whose deletions replicate to a registry it did not scan. Nothing in it is
/// deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnscannedConsumers {
    /// The registry's region, when the run manages several.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    pub repository: String,
    /// Each principal or destination, and what lets it pull (`account 444455556666 (repository
    /// policy)`).
    pub consumers: Vec<String>,
}
