//! The lifecycle preview: what a repository's own lifecycle policy would do to each of its images,
//! next to what ecr-warden knows of them (in use, kept, or to be deleted).

use std::collections::HashMap;

use serde::Serialize;

use crate::digest::Digest;
use crate::inventory::{Image, Repository};
use crate::lifecycle::{LifecycleError, LifecyclePolicy, Verdict};
use crate::plan::{Keep, RepositoryPlan};
use crate::time::Timestamp;

/// One image of a lifecycle preview: what the native policy would do next to what ecr-warden knows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PreviewRow {
    pub digest: Digest,
    pub tags: Vec<String>,
    pub pushed_at: Timestamp,
    /// What the lifecycle policy would do (`None`: nothing).
    pub lifecycle: Option<Verdict>,
    /// Why ecr-warden keeps the image (empty when it would delete it).
    pub kept_because: Vec<String>,
    /// True when something uses the image.
    pub in_use: bool,
}

/// What the repository's lifecycle policy would do to each of its images, newest first, next to
/// ecr-warden's plan for them.
pub fn preview(
    repository: &Repository,
    plan: &RepositoryPlan,
    now: Timestamp,
) -> Result<Vec<PreviewRow>, LifecycleError> {
    let policy = match &repository.lifecycle_policy {
        Some(text) => Some(LifecyclePolicy::parse(text)?),
        None => None,
    };
    let verdicts = policy
        .map(|p| p.evaluate(&repository.images, now))
        .unwrap_or_else(|| vec![None; repository.images.len()]);
    let mut order: Vec<usize> = (0..repository.images.len()).collect();
    order.sort_by(|&a, &b| Image::newest_first(&repository.images[a], &repository.images[b]));
    let kept: HashMap<Digest, &Keep> = plan.keep.iter().map(|k| (k.digest, k)).collect();
    let rows = order
        .into_iter()
        .map(|i| (&repository.images[i], verdicts[i].clone()))
        .map(|(image, lifecycle)| {
            let kept = kept.get(&image.digest);
            PreviewRow {
                digest: image.digest,
                tags: image.tags.clone(),
                pushed_at: image.pushed_at,
                lifecycle,
                kept_because: kept
                    .map(|k| k.reasons.iter().map(ToString::to_string).collect())
                    .unwrap_or_default(),
                in_use: kept.is_some_and(|k| k.in_use()),
            }
        })
        .collect();
    Ok(rows)
}
