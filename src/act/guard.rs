//! Applying guard tags: adds the guard tag to in-use digests by putting each image's own manifest
//! again with the new tag, and removes stale guard tags only where the image keeps another tag
//! (re-read right before, since removing an image's last tag deletes it). The decision is the
//! core's ([`ecr_warden_core::guard`]).

use std::collections::BTreeMap;

use ecr_warden_core::digest::Digest;
use ecr_warden_core::guard::{GuardPlan, GuardTag};
use ecr_warden_core::report::GuardReport;

use super::Deadline;
use crate::aws::ecr::{EcrApi, EcrWrite, IMAGE_ID_BATCH, ImageId};

/// Adds and removes guard tags as planned, skipping images that were just deleted. A guard tag is
/// removed only after re-reading that the image still carries another tag. Stops when only the
/// deadline's reserve is left, and says how many were left for the next run.
pub async fn apply_guards<R: EcrApi + EcrWrite>(
    ecr: &R,
    guards: &GuardPlan,
    deleted: &[(String, Digest)],
    deadline: &Deadline,
) -> GuardReport {
    let mut out = GuardReport {
        stale_guard: guards.stale.clone(),
        ..GuardReport::default()
    };
    let mut by_repo: BTreeMap<&str, Vec<&GuardTag>> = BTreeMap::new();
    for g in &guards.add {
        by_repo.entry(&g.repository).or_default().push(g);
    }
    let mut left = 0;
    for (repo, tags) in by_repo {
        for batch in tags.chunks(IMAGE_ID_BATCH) {
            if !deadline.allows_another_batch() {
                left += batch.len();
                continue;
            }
            let digests: Vec<Digest> = batch.iter().map(|g| g.digest).collect();
            let manifests = match ecr.manifests(repo, &digests).await {
                Ok(m) => m,
                Err(e) => {
                    out.failures.push(e.to_string());
                    continue;
                }
            };
            for g in batch {
                let Some(m) = manifests.iter().find(|m| m.digest == g.digest) else {
                    out.failures
                        .push(format!("{repo}@{}: manifest not returned", g.digest));
                    continue;
                };
                match ecr.put_tag(repo, m, &g.tag).await {
                    Ok(()) => out.added.push((*g).clone()),
                    Err(e) => out.failures.push(e.to_string()),
                }
            }
        }
    }
    for g in &guards.remove {
        if !deadline.allows_another_batch() {
            left += 1;
            continue;
        }
        if deleted
            .iter()
            .any(|(r, d)| *r == g.repository && *d == g.digest)
        {
            continue;
        }
        // Re-read: remove the tag only if it still sits on that image next to another tag.
        let now = ecr
            .find_images(&g.repository, &[ImageId::Tag(g.tag.clone())])
            .await;
        match now {
            Ok(Some(images)) => match images.iter().find(|i| i.digest == g.digest) {
                Some(image) if image.tags.len() > 1 => match ecr.untag(&g.repository, &g.tag).await
                {
                    Ok(()) => out.removed.push(g.clone()),
                    Err(e) => out.failures.push(e.to_string()),
                },
                Some(_) => out.stale_guard.push(g.clone()),
                None => {}
            },
            Ok(None) => {}
            Err(e) => out.failures.push(e.to_string()),
        }
    }
    if left > 0 {
        out.failures.push(format!(
            "out of time: {left} guard tag(s) were not added or removed; the next run continues"
        ));
    }
    out
}
