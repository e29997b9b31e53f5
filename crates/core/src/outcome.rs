//! What acting on a plan did, as data: which deletions happened, which were skipped and why, which
//! ECR refused, and what was left for the next run. The shell deletes; the core reports.

use crate::digest::Digest;

/// An image left alone at deletion time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip {
    pub repository: String,
    pub digest: Digest,
    pub why: String,
}

/// What pruning did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PruneOutcome {
    pub deleted: Vec<(String, Digest)>,
    pub skipped: Vec<Skip>,
    /// (repository, digest, failure code, reason)
    pub failures: Vec<(String, Digest, String, String)>,
    /// Calls that failed outright, as the operator should read them.
    pub errors: Vec<String>,
    /// Deletions not attempted because time ran out.
    pub not_attempted: usize,
}

impl PruneOutcome {
    /// Adds another repository's outcome to this one.
    pub fn absorb(&mut self, other: PruneOutcome) {
        self.deleted.extend(other.deleted);
        self.skipped.extend(other.skipped);
        self.failures.extend(other.failures);
        self.errors.extend(other.errors);
        self.not_attempted += other.not_attempted;
    }

    /// What became of one planned deletion.
    pub fn outcome_of(&self, repository: &str, digest: &Digest) -> String {
        if self
            .deleted
            .iter()
            .any(|(r, d)| r == repository && d == digest)
        {
            return "deleted".into();
        }
        if let Some(f) = self
            .failures
            .iter()
            .find(|(r, d, _, _)| r == repository && d == digest)
        {
            return format!("failed: {}", f.2);
        }
        if let Some(s) = self
            .skipped
            .iter()
            .find(|s| s.repository == repository && s.digest == *digest)
        {
            return format!("skipped: {}", s.why);
        }
        "not_attempted".into()
    }
}
