//! The task-definition revision rule: which revisions of a family must keep their images.
//!
//! For a family that services run: every existing revision from the newest down to the oldest one a
//! service deployment runs (newer ones serve `run-task` and the next deployment), plus the
//! `rollback` nearest existing older revisions (deregistered revisions are skipped, not counted).
//! For a family no service runs: its newest existing revision.
//!
//! The usage scan calls this to decide which revisions to describe; the planner calls it to decide
//! which revisions protect images. One rule, one place.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

/// Why a revision is needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum RevisionRole {
    /// A service deployment runs it.
    #[serde(rename = "in_service_revision")]
    InService,
    /// Newer than the oldest revision a service runs.
    #[serde(rename = "newer_revision")]
    Newer,
    /// One of the nearest older revisions, for rollback.
    #[serde(rename = "rollback_revision")]
    Rollback,
    /// The newest revision of a family no service runs.
    #[serde(rename = "standalone_latest")]
    StandaloneLatest,
}

/// The revisions of one family that must keep their images, newest first.
///
/// `existing` are the family's registered (ACTIVE) revisions, in any order; `in_service` the
/// revisions service deployments run (they may have been deregistered and still run).
pub fn needed_revisions(
    existing: impl IntoIterator<Item = u32>,
    in_service: &BTreeSet<u32>,
    rollback: u32,
) -> Vec<(u32, RevisionRole)> {
    let existing: BTreeSet<u32> = existing.into_iter().collect();
    let Some(&oldest_in_service) = in_service.first() else {
        return existing
            .last()
            .map(|&newest| vec![(newest, RevisionRole::StandaloneLatest)])
            .unwrap_or_default();
    };
    let mut needed: Vec<(u32, RevisionRole)> = existing
        .range(oldest_in_service..)
        .chain(in_service.iter())
        .copied()
        .collect::<BTreeSet<u32>>()
        .into_iter()
        .rev()
        .map(|rev| {
            let role = if in_service.contains(&rev) {
                RevisionRole::InService
            } else {
                RevisionRole::Newer
            };
            (rev, role)
        })
        .collect();
    needed.extend(
        existing
            .range(..oldest_in_service)
            .rev()
            .take(rollback as usize)
            .map(|&rev| (rev, RevisionRole::Rollback)),
    );
    needed
}

#[cfg(test)]
mod tests {
    use super::RevisionRole::*;
    use super::*;

    #[test]
    fn seed_revision_table() {
        // Revisions 5..=11 with 8 deregistered; the service runs 9.
        let existing = [5, 6, 7, 9, 10, 11];
        let got = needed_revisions(existing, &BTreeSet::from([9]), 1);
        assert_eq!(
            got,
            vec![(11, Newer), (10, Newer), (9, InService), (7, Rollback)]
        );
    }

    #[test]
    fn family_without_services_keeps_its_newest() {
        assert_eq!(
            needed_revisions([3, 1, 2], &BTreeSet::new(), 1),
            vec![(3, StandaloneLatest)]
        );
        assert_eq!(needed_revisions([], &BTreeSet::new(), 1), vec![]);
    }

    #[test]
    fn deregistered_revision_in_service_is_still_needed() {
        // The service runs 4, which was deregistered; 5 and 6 exist.
        let got = needed_revisions([2, 3, 5, 6], &BTreeSet::from([4]), 2);
        assert_eq!(
            got,
            vec![
                (6, Newer),
                (5, Newer),
                (4, InService),
                (3, Rollback),
                (2, Rollback)
            ]
        );
    }

    #[test]
    fn two_services_on_different_revisions_span_the_range() {
        let got = needed_revisions(1..=6, &BTreeSet::from([3, 5]), 0);
        assert_eq!(
            got,
            vec![(6, Newer), (5, InService), (4, Newer), (3, InService)]
        );
    }
}
