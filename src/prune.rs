//! Acting on a plan: delete by digest, at most 100 per call, image indexes before their children,
//! after re-reading each repository to skip anything that changed since the scan.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::aws::AwsError;
use crate::aws::ecr::{EcrApi, IMAGE_ID_BATCH};
use crate::digest::Digest;
use crate::inventory::{Image, Inventory};
use crate::plan::Plan;

/// When the run must stop starting new deletion batches.
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    at: Option<Instant>,
    reserve: Duration,
}

impl Deadline {
    /// No time limit (the CLI).
    pub fn none() -> Self {
        Deadline {
            at: None,
            reserve: Duration::ZERO,
        }
    }

    /// Stop starting batches when less than `reserve` remains before `at`.
    pub fn at(at: Instant, reserve: Duration) -> Self {
        Deadline {
            at: Some(at),
            reserve,
        }
    }

    /// True while there is time for another batch.
    pub fn allows_another_batch(&self) -> bool {
        self.at
            .is_none_or(|at| at.saturating_duration_since(Instant::now()) > self.reserve)
    }
}

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
    /// Calls that failed outright.
    pub errors: Vec<AwsError>,
    /// Deletions not attempted because time ran out.
    pub not_attempted: usize,
}

impl PruneOutcome {
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

/// Deletes what the plan says, never anything else, never by tag. Does nothing for a withheld plan.
pub async fn prune<R: EcrApi>(
    ecr: &R,
    plan: &Plan,
    scanned: &Inventory,
    deadline: &Deadline,
) -> PruneOutcome {
    let mut out = PruneOutcome::default();
    if plan.is_withheld() {
        return out;
    }
    let mut out_of_time = false;
    for repo in plan.repositories.iter().filter(|r| !r.delete.is_empty()) {
        if out_of_time || !deadline.allows_another_batch() {
            out_of_time = true;
            out.not_attempted += repo.delete.len();
            continue;
        }
        let name = repo.name.as_str();
        let before: HashMap<Digest, &Image> = scanned
            .repositories
            .get(name)
            .map(|r| r.images.iter().map(|i| (i.digest, i)).collect())
            .unwrap_or_default();
        // Re-read the repository right before deleting from it.
        let now: HashMap<Digest, Image> = match ecr.list_images(name).await {
            Ok(images) => images.into_iter().map(|i| (i.digest, i)).collect(),
            Err(e) => {
                out.errors.push(e);
                out.not_attempted += repo.delete.len();
                continue;
            }
        };
        let mut indexes = Vec::new();
        let mut others = Vec::new();
        for d in &repo.delete {
            let changed = match (before.get(&d.digest), now.get(&d.digest)) {
                (_, None) => Some("no longer in the repository".to_string()),
                (None, Some(_)) => Some("not in the scan".to_string()),
                (Some(b), Some(n)) if sorted(&b.tags) != sorted(&n.tags) => Some(format!(
                    "tags changed since the scan ({:?} → {:?})",
                    b.tags, n.tags
                )),
                (Some(b), Some(n)) if b.pushed_at != n.pushed_at => {
                    Some("pushed again since the scan".into())
                }
                (Some(b), Some(n)) if n.last_pulled_at > b.last_pulled_at => {
                    Some("pulled since the scan".into())
                }
                _ => None,
            };
            match changed {
                Some(why) => out.skipped.push(Skip {
                    repository: name.to_string(),
                    digest: d.digest,
                    why,
                }),
                None if d.is_index => indexes.push(d.digest),
                None => others.push(d.digest),
            }
        }
        // Indexes in their own batches first: ECR refuses to delete a child its index still lists.
        let batches: Vec<&[Digest]> = indexes
            .chunks(IMAGE_ID_BATCH)
            .chain(others.chunks(IMAGE_ID_BATCH))
            .collect();
        for (i, batch) in batches.iter().enumerate() {
            if !deadline.allows_another_batch() {
                out_of_time = true;
                out.not_attempted += batches[i..].iter().map(|b| b.len()).sum::<usize>();
                break;
            }
            match ecr.delete_images(name, batch).await {
                Ok(result) => {
                    out.deleted
                        .extend(result.deleted.into_iter().map(|d| (name.to_string(), d)));
                    out.failures.extend(
                        result
                            .failures
                            .into_iter()
                            .map(|(d, code, reason)| (name.to_string(), d, code, reason)),
                    );
                }
                Err(e) => {
                    out.errors.push(e);
                    out.not_attempted += batches[i..].iter().map(|b| b.len()).sum::<usize>();
                    break;
                }
            }
        }
    }
    out
}

fn sorted(tags: &[String]) -> Vec<&str> {
    let mut t: Vec<&str> = tags.iter().map(String::as_str).collect();
    t.sort_unstable();
    t
}
