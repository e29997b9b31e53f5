//! Property tests over thousands of generated fleets. The safety invariant: no digest that any usage
//! references (directly, through a tag, as the child of an in-use index, or as a referrer of an in-use
//! image) is ever planned for deletion. Also: keeps and deletions partition each managed repository,
//! nothing is deleted while the scan is incomplete (nowhere, or in the repositories a narrower gap
//! names), and the plan is deterministic. Uses come from tasks and usage documents; revisions run
//! from services, rules and schedules.
//!
//! "In use" is computed here by an oracle written independently of the planner.

mod fleet;
#[path = "../support/mod.rs"]
mod support;

use std::collections::BTreeSet;

use ecr_warden_core::plan::plan_scopes;
use ecr_warden_core::usage::Blocks;
use ecr_warden_core::{Digest, ImageRef, Listing, ScanGap};
use fleet::*;
use proptest::prelude::*;

/// The oracle: every (repository, digest) that usage needs, computed naively.
fn in_use(fleet: &Fleet) -> BTreeSet<(String, Digest)> {
    let inv = &fleet.inventory;
    let mut images: Vec<(String, Option<Digest>)> = (fleet.usages.iter())
        .flat_map(|u| &u.uses)
        .map(|u| (u.image.clone(), u.pinned_digest))
        .collect();
    // Each scope's families are its own: the revision rule runs per scope.
    for usage in &fleet.usages {
        for (name, family) in &usage.families {
            let serving: Vec<u32> = (usage.deployments.iter())
                .filter(|d| &d.family == name)
                .map(|d| d.revision)
                .chain(
                    (usage.pins.iter())
                        .filter(|p| &p.family == name)
                        .filter_map(|p| p.revision),
                )
                .collect();
            let existing: Vec<u32> = family.revisions.keys().copied().collect();
            let mut needed: Vec<u32> = Vec::new();
            if let Some(&oldest) = serving.iter().min() {
                needed.extend(existing.iter().filter(|&&r| r >= oldest));
                needed.extend(&serving);
                let mut older: Vec<u32> =
                    existing.iter().copied().filter(|&r| r < oldest).collect();
                older.sort_unstable_by(|a, b| b.cmp(a));
                needed.extend(
                    older
                        .into_iter()
                        .take(fleet.policy.rollback_revisions as usize),
                );
            } else if let Some(&newest) = existing.iter().max() {
                needed.push(newest);
            }
            for rev in needed {
                if let Some(Some(containers)) = family.revisions.get(&rev) {
                    images.extend(containers.iter().map(|c| (c.image.clone(), None)));
                }
            }
        }
    }
    let mut used = BTreeSet::new();
    for (image, pinned) in images {
        let Ok(r) = ImageRef::parse(&image) else {
            continue;
        };
        if !r.is_in_registry("123456789012", "us-east-1") {
            continue;
        }
        let Some(repo) = inv.repositories.get(&r.repository) else {
            continue;
        };
        let found = match pinned.or(r.digest) {
            Some(d) => repo.images.iter().find(|i| i.digest == d),
            None => repo
                .images
                .iter()
                .find(|i| i.tags.iter().any(|t| Some(t) == r.tag.as_ref())),
        };
        if let Some(i) = found {
            used.insert((r.repository.clone(), i.digest));
        }
    }
    // Children of in-use indexes and referrers of in-use images, to a fixed point.
    loop {
        let before = used.len();
        for (name, repo) in &inv.repositories {
            for image in &repo.images {
                if used.contains(&(name.clone(), image.digest)) {
                    for c in &image.children {
                        if repo.images.iter().any(|i| i.digest == *c) {
                            used.insert((name.clone(), *c));
                        }
                    }
                }
                if let Some(s) = image.subject
                    && used.contains(&(name.clone(), s))
                {
                    used.insert((name.clone(), image.digest));
                }
            }
        }
        if used.len() == before {
            return used;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn nothing_in_use_is_ever_deleted(fleet in gen_fleet()) {
        let used = in_use(&fleet);
        let p = plan_scopes(&fleet.inventory, &fleet.usages, &fleet.policy, NOW);
        for (repo, d) in p.deletions() {
            prop_assert!(!used.contains(&(repo.to_string(), d.digest)),
                "{repo} {:?} is in use but planned for deletion", d.digest);
        }
    }

    #[test]
    fn kept_indexes_keep_their_children(fleet in gen_fleet()) {
        let p = plan_scopes(&fleet.inventory, &fleet.usages, &fleet.policy, NOW);
        for r in &p.repositories {
            let deleted: BTreeSet<Digest> = r.delete.iter().map(|d| d.digest).collect();
            let images = &fleet.inventory.repositories[&r.name].images;
            for k in &r.keep {
                let image = images.iter().find(|i| i.digest == k.digest).unwrap();
                for c in &image.children {
                    prop_assert!(!deleted.contains(c), "child of kept index {:?} is deleted", k.digest);
                }
            }
        }
    }

    #[test]
    fn keeps_and_deletions_partition_managed_repositories(fleet in gen_fleet()) {
        let p = plan_scopes(&fleet.inventory, &fleet.usages, &fleet.policy, NOW);
        let planned: BTreeSet<&str> = p.repositories.iter().map(|r| r.name.as_str()).collect();
        for (name, repo) in &fleet.inventory.repositories {
            let expected = repo.listing == Listing::Complete && fleet.policy.manages(name);
            prop_assert_eq!(planned.contains(name.as_str()), expected, "{} planned?", name);
        }
        for r in &p.repositories {
            let keep: Vec<Digest> = r.keep.iter().map(|k| k.digest).collect();
            let delete: Vec<Digest> = r.delete.iter().map(|d| d.digest).collect();
            let all: BTreeSet<Digest> = keep.iter().chain(&delete).copied().collect();
            let inventory: BTreeSet<Digest> =
                fleet.inventory.repositories[&r.name].images.iter().map(|i| i.digest).collect();
            prop_assert_eq!(keep.len() + delete.len(), inventory.len(), "an image is both kept and deleted, or neither");
            prop_assert_eq!(all, inventory);
            prop_assert!(r.keep.iter().all(|k| !k.reasons.is_empty()), "a keep without a reason");
        }
    }

    #[test]
    fn an_incomplete_scan_deletes_nothing_it_could_concern(fleet in gen_fleet()) {
        let p = plan_scopes(&fleet.inventory, &fleet.usages, &fleet.policy, NOW);
        let gaps: Vec<&ScanGap> = fleet.usages.iter().flat_map(|u| &u.gaps).collect();
        if gaps.iter().any(|g| g.blocks.is_everything()) {
            prop_assert!(p.is_withheld());
        }
        if p.is_withheld() {
            prop_assert_eq!(p.deletions().count(), 0);
        }
        for g in gaps {
            if let Blocks::Repository { repository } = &g.blocks {
                prop_assert!(p.deletions().all(|(r, _)| r != repository),
                    "{repository} is held by a gap but has deletions");
            }
        }
    }

    #[test]
    fn the_plan_is_deterministic_and_order_independent(fleet in gen_fleet(), seed in any::<u64>()) {
        let first = plan_scopes(&fleet.inventory, &fleet.usages, &fleet.policy, NOW);
        let again = plan_scopes(&fleet.inventory, &fleet.usages, &fleet.policy, NOW);
        prop_assert_eq!(&first, &again);

        // Listing order must not matter: reverse or rotate each repository's images and the uses.
        let mut shuffled = fleet.clone();
        for repo in shuffled.inventory.repositories.values_mut() {
            if seed % 2 == 0 { repo.images.reverse(); }
            else if !repo.images.is_empty() {
                let k = (seed as usize) % repo.images.len();
                repo.images.rotate_left(k);
            }
        }
        for u in &mut shuffled.usages {
            u.uses.reverse();
        }
        let other = plan_scopes(&shuffled.inventory, &shuffled.usages, &shuffled.policy, NOW);
        prop_assert_eq!(&first.repositories, &other.repositories);
        prop_assert_eq!(&first.missing, &other.missing);
        prop_assert_eq!(&first.at_risk, &other.at_risk);
    }
}
