//! The decision: every image with a reason stays (with all its reasons); every other image goes,
//! with the reason nothing keeps it, image indexes ordered before their children. An incomplete
//! scan keeps everything.

use rustc_hash::FxHashMap;

use super::index::RepoIndex;
use super::reason::{DeleteReason, Reason};
use super::{Deletion, Keep, RepositoryPlan};
use crate::inventory::Image;

/// Turns reasons into keeps and deletions. With a `hold`, nothing is deleted: every image without
/// another reason is kept for that one.
pub(super) fn decide(mut repo: RepoIndex, hold: Option<Reason>) -> RepositoryPlan {
    if let Some(hold) = hold {
        for i in 0..repo.repo.images.len() as u32 {
            if !repo.kept[i as usize] {
                repo.keep(i, hold.clone());
            }
        }
    }
    let keep = keeps(&mut repo);
    let mut parent = delete_reasons(&repo);
    let images = &repo.repo.images;
    let mut delete: Vec<Deletion> = (0..images.len() as u32)
        .filter(|&i| !repo.kept[i as usize])
        .map(|i| {
            let image = &images[i as usize];
            Deletion {
                digest: image.digest,
                tags: image.tags.clone(),
                pushed_at: image.pushed_at,
                last_pulled_at: image.last_pulled_at,
                is_index: image.is_index(),
                reason: parent.remove(&i).unwrap_or(DeleteReason::Unused),
                size_bytes: image.size_bytes,
            }
        })
        .collect();
    // Indexes not listed by another deleted index first, then nested indexes, then the rest.
    delete.sort_by_key(|d| {
        let nested = matches!(d.reason, DeleteReason::ChildOfDeletedIndex { .. });
        (!d.is_index, nested, d.pushed_at, d.digest)
    });

    RepositoryPlan {
        name: repo.name.to_string(),
        keep,
        delete,
    }
}

/// Every kept image with all its reasons, newest first.
fn keeps(repo: &mut RepoIndex) -> Vec<Keep> {
    let images = &repo.repo.images;
    let mut reasons = std::mem::take(&mut repo.reasons);
    reasons.sort_by_key(|(i, _)| *i);
    let mut keep: Vec<(u32, Keep)> = Vec::new();
    for group in reasons.chunk_by(|a, b| a.0 == b.0) {
        let i = group[0].0;
        let image = &images[i as usize];
        let mut reasons: Vec<Reason> = group.iter().map(|(_, r)| r.clone()).collect();
        reasons.sort();
        reasons.dedup();
        let kept = Keep {
            digest: image.digest,
            tags: image.tags.clone(),
            reasons,
            size_bytes: image.size_bytes,
        };
        keep.push((i, kept));
    }
    keep.sort_by(|(a, _), (b, _)| Image::newest_first(&images[*a as usize], &images[*b as usize]));

    keep.into_iter().map(|(_, k)| k).collect()
}

/// Why each deleted image goes: as a child of a deleted index, a referrer of a deleted image, or
/// (absent here) because nothing keeps it. Where an image has several such reasons, the least one
/// (by `DeleteReason`'s order) is named, so the plan does not depend on map order.
fn delete_reasons(repo: &RepoIndex) -> FxHashMap<u32, DeleteReason> {
    let images = &repo.repo.images;
    let deleted = |i: u32| !repo.kept[i as usize];
    let mut parent: FxHashMap<u32, DeleteReason> = FxHashMap::default();
    let mut offer = |i: u32, reason: DeleteReason| {
        parent
            .entry(i)
            .and_modify(|r| {
                if reason < *r {
                    *r = reason.clone();
                }
            })
            .or_insert(reason);
    };
    for i in (0..images.len() as u32).filter(|&i| deleted(i)) {
        let image = &images[i as usize];
        for child in &image.children {
            if let Some(&c) = repo.by_digest.get(child)
                && deleted(c)
            {
                let index = image.digest;
                offer(c, DeleteReason::ChildOfDeletedIndex { index });
            }
        }
        if let Some(subject) = image.subject
            && repo.by_digest.get(&subject).is_some_and(|&s| deleted(s))
        {
            offer(i, DeleteReason::ReferrerOfDeletedImage { subject });
        }
    }
    parent
}
