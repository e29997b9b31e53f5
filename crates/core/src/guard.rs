//! Guard tags (opt-in with `GUARD_TAG_PREFIX`): every in-use digest of a managed repository carries
//! the tag `<prefix><first 12 hex of the digest>`, so that one top-priority lifecycle rule keeping
//! `<prefix>*` makes the native lifecycle policy unable to expire anything in use, and pinned
//! digests whose tag moved are no longer "untagged".
//!
//! Removing a tag in ECR deletes the image when it was the last one. So a guard tag is removed only
//! from an image that keeps another tag; an image whose only tag is a stale guard tag is left to
//! the plan (deleted if the plan deletes it) and otherwise reported as `stale_guard`.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::digest::Digest;
use crate::inventory::Inventory;
use crate::plan::Plan;

/// Hex characters of the digest in a guard tag.
pub const GUARD_HEX: usize = 12;

/// A guard tag on an image.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct GuardTag {
    pub repository: String,
    pub digest: Digest,
    pub tag: String,
}

/// What to do with guard tags.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GuardPlan {
    /// In-use images that lack their guard tag.
    pub add: Vec<GuardTag>,
    /// Stale guard tags on images that keep another tag.
    pub remove: Vec<GuardTag>,
    /// Stale guard tags that are their image's only tag, on images the plan keeps.
    pub stale: Vec<GuardTag>,
}

/// The guard tag for a digest.
pub fn guard_tag(prefix: &str, digest: &Digest) -> String {
    format!("{prefix}{}", digest.short_hex(GUARD_HEX))
}

/// True when `tag` has the shape of a guard tag with this prefix.
pub fn is_guard_tag(prefix: &str, tag: &str) -> bool {
    tag.strip_prefix(prefix).is_some_and(|hex| {
        hex.len() == GUARD_HEX
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// Decides guard tags from a plan. Pure.
pub fn plan_guards(inventory: &Inventory, plan: &Plan, prefix: &str) -> GuardPlan {
    let mut out = GuardPlan::default();
    for rp in &plan.repositories {
        let Some(repo) = inventory.repositories.get(&rp.name) else {
            continue;
        };
        let in_use: BTreeSet<Digest> = rp
            .keep
            .iter()
            .filter(|k| k.in_use())
            .map(|k| k.digest)
            .collect();
        let deleted: BTreeSet<Digest> = rp.delete.iter().map(|d| d.digest).collect();
        for image in &repo.images {
            let wanted = in_use
                .contains(&image.digest)
                .then(|| guard_tag(prefix, &image.digest));
            let entry = |tag: &str| GuardTag {
                repository: rp.name.clone(),
                digest: image.digest,
                tag: tag.to_string(),
            };
            if let Some(tag) = &wanted
                && !image.tags.contains(tag)
            {
                out.add.push(entry(tag));
            }
            // With an incomplete scan, "not in use" is not known: never take a guard away.
            if plan.is_withheld() {
                continue;
            }
            for tag in image.tags.iter().filter(|t| is_guard_tag(prefix, t)) {
                if Some(tag) == wanted.as_ref() {
                    continue;
                }
                if image.tags.len() > 1 {
                    out.remove.push(entry(tag));
                } else if !deleted.contains(&image.digest) {
                    out.stale.push(entry(tag));
                }
            }
        }
    }
    out.add.sort();
    out.remove.sort();
    out.stale.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::{Image, Repository};
    use crate::plan::{DeleteReason, Deletion, Keep, Reason, RepositoryPlan, Via};
    use crate::time::Timestamp;
    use crate::usage::{Consumer, ScanGap};
    use std::sync::Arc;

    fn d(n: u8) -> Digest {
        Digest::from_bytes([n; 32])
    }

    fn image(n: u8, tags: &[&str]) -> Image {
        Image {
            tags: tags.iter().map(|t| t.to_string()).collect(),
            ..Image::new(d(n), Timestamp(0))
        }
    }

    fn keep(n: u8, tags: &[&str], in_use: bool) -> Keep {
        let reason = if in_use {
            Reason::InUse {
                consumer: Arc::new(Consumer::Lambda {
                    function: "f".into(),
                    qualifier: "1".into(),
                }),
                via: Via::Digest,
            }
        } else {
            Reason::PushedWithin { days: 7 }
        };
        Keep {
            digest: d(n),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            reasons: vec![reason],
            size_bytes: None,
        }
    }

    #[test]
    fn adds_removes_and_reports_as_the_rules_say() {
        let g = |n: u8| guard_tag("inuse-", &d(n));
        let images = vec![
            image(1, &["v1"]),                     // in use, unguarded: add
            image(2, &[&g(2)]),                    // in use, guarded: nothing
            image(3, &["v3", &g(3)]),              // no longer in use, another tag: remove
            image(4, &[&g(4)]),                    // no longer in use, only tag, kept: stale
            image(5, &[&g(5)]),                    // no longer in use, only tag, deleted: nothing
            image(6, &["release", "inuse-other"]), // not a guard tag's shape: untouched
        ];
        let inventory = Inventory {
            repositories: [(
                "app".to_string(),
                Repository {
                    images,
                    ..Repository::default()
                },
            )]
            .into(),
            ..Inventory::default()
        };
        let plan = Plan {
            repositories: vec![RepositoryPlan {
                name: "app".into(),
                keep: vec![
                    keep(1, &["v1"], true),
                    keep(2, &[&g(2)], true),
                    keep(3, &["v3", &g(3)], false),
                    keep(4, &[&g(4)], false),
                    keep(6, &["release", "inuse-other"], false),
                ],
                delete: vec![Deletion {
                    digest: d(5),
                    tags: vec![g(5)],
                    pushed_at: Timestamp(0),
                    last_pulled_at: None,
                    is_index: false,
                    reason: DeleteReason::Unused,
                    size_bytes: None,
                }],
            }],
            ..Plan::default()
        };
        let tag = |n: u8, t: String| GuardTag {
            repository: "app".into(),
            digest: d(n),
            tag: t,
        };
        let guards = plan_guards(&inventory, &plan, "inuse-");
        assert_eq!(guards.add, vec![tag(1, g(1))]);
        assert_eq!(guards.remove, vec![tag(3, g(3))]);
        assert_eq!(guards.stale, vec![tag(4, g(4))]);

        // An incomplete scan adds guards but never removes one.
        let withheld = Plan {
            withheld: vec![ScanGap::new("ecs:ListTasks", "c", "x")],
            ..plan
        };
        let guards = plan_guards(&inventory, &withheld, "inuse-");
        assert_eq!(guards.add, vec![tag(1, g(1))]);
        assert!(guards.remove.is_empty() && guards.stale.is_empty());
    }

    #[test]
    fn recognises_guard_tags() {
        assert_eq!(guard_tag("inuse-", &d(0xab)), "inuse-abababababab");
        assert!(is_guard_tag("inuse-", "inuse-abababababab"));
        assert!(!is_guard_tag("inuse-", "inuse-ababababababab"));
        assert!(!is_guard_tag("inuse-", "inuse-ABABABABABAB"));
        assert!(!is_guard_tag("inuse-", "release-abababababab"));
    }
}
