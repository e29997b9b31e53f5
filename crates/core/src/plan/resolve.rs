//! Resolves every use to the image it names (by digest, or through the tag that points to an image
//! now), records the reason to keep it, and notes what is missing or at risk. Task-definition
//! revisions go through the revision rule first.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::finding::{AtRisk, Missing, MissingProblem};
use super::index::RepoIndex;
use super::reason::{Reason, Via};
use crate::digest::Digest;
use crate::inventory::{ImageStatus, Inventory, Listing};
use crate::reference::ImageRef;
use crate::usage::{Blocks, Consumer, ScanGap};

pub(super) type ConsumerSet = BTreeSet<Arc<Consumer>>;

/// Resolves uses to images, recording protection and findings.
pub(super) struct Resolver<'i, 'r> {
    inventory: &'i Inventory,
    repos: &'r mut [RepoIndex<'i>],
    position: &'r FxHashMap<&'i str, usize>,
    missing: BTreeMap<(String, String, MissingProblem), ConsumerSet>,
    at_risk: BTreeMap<(String, Digest), ConsumerSet>,
    warnings: Vec<String>,
    gaps: Vec<ScanGap>,
    external: usize,
}

impl<'i, 'r> Resolver<'i, 'r> {
    pub(super) fn new(
        inventory: &'i Inventory,
        repos: &'r mut [RepoIndex<'i>],
        position: &'r FxHashMap<&'i str, usize>,
    ) -> Self {
        Resolver {
            inventory,
            repos,
            position,
            missing: BTreeMap::new(),
            at_risk: BTreeMap::new(),
            warnings: Vec::new(),
            gaps: Vec::new(),
            external: 0,
        }
    }

    /// What the uses found, once every use is applied.
    pub(super) fn finish(mut self) -> Findings {
        merge_tag_into_pin(&mut self.missing);
        let users = |set: ConsumerSet| set.into_iter().map(|c| (*c).clone()).collect();
        Findings {
            missing: self
                .missing
                .into_iter()
                .map(|((repository, reference, problem), set)| Missing {
                    repository,
                    reference,
                    problem,
                    users: users(set),
                })
                .collect(),
            at_risk: self
                .at_risk
                .into_iter()
                .map(|((repository, digest), set)| AtRisk {
                    repository,
                    digest,
                    users: users(set),
                })
                .collect(),
            warnings: self.warnings,
            gaps: self.gaps,
            external: self.external,
        }
    }

    /// Protects the image a use names, or records why it cannot.
    pub(super) fn apply(&mut self, consumer: &Arc<Consumer>, image: &str, pinned: Option<Digest>) {
        let Some(reference) = self.ours(consumer, image) else {
            return;
        };
        let digest = pinned.or(reference.digest);
        let Some(&r) = self.position.get(reference.repository.as_str()) else {
            if !self.inventory.incomplete {
                self.missing(
                    &reference,
                    digest,
                    MissingProblem::RepositoryNotFound,
                    consumer,
                );
            }
            return;
        };
        let repo = &self.repos[r];
        if repo.repo.listing == Listing::Unavailable {
            // Unknown images: nothing to protect by lookup and nothing to report; the scan gap
            // that made it unavailable already withholds every deletion.
            return;
        }
        let (found, via) = match (digest, &reference.tag) {
            (Some(d), _) => (repo.by_digest.get(&d).copied(), Via::Digest),
            (None, Some(tag)) => (
                repo.by_tag.get(tag.as_str()).copied(),
                Via::Tag(tag.clone()),
            ),
            (None, None) => unreachable!("a parsed reference has a tag or a digest"),
        };
        let Some(i) = found else {
            let problem = match via {
                Via::Digest => MissingProblem::DigestNotFound,
                Via::Tag(_) => MissingProblem::TagNotFound,
            };
            self.missing(&reference, digest, problem, consumer);
            return;
        };
        let img = repo.image(i);
        let untagged_pin = via == Via::Digest && img.tags.is_empty() && !repo.is_child[i as usize];
        let problem = match img.status {
            ImageStatus::Active => None,
            ImageStatus::Archived => Some(MissingProblem::Archived),
            ImageStatus::Activating => Some(MissingProblem::Activating),
        };
        if let Some(problem) = problem {
            self.missing(&reference, digest, problem, consumer);
        }
        if untagged_pin {
            self.at_risk
                .entry((reference.repository.clone(), img.digest))
                .or_default()
                .insert(consumer.clone());
        }
        let consumer = consumer.clone();
        self.repos[r].keep(i, Reason::InUse { consumer, via });
    }

    /// The reference, if it can be read and points into this registry; otherwise it is counted
    /// as external or warned about.
    fn ours(&mut self, consumer: &Consumer, image: &str) -> Option<ImageRef> {
        let inventory = self.inventory;
        let reference = match ImageRef::parse(image) {
            Ok(r) => r,
            Err(e) => {
                // What it uses is unknown: withhold deletions in the repository it seems to name,
                // or everywhere when not even that can be read.
                let blocks = match ImageRef::repository_hint(image) {
                    Some((registry, repository)) if inventory.is_ours(&registry) => {
                        Blocks::Repository { repository }
                    }
                    Some(_) => return None,
                    None => Blocks::Everything,
                };
                let gap = ScanGap::new("read image reference", consumer.to_string(), e.to_string());
                self.gaps.push(gap.blocking(blocks));
                return None;
            }
        };
        if !inventory.is_ours(&reference.registry) {
            self.external += 1;
            return None;
        }
        Some(reference)
    }

    /// Records that a use cannot pull what it names.
    fn missing(
        &mut self,
        reference: &ImageRef,
        digest: Option<Digest>,
        problem: MissingProblem,
        consumer: &Arc<Consumer>,
    ) {
        let display = ImageRef {
            digest,
            ..reference.clone()
        }
        .to_string();
        self.missing
            .entry((reference.repository.clone(), display, problem))
            .or_default()
            .insert(consumer.clone());
    }
}

/// A tag that is gone and the digest pinned under it (`repo:tag@sha256:…`) that is gone too are
/// one missing image, not two: the tag's users join the pinned digest's entry.
fn merge_tag_into_pin(missing: &mut BTreeMap<(String, String, MissingProblem), ConsumerSet>) {
    let tags: Vec<(String, String, MissingProblem)> = (missing.keys())
        .filter(|(_, _, problem)| *problem == MissingProblem::TagNotFound)
        .cloned()
        .collect();
    for tag in tags {
        let pinned = format!("{}@", tag.1);
        let pin = (missing.keys())
            .find(|(repository, reference, _)| {
                *repository == tag.0 && reference.starts_with(&pinned)
            })
            .cloned();
        if let Some(pin) = pin {
            let users = missing.remove(&tag).unwrap_or_default();
            missing.entry(pin).or_default().extend(users);
        }
    }
}

/// What resolving every use found.
pub(super) struct Findings {
    pub missing: Vec<Missing>,
    pub at_risk: Vec<AtRisk>,
    pub warnings: Vec<String>,
    /// Uses whose image reference cannot be read: what they use is unknown.
    pub gaps: Vec<ScanGap>,
    pub external: usize,
}
