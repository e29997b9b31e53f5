//! The plan: for every image of every managed repository, keep (with every reason) or delete (with
//! the reason nothing keeps it), plus the findings an operator must act on.
//!
//! [`plan`] is a pure function of (inventory, usage, policy, now). It does no I/O and never reads
//! the clock. The safety property lives here: an image that anything uses (directly by digest,
//! through the tag it points to now, as the child of a kept image index, or as a referrer of a kept
//! image) is never planned for deletion, and if any part of the usage scan is missing nothing is.
//!
//! The steps, one file each: [`index`] the repositories, [`resolve`] every use to an image,
//! [`retain`] what the policy keeps, [`decide`] keep or delete, and hold the repository's own
//! lifecycle policy against the result ([`lifecycle_risk`]).

mod decide;
mod finding;
mod index;
mod lifecycle_risk;
mod reason;
mod resolve;
mod retain;
mod task_definitions;
mod unscanned;
mod usages;

use std::collections::BTreeSet;

use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::Serialize;

pub use finding::{AtRisk, LifecycleRisk, Missing, MissingProblem, UnscannedConsumers};
pub use reason::{DeleteReason, Reason, Via};

use crate::digest::Digest;
use crate::inventory::{Inventory, Listing, Repository};
use crate::policy::Policy;
use crate::time::Timestamp;
use crate::usage::{Blocks, ScanGap, Usage};
use index::RepoIndex;
use resolve::Resolver;
use usages::resolve_usages;

/// The outcome of planning.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Plan {
    /// Managed, completely listed repositories, by name.
    pub repositories: Vec<RepositoryPlan>,
    /// In-use references that cannot be pulled: the image is gone, archived or never existed.
    pub missing: Vec<Missing>,
    /// In-use digests that are untagged: any "expire untagged" lifecycle rule will delete them.
    pub at_risk: Vec<AtRisk>,
    /// In-use images a repository's own lifecycle policy would expire or archive.
    pub lifecycle_risks: Vec<LifecycleRisk>,
    /// Repositories principals ecr-warden did not scan can pull from: nothing in them is deleted.
    pub unscanned_consumers: Vec<UnscannedConsumers>,
    /// Every part of the usage scan that did not complete. A gap that blocks everything means
    /// the plan deletes nothing; a narrower one, nothing in the repositories it names.
    pub withheld: Vec<ScanGap>,
    /// Repositories a narrower gap holds: named by it, or reachable by an account that was not
    /// scanned.
    pub held: BTreeSet<String>,
    /// References that could not be parsed, and similar problems that do not block the plan.
    pub warnings: Vec<String>,
    /// Scan notes (fallbacks taken), passed through for the report.
    pub notes: Vec<String>,
    /// What the scan deliberately did not look at, passed through for the report.
    pub unscanned: Vec<String>,
    /// In-use references to registries this run does not manage (Docker Hub, other accounts).
    pub external_references: usize,
}

/// The decisions for one repository.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RepositoryPlan {
    pub name: String,
    /// Kept images, newest first.
    pub keep: Vec<Keep>,
    /// Images to delete, in the order they must be deleted (image indexes before their children).
    pub delete: Vec<Deletion>,
}

/// An image that stays, and every reason it stays.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Keep {
    pub digest: Digest,
    pub tags: Vec<String>,
    pub reasons: Vec<Reason>,
    /// ECR's `imageSizeInBytes`, when it gave one.
    pub size_bytes: Option<i64>,
}

impl Keep {
    /// True when something uses the image (not just a retention rule keeping it).
    pub fn in_use(&self) -> bool {
        self.reasons.iter().any(Reason::is_use)
    }
}

/// An image to delete.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Deletion {
    pub digest: Digest,
    pub tags: Vec<String>,
    pub pushed_at: Timestamp,
    pub last_pulled_at: Option<Timestamp>,
    pub is_index: bool,
    pub reason: DeleteReason,
    /// ECR's `imageSizeInBytes`, when it gave one.
    pub size_bytes: Option<i64>,
}

/// Counts for reports and metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub repositories: usize,
    pub images: usize,
    pub protected: usize,
    pub in_use: usize,
    pub deletions: usize,
    pub missing: usize,
    pub at_risk: usize,
    pub lifecycle_risks: usize,
}

impl Plan {
    /// True when the plan deletes nothing because the usage scan is incomplete.
    pub fn is_withheld(&self) -> bool {
        self.withheld.iter().any(|g| g.blocks.is_everything())
    }

    /// Repositories where a gap narrower than everything withholds deletions.
    pub fn held_repositories(&self) -> Vec<String> {
        let mut held = self.repositories_held_by_gaps();
        held.extend(self.held.iter().cloned());
        held.into_iter().collect()
    }

    fn repositories_held_by_gaps(&self) -> BTreeSet<String> {
        (self.withheld.iter())
            .filter_map(|g| match &g.blocks {
                Blocks::Repository { repository } => Some(repository.clone()),
                _ => None,
            })
            .collect()
    }

    /// True when some part of the usage scan did not complete.
    pub fn is_incomplete(&self) -> bool {
        !self.withheld.is_empty()
    }

    /// Every deletion with its repository, in order.
    pub fn deletions(&self) -> impl Iterator<Item = (&str, &Deletion)> {
        self.repositories
            .iter()
            .flat_map(|r| r.delete.iter().map(move |d| (r.name.as_str(), d)))
    }

    /// Counts of what the plan decided.
    pub fn summary(&self) -> Summary {
        let mut s = Summary {
            repositories: self.repositories.len(),
            missing: self.missing.len(),
            at_risk: self.at_risk.len(),
            lifecycle_risks: self.lifecycle_risks.len(),
            ..Summary::default()
        };
        for repo in &self.repositories {
            s.images += repo.keep.len() + repo.delete.len();
            s.protected += repo.keep.len();
            s.in_use += repo.keep.iter().filter(|k| k.in_use()).count();
            s.deletions += repo.delete.len();
        }
        s
    }
}

/// Below this many images, planning runs on the calling thread only.
const PARALLEL_THRESHOLD: usize = 50_000;

/// Applies `f` to every item, on all cores when `parallel`; results keep the items' order.
fn map_items<T: Send, R: Send>(
    items: Vec<T>,
    parallel: bool,
    f: impl Fn(T) -> Option<R> + Sync + Send,
) -> Vec<R> {
    if parallel {
        let results: Vec<Option<R>> = items.into_par_iter().map(f).collect();
        results.into_iter().flatten().collect()
    } else {
        items.into_iter().filter_map(f).collect()
    }
}

/// Plans what to keep and what to delete. Pure: same input, same plan.
pub fn plan(inventory: &Inventory, usage: &Usage, policy: &Policy, now: Timestamp) -> Plan {
    plan_scopes(inventory, std::slice::from_ref(usage), policy, now)
}

/// Plans one registry against the usage of several accounts and regions, each with its own
/// task-definition families and each naming its consumers with its origin.
pub fn plan_scopes(
    inventory: &Inventory,
    usages: &[Usage],
    policy: &Policy,
    now: Timestamp,
) -> Plan {
    let parallel = inventory.image_count() >= PARALLEL_THRESHOLD;
    plan_with(inventory, usages, policy, now, parallel)
}

fn plan_with(
    inventory: &Inventory,
    usages: &[Usage],
    policy: &Policy,
    now: Timestamp,
    parallel: bool,
) -> Plan {
    let entries: Vec<(&String, &Repository)> = inventory.repositories.iter().collect();
    let mut repos: Vec<RepoIndex> = map_items(entries, parallel, |(name, repo)| {
        Some(RepoIndex::new(name, repo))
    });
    let position: FxHashMap<&str, usize> =
        repos.iter().enumerate().map(|(i, r)| (r.name, i)).collect();

    let mut resolver = Resolver::new(inventory, &mut repos, &position);
    let (gaps, warnings) = resolve_usages(&mut resolver, inventory, usages, policy);
    let found = resolver.finish();
    let mut withheld: Vec<ScanGap> = gaps.into_iter().chain(found.gaps).collect();
    withheld.sort();
    withheld.dedup();
    let mut out = Plan {
        missing: found.missing,
        at_risk: found.at_risk,
        warnings: found.warnings.into_iter().chain(warnings).collect(),
        notes: unique(usages.iter().flat_map(|u| u.notes.iter())),
        unscanned: unique(usages.iter().flat_map(|u| u.unscanned.iter())),
        external_references: found.external,
        withheld,
        ..Plan::default()
    };
    let everything = out.is_withheld();
    out.held = out.repositories_held_by_gaps();
    let blocked = blocked_accounts(&out.withheld);
    let scanned = unscanned::Scanned::new(inventory, usages);

    // Each repository's lookups are dropped as soon as its decisions are made.
    let decided = map_items(repos, parallel, |mut repo| {
        if repo.repo.listing != Listing::Complete || !policy.manages(repo.name) {
            return None;
        }
        retain::retain(&mut repo, policy, now);
        retain::close_over_indexes_and_referrers(&mut repo);
        let (risks, warning) = lifecycle_risk::lifecycle_risks(&repo, now);
        let access = unscanned::Access::of(inventory, usages, repo.name, repo.repo);
        let consumers = access.unscanned(&scanned);
        let held_for_account = access.reachable_by(&blocked);
        let hold = if everything || held_for_account || out.held.contains(repo.name) {
            Some(Reason::ScanIncomplete)
        } else {
            (!consumers.is_empty()).then_some(Reason::Unscanned)
        };
        let unscanned = (!consumers.is_empty()).then(|| UnscannedConsumers {
            region: None,
            repository: repo.name.to_string(),
            consumers,
        });
        let held = held_for_account.then(|| repo.name.to_string());
        Some((decide::decide(repo, hold), risks, warning, unscanned, held))
    });
    for (repository, risks, warning, unscanned, held) in decided {
        out.repositories.push(repository);
        out.lifecycle_risks.extend(risks);
        out.warnings.extend(warning);
        out.unscanned_consumers.extend(unscanned);
        out.held.extend(held);
    }
    out
}

/// Accounts whose consumers a gap says were not scanned.
fn blocked_accounts(gaps: &[ScanGap]) -> BTreeSet<String> {
    (gaps.iter())
        .filter_map(|g| match &g.blocks {
            Blocks::Account { account } => Some(account.clone()),
            _ => None,
        })
        .collect()
}

fn unique<'a>(items: impl Iterator<Item = &'a String>) -> Vec<String> {
    let mut seen = BTreeSet::new();
    items.filter(|i| seen.insert(*i)).cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::{Image, MediaType};
    use crate::time::DAY;
    use crate::usage::{Consumer, Use};

    fn digest(n: u32) -> Digest {
        let mut bytes = [0u8; 32];
        bytes[..4].copy_from_slice(&n.to_le_bytes());
        bytes[4..8].copy_from_slice(&n.wrapping_mul(2_654_435_761).to_le_bytes());
        Digest::from_bytes(bytes)
    }

    #[test]
    fn parallel_and_sequential_planning_agree() {
        let mut inventory = Inventory::default();
        for r in 0..40u32 {
            let images = (0..50u32)
                .map(|i| Image {
                    tags: if i % 3 == 0 {
                        vec![]
                    } else {
                        vec![format!("t{i}")]
                    },
                    children: if i % 10 == 0 {
                        vec![digest(r * 100 + i + 1)]
                    } else {
                        vec![]
                    },
                    media_type: if i % 10 == 0 {
                        MediaType::Index
                    } else {
                        MediaType::Manifest
                    },
                    ..Image::new(digest(r * 100 + i), Timestamp(i64::from(i) * DAY))
                })
                .collect();
            inventory.repositories.insert(
                format!("repo-{r}"),
                Repository {
                    images,
                    ..Repository::default()
                },
            );
        }
        let uses = (0..200u32)
            .map(|u| Use {
                consumer: Consumer::Lambda {
                    function: format!("f{u}"),
                    qualifier: "1".into(),
                },
                image: format!(
                    "123456789012.dkr.ecr.us-east-1.amazonaws.com/repo-{}:t{}",
                    u % 40,
                    u % 50
                ),
                pinned_digest: None,
            })
            .collect();
        let usage = Usage {
            uses,
            ..Usage::default()
        };
        let policy = Policy::default();
        let now = Timestamp(60 * DAY);
        let one = plan_with(
            &inventory,
            std::slice::from_ref(&usage),
            &policy,
            now,
            false,
        );
        let many = plan_with(&inventory, std::slice::from_ref(&usage), &policy, now, true);
        assert_eq!(one, many);
        assert_eq!(one.repositories.len(), 40);
        assert!(one.deletions().count() > 0 && one.summary().in_use > 0);
    }
}
