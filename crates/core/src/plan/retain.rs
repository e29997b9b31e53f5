//! Retention: the policy's rules (newest N, pushed or pulled within D days, keep-tag patterns) add
//! reasons to keep; then every kept image index keeps its children and every kept image its
//! referrers. Retention only ever adds protection.

use super::index::RepoIndex;
use super::reason::Reason;
use crate::inventory::Image;
use crate::policy::Policy;
use crate::time::Timestamp;

/// Adds retention reasons.
pub(super) fn retain(repo: &mut RepoIndex, policy: &Policy, now: Timestamp) {
    let images = &repo.repo.images;
    if policy.keep_recent > 0 {
        let mut top_level: Vec<u32> = (0..images.len() as u32)
            .filter(|&i| !repo.is_child[i as usize] && images[i as usize].subject.is_none())
            .collect();
        let keep = policy.keep_recent;
        let k = (keep as usize).min(top_level.len());
        let newest_first =
            |a: &u32, b: &u32| Image::newest_first(&images[*a as usize], &images[*b as usize]);
        if k > 0 && k < top_level.len() {
            top_level.select_nth_unstable_by(k - 1, newest_first);
        }
        top_level.truncate(k);
        top_level.sort_unstable_by(newest_first);
        for (rank, i) in top_level.into_iter().enumerate() {
            repo.keep(
                i,
                Reason::Recent {
                    rank: rank as u32 + 1,
                    keep,
                },
            );
        }
    }
    let pushed_after = (policy.keep_pushed_within_days > 0)
        .then(|| now.days_before(policy.keep_pushed_within_days));
    let pulled_after = (policy.keep_pulled_within_days > 0)
        .then(|| now.days_before(policy.keep_pulled_within_days));
    for (i, image) in images.iter().enumerate() {
        let i = i as u32;
        if let Some((pattern, tag)) = policy.kept_tag(&image.tags) {
            let reason = Reason::KeepTag {
                pattern: pattern.to_string(),
                tag: tag.to_string(),
            };
            repo.keep(i, reason);
        }
        if pushed_after.is_some_and(|t| image.pushed_at >= t) {
            let days = policy.keep_pushed_within_days;
            repo.keep(i, Reason::PushedWithin { days });
        }
        if let (Some(t), Some(pulled)) = (pulled_after, image.last_pulled_at)
            && pulled >= t
        {
            let days = policy.keep_pulled_within_days;
            repo.keep(i, Reason::PulledWithin { days });
        }
    }
}

/// A kept index keeps its children; a kept image keeps its referrers; transitively.
pub(super) fn close_over_indexes_and_referrers(repo: &mut RepoIndex) {
    let mut work: Vec<u32> = (0..repo.kept.len() as u32)
        .filter(|&i| repo.kept[i as usize])
        .collect();
    while let Some(i) = work.pop() {
        let image = repo.image(i);
        for child in &image.children {
            if let Some(&c) = repo.by_digest.get(child) {
                let index = image.digest;
                if repo.keep(c, Reason::IndexChild { index }) {
                    work.push(c);
                }
            }
        }
        let referrers = repo
            .referrers
            .get(&image.digest)
            .cloned()
            .unwrap_or_default();
        for r in referrers {
            let subject = image.digest;
            if repo.keep(r, Reason::Referrer { subject }) {
                work.push(r);
            }
        }
    }
}
