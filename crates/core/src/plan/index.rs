//! One repository's images, indexed for the planner: by digest, by tag, referrers by subject, and
//! which images an index lists; plus the reasons to keep each image as they are found.

use rustc_hash::FxHashMap;

use super::reason::Reason;
use crate::digest::Digest;
use crate::inventory::{Image, Repository};

/// Lookups into one repository's images, and the reasons collected for them.
pub(super) struct RepoIndex<'a> {
    pub(super) name: &'a str,
    pub(super) repo: &'a Repository,
    pub(super) by_digest: FxHashMap<Digest, u32>,
    pub(super) by_tag: FxHashMap<&'a str, u32>,
    /// Subject digest → referrers' positions.
    pub(super) referrers: FxHashMap<Digest, Vec<u32>>,
    /// Positions of images some index in this repository lists.
    pub(super) is_child: Vec<bool>,
    /// Positions of images with at least one reason to stay.
    pub(super) kept: Vec<bool>,
    /// (image position, reason), in the order found.
    pub(super) reasons: Vec<(u32, Reason)>,
}

impl<'a> RepoIndex<'a> {
    pub(super) fn new(name: &'a str, repo: &'a Repository) -> Self {
        let n = repo.images.len();
        let mut by_digest = FxHashMap::with_capacity_and_hasher(n, Default::default());
        let mut by_tag = FxHashMap::with_capacity_and_hasher(n, Default::default());
        let mut referrers: FxHashMap<Digest, Vec<u32>> = FxHashMap::default();
        for (i, image) in repo.images.iter().enumerate() {
            by_digest.insert(image.digest, i as u32);
            for tag in &image.tags {
                by_tag.insert(tag.as_str(), i as u32);
            }
            if let Some(subject) = image.subject {
                referrers.entry(subject).or_default().push(i as u32);
            }
        }
        let mut is_child = vec![false; n];
        for image in repo.images.iter().filter(|i| i.is_index()) {
            for child in &image.children {
                if let Some(&c) = by_digest.get(child) {
                    is_child[c as usize] = true;
                }
            }
        }
        RepoIndex {
            name,
            repo,
            by_digest,
            by_tag,
            referrers,
            is_child,
            kept: vec![false; n],
            reasons: Vec::new(),
        }
    }

    pub(super) fn image(&self, i: u32) -> &'a Image {
        &self.repo.images[i as usize]
    }

    /// Records a reason to keep image `i`; returns true if it was not kept before.
    pub(super) fn keep(&mut self, i: u32, reason: Reason) -> bool {
        self.reasons.push((i, reason));
        !std::mem::replace(&mut self.kept[i as usize], true)
    }
}
