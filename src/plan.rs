//! The plan: for every image of every managed repository, keep (with every reason) or delete (with
//! the reason nothing keeps it), plus the findings an operator must act on.
//!
//! [`plan`] is a pure function of (inventory, usage, policy, now). It does no I/O and never reads
//! the clock. The safety property lives here: an image that anything uses — directly by digest,
//! through the tag it points to now, as the child of a kept image index, or as a referrer of a kept
//! image — is never planned for deletion, and if any part of the usage scan is missing nothing is.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use rustc_hash::FxHashMap;

use serde::{Deserialize, Serialize};

use crate::digest::Digest;
use crate::inventory::{Image, ImageStatus, Inventory, Listing, Repository};
use crate::lifecycle::{LifecyclePolicy, Verdict};
use crate::policy::Policy;
use crate::reference::{ImageRef, Registry};
use crate::revisions::{RevisionRole, needed_revisions};
use crate::time::{DAY, Timestamp};
use crate::usage::{Consumer, Deployment, ScanGap, Usage, task_definition_name};

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
    /// Why deletions are withheld. Non-empty means the plan deletes nothing.
    pub withheld: Vec<ScanGap>,
    /// References that could not be parsed, and similar problems that do not block the plan.
    pub warnings: Vec<String>,
    /// Scan notes (fallbacks taken), passed through for the report.
    pub notes: Vec<String>,
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
}

/// Why an image is kept.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    /// Something uses it. The consumer is shared by every image it protects.
    InUse { consumer: Arc<Consumer>, via: Via },
    /// It is listed by an image index that is kept.
    IndexChild { index: Digest },
    /// It refers to (signs, describes) an image that is kept.
    Referrer { subject: Digest },
    /// A tag matches a keep pattern.
    KeepTag { pattern: String, tag: String },
    /// Among the N most recently pushed images of the repository.
    Recent { rank: u32, keep: u32 },
    /// Pushed within the configured number of days.
    PushedWithin { days: u32 },
    /// Pulled within the configured number of days.
    PulledWithin { days: u32 },
    /// The usage scan is incomplete, so nothing is deleted.
    ScanIncomplete,
}

impl Reason {
    /// True for reasons that come from usage (directly or through an index or subject).
    pub fn is_use(&self) -> bool {
        matches!(
            self,
            Reason::InUse { .. } | Reason::IndexChild { .. } | Reason::Referrer { .. }
        )
    }
}

/// How a use reaches an image.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    /// The consumer is pinned to the digest.
    Digest,
    /// The consumer names a tag that points to the image now.
    Tag(String),
}

/// Why an image is deleted.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DeleteReason {
    /// Nothing uses it and no retention rule keeps it.
    Unused,
    /// It belongs to an image index that is deleted, and nothing else keeps it.
    ChildOfDeletedIndex { index: Digest },
    /// It refers to an image that is deleted, and nothing else keeps it.
    ReferrerOfDeletedImage { subject: Digest },
}

/// An in-use reference that cannot be pulled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Missing {
    pub repository: String,
    /// The reference as the consumers hold it (canonical form).
    pub reference: String,
    pub problem: MissingProblem,
    pub users: Vec<Consumer>,
}

/// What is wrong with a missing reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissingProblem {
    RepositoryNotFound,
    DigestNotFound,
    TagNotFound,
    Archived,
    Activating,
}

impl MissingProblem {
    pub fn describe(self) -> &'static str {
        match self {
            MissingProblem::RepositoryNotFound => "the repository does not exist",
            MissingProblem::DigestNotFound => "no image with this digest exists",
            MissingProblem::TagNotFound => "no image carries this tag",
            MissingProblem::Archived => "the image is archived and cannot be pulled until restored",
            MissingProblem::Activating => "the image is being restored from the archive",
        }
    }
}

/// An in-use image that the repository's native lifecycle policy would expire or archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LifecycleRisk {
    pub repository: String,
    pub digest: Digest,
    pub tags: Vec<String>,
    /// The rule that would act, and how.
    pub verdict: Verdict,
    /// Who uses the image.
    pub users: Vec<String>,
}

/// An in-use digest that no tag points to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AtRisk {
    pub repository: String,
    pub digest: Digest,
    pub users: Vec<Consumer>,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::InUse { consumer, via } => match via {
                Via::Digest => write!(f, "in use by {consumer} (by digest)"),
                Via::Tag(tag) => write!(f, "in use by {consumer} (through tag {tag})"),
            },
            Reason::IndexChild { index } => {
                write!(f, "listed by kept image index {}", index.short_hex(12))
            }
            Reason::Referrer { subject } => {
                write!(f, "refers to kept image {}", subject.short_hex(12))
            }
            Reason::KeepTag { pattern, tag } => {
                write!(f, "tag {tag} matches keep pattern {pattern}")
            }
            Reason::Recent { rank, keep } => {
                write!(f, "#{rank} of the {keep} most recently pushed")
            }
            Reason::PushedWithin { days } => write!(f, "pushed within {days} days"),
            Reason::PulledWithin { days } => write!(f, "pulled within {days} days"),
            Reason::ScanIncomplete => write!(f, "usage scan incomplete: nothing is deleted"),
        }
    }
}

impl fmt::Display for DeleteReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeleteReason::Unused => write!(f, "not in use and no retention rule keeps it"),
            DeleteReason::ChildOfDeletedIndex { index } => {
                write!(f, "belongs to deleted image index {}", index.short_hex(12))
            }
            DeleteReason::ReferrerOfDeletedImage { subject } => {
                write!(f, "refers to deleted image {}", subject.short_hex(12))
            }
        }
    }
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

/// Hashes a digest by its first eight bytes: digests are uniformly distributed already.
#[derive(Default)]
struct DigestHasher(u64);

impl Hasher for DigestHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut buf = [0u8; 8];
            buf[..chunk.len()].copy_from_slice(chunk);
            self.0 = self.0.rotate_left(5) ^ u64::from_le_bytes(buf);
        }
    }
}

type DigestMap<V> = HashMap<Digest, V, BuildHasherDefault<DigestHasher>>;

/// Lookups into one repository's images, and the reasons collected for them.
struct RepoIndex<'a> {
    name: &'a str,
    repo: &'a Repository,
    by_digest: DigestMap<u32>,
    by_tag: FxHashMap<&'a str, u32>,
    /// Subject digest → referrers' positions.
    referrers: DigestMap<Vec<u32>>,
    /// Positions of images some index in this repository lists.
    is_child: Vec<bool>,
    /// Positions of images with at least one reason to stay.
    kept: Vec<bool>,
    /// (image position, reason), in the order found.
    reasons: Vec<(u32, Reason)>,
}

impl<'a> RepoIndex<'a> {
    fn new(name: &'a str, repo: &'a Repository) -> Self {
        let n = repo.images.len();
        let mut by_digest = DigestMap::with_capacity_and_hasher(n, Default::default());
        let mut by_tag = FxHashMap::with_capacity_and_hasher(n, Default::default());
        let mut referrers: DigestMap<Vec<u32>> = DigestMap::default();
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

    fn image(&self, i: u32) -> &'a Image {
        &self.repo.images[i as usize]
    }

    /// Records a reason to keep image `i`; returns true if it was not kept before.
    fn keep(&mut self, i: u32, reason: Reason) -> bool {
        self.reasons.push((i, reason));
        !std::mem::replace(&mut self.kept[i as usize], true)
    }
}

/// Below this many images, planning runs on the calling thread only.
const PARALLEL_THRESHOLD: usize = 50_000;

/// Applies `f` to every item, consuming it, spread over the machine's cores when `parallel`;
/// results keep the items' order.
fn map_in_parallel<T: Send, R: Send>(
    items: Vec<T>,
    parallel: bool,
    f: impl Fn(T) -> Option<R> + Sync,
) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    if !parallel || threads < 2 || items.len() < 2 {
        return items.into_iter().filter_map(&f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    let mut parts: Vec<Vec<T>> = Vec::with_capacity(threads);
    let mut items = items.into_iter();
    loop {
        let part: Vec<T> = items.by_ref().take(chunk).collect();
        if part.is_empty() {
            break;
        }
        parts.push(part);
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = parts
            .into_iter()
            .map(|part| scope.spawn(|| part.into_iter().filter_map(&f).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("planner thread panicked"))
            .collect()
    })
}

/// Plans what to keep and what to delete. Pure: same input, same plan.
pub fn plan(inventory: &Inventory, usage: &Usage, policy: &Policy, now: Timestamp) -> Plan {
    let parallel = inventory.image_count() >= PARALLEL_THRESHOLD;
    plan_with(inventory, usage, policy, now, parallel)
}

fn plan_with(
    inventory: &Inventory,
    usage: &Usage,
    policy: &Policy,
    now: Timestamp,
    parallel: bool,
) -> Plan {
    let mut out = Plan {
        notes: usage.notes.clone(),
        withheld: usage.gaps.clone(),
        ..Plan::default()
    };
    let entries: Vec<(&String, &Repository)> = inventory.repositories.iter().collect();
    let mut repos: Vec<RepoIndex> = map_in_parallel(entries, parallel, |(name, repo)| {
        Some(RepoIndex::new(name, repo))
    });
    let position: FxHashMap<&str, usize> =
        repos.iter().enumerate().map(|(i, r)| (r.name, i)).collect();

    let mut resolver = Resolver {
        inventory,
        repos: &mut repos,
        position: &position,
        missing: BTreeMap::new(),
        at_risk: BTreeMap::new(),
        warnings: Vec::new(),
        external: 0,
    };
    let mut gaps: Vec<ScanGap> = Vec::new();

    for u in &usage.uses {
        resolver.apply(&Arc::new(u.consumer.clone()), &u.image, u.pinned_digest);
    }

    // Task-definition revisions: the revision rule decides which revisions protect their images.
    let mut in_service: BTreeMap<&str, Vec<&Deployment>> = BTreeMap::new();
    for d in &usage.deployments {
        in_service.entry(&d.family).or_default().push(d);
    }
    for (family, fam) in &usage.families {
        let deployments = in_service.remove(family.as_str()).unwrap_or_default();
        let serving: BTreeSet<u32> = deployments.iter().map(|d| d.revision).collect();
        let needed = needed_revisions(
            fam.revisions.keys().copied(),
            &serving,
            policy.rollback_revisions,
        );
        for (revision, role) in needed {
            let task_definition = task_definition_name(family, revision);
            let Some(Some(containers)) = fam.revisions.get(&revision) else {
                gaps.push(ScanGap {
                    call: "ecs:DescribeTaskDefinition".into(),
                    resource: task_definition,
                    error: "revision needed by the revision rule was not described".into(),
                });
                continue;
            };
            for c in containers {
                let task_definition = task_definition.clone();
                let container = c.container.clone();
                let consumers: Vec<Consumer> = match role {
                    RevisionRole::InService => deployments
                        .iter()
                        .filter(|d| d.revision == revision)
                        .map(|d| Consumer::ServiceDeployment {
                            cluster: d.cluster.clone(),
                            service: d.service.clone(),
                            task_definition: task_definition.clone(),
                            container: container.clone(),
                        })
                        .collect(),
                    RevisionRole::Newer => vec![Consumer::NewerRevision {
                        task_definition,
                        container,
                    }],
                    RevisionRole::Rollback => vec![Consumer::RollbackRevision {
                        task_definition,
                        container,
                    }],
                    RevisionRole::StandaloneLatest => vec![Consumer::StandaloneLatest {
                        task_definition,
                        container,
                    }],
                };
                for consumer in consumers {
                    resolver.apply(&Arc::new(consumer), &c.image, None);
                }
            }
        }
    }
    // Deployments whose family the scan did not report at all.
    for deployment in in_service.values().flatten() {
        gaps.push(ScanGap {
            call: "ecs:DescribeTaskDefinition".into(),
            resource: task_definition_name(&deployment.family, deployment.revision),
            error: "a service deployment runs this revision but it was not described".into(),
        });
    }
    let Resolver {
        missing,
        at_risk,
        warnings,
        external,
        ..
    } = resolver;
    out.withheld.extend(gaps);
    out.withheld.sort();
    out.withheld.dedup();
    out.warnings = warnings;
    out.external_references = external;
    out.missing = missing
        .into_iter()
        .map(|((repository, reference, problem), users)| Missing {
            repository,
            reference,
            problem,
            users: users.into_iter().map(|c| (*c).clone()).collect(),
        })
        .collect();
    out.at_risk = at_risk
        .into_iter()
        .map(|((repository, digest), users)| AtRisk {
            repository,
            digest,
            users: users.into_iter().map(|c| (*c).clone()).collect(),
        })
        .collect();

    let withheld = out.is_withheld();
    // Each repository's lookups are dropped as soon as its decisions are made.
    let decided = map_in_parallel(repos, parallel, |mut repo| {
        if repo.repo.listing != Listing::Complete || !policy.manages(repo.name) {
            return None;
        }
        retain(&mut repo, policy, now);
        close_over_indexes_and_referrers(&mut repo);
        let (risks, warning) = lifecycle_risks(&repo, now);
        Some((decide(repo, withheld), risks, warning))
    });
    for (repository, risks, warning) in decided {
        out.repositories.push(repository);
        out.lifecycle_risks.extend(risks);
        out.warnings.extend(warning);
    }
    out
}

/// In-use images the repository's own lifecycle policy would act on.
fn lifecycle_risks(repo: &RepoIndex, now: Timestamp) -> (Vec<LifecycleRisk>, Option<String>) {
    let name = repo.name;
    let Some(text) = &repo.repo.lifecycle_policy else {
        let warning = repo.repo.lifecycle_error.as_ref().map(|e| {
            format!("repository {name}: the lifecycle policy could not be read, so it was not checked: {e}")
        });
        return (Vec::new(), warning);
    };
    let lifecycle = match LifecyclePolicy::parse(text) {
        Ok(p) => p,
        Err(e) => return (Vec::new(), Some(format!("repository {name}: {e}"))),
    };
    let verdicts = lifecycle.evaluate(&repo.repo.images, now);
    let mut users: BTreeMap<u32, BTreeSet<String>> = BTreeMap::new();
    for (i, reason) in &repo.reasons {
        if verdicts[*i as usize].is_some() && reason.is_use() {
            let user = match reason {
                Reason::InUse { consumer, .. } => consumer.to_string(),
                other => other.to_string(),
            };
            users.entry(*i).or_default().insert(user);
        }
    }
    let risks = users
        .into_iter()
        .filter_map(|(i, users)| {
            let image = repo.image(i);
            Some(LifecycleRisk {
                repository: name.to_string(),
                digest: image.digest,
                tags: image.tags.clone(),
                verdict: verdicts[i as usize].clone()?,
                users: users.into_iter().collect(),
            })
        })
        .collect();
    (risks, None)
}

type ConsumerSet = BTreeSet<Arc<Consumer>>;

/// Resolves uses to images, recording protection and findings.
struct Resolver<'i, 'r> {
    inventory: &'i Inventory,
    repos: &'r mut [RepoIndex<'i>],
    position: &'r FxHashMap<&'i str, usize>,
    missing: BTreeMap<(String, String, MissingProblem), ConsumerSet>,
    at_risk: BTreeMap<(String, Digest), ConsumerSet>,
    warnings: Vec<String>,
    external: usize,
}

impl Resolver<'_, '_> {
    fn apply(&mut self, consumer: &Arc<Consumer>, image: &str, pinned: Option<Digest>) {
        let reference = match ImageRef::parse(image) {
            Ok(r) => r,
            Err(e) => {
                self.warnings
                    .push(format!("{consumer}: cannot read image reference: {e}"));
                return;
            }
        };
        let inventory = self.inventory;
        let ours = match (&reference.registry, &inventory.account, &inventory.region) {
            (Registry::Ecr { .. }, Some(account), Some(region)) => {
                reference.is_in_registry(account, region)
            }
            (Registry::Ecr { .. }, _, _) => true,
            (Registry::Other { .. }, _, _) => false,
        };
        if !ours {
            self.external += 1;
            return;
        }
        let digest = pinned.or(reference.digest);
        let mut report_missing = |problem: MissingProblem| {
            let display = ImageRef {
                digest,
                ..reference.clone()
            }
            .to_string();
            self.missing
                .entry((reference.repository.clone(), display, problem))
                .or_default()
                .insert(consumer.clone());
        };
        let Some(&r) = self.position.get(reference.repository.as_str()) else {
            if !inventory.incomplete {
                report_missing(MissingProblem::RepositoryNotFound);
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
            report_missing(match via {
                Via::Digest => MissingProblem::DigestNotFound,
                Via::Tag(_) => MissingProblem::TagNotFound,
            });
            return;
        };
        let img = repo.image(i);
        match img.status {
            ImageStatus::Active => {}
            ImageStatus::Archived => report_missing(MissingProblem::Archived),
            ImageStatus::Activating => report_missing(MissingProblem::Activating),
        }
        if via == Via::Digest && img.tags.is_empty() && !repo.is_child[i as usize] {
            self.at_risk
                .entry((reference.repository.clone(), img.digest))
                .or_default()
                .insert(consumer.clone());
        }
        self.repos[r].keep(
            i,
            Reason::InUse {
                consumer: consumer.clone(),
                via,
            },
        );
    }
}

/// Adds retention reasons.
fn retain(repo: &mut RepoIndex, policy: &Policy, now: Timestamp) {
    let images = &repo.repo.images;
    if policy.keep_recent > 0 {
        let mut top_level: Vec<u32> = (0..images.len() as u32)
            .filter(|&i| !repo.is_child[i as usize] && images[i as usize].subject.is_none())
            .collect();
        let keep = policy.keep_recent;
        let k = (keep as usize).min(top_level.len());
        let newest_first = |a: &u32, b: &u32| {
            let (a, b) = (&images[*a as usize], &images[*b as usize]);
            b.pushed_at.cmp(&a.pushed_at).then(a.digest.cmp(&b.digest))
        };
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
        .then(|| Timestamp(now.0 - i64::from(policy.keep_pushed_within_days) * DAY));
    let pulled_after = (policy.keep_pulled_within_days > 0)
        .then(|| Timestamp(now.0 - i64::from(policy.keep_pulled_within_days) * DAY));
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
fn close_over_indexes_and_referrers(repo: &mut RepoIndex) {
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

/// Turns reasons into keeps and deletions.
fn decide(mut repo: RepoIndex, withheld: bool) -> RepositoryPlan {
    let images = &repo.repo.images;
    if withheld {
        for i in 0..images.len() as u32 {
            if !repo.kept[i as usize] {
                repo.keep(i, Reason::ScanIncomplete);
            }
        }
    }

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
        };
        keep.push((i, kept));
    }
    keep.sort_by(|(a, _), (b, _)| {
        let (x, y) = (&images[*a as usize], &images[*b as usize]);
        y.pushed_at.cmp(&x.pushed_at).then(x.digest.cmp(&y.digest))
    });

    // Why each deleted image goes: as a child of a deleted index, a referrer of a deleted image, or
    // because nothing keeps it. Where an image has several such reasons, the least one (by
    // `DeleteReason`'s order) is named, so the plan does not depend on map order.
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
    let mut delete: Vec<Deletion> = (0..images.len() as u32)
        .filter(|&i| deleted(i))
        .map(|i| {
            let image = &images[i as usize];
            Deletion {
                digest: image.digest,
                tags: image.tags.clone(),
                pushed_at: image.pushed_at,
                last_pulled_at: image.last_pulled_at,
                is_index: image.is_index(),
                reason: parent.remove(&i).unwrap_or(DeleteReason::Unused),
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
        keep: keep.into_iter().map(|(_, k)| k).collect(),
        delete,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::usage::Use;

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
                        crate::MediaType::Index
                    } else {
                        crate::MediaType::Manifest
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
        let one = plan_with(&inventory, &usage, &policy, now, false);
        let many = plan_with(&inventory, &usage, &policy, now, true);
        assert_eq!(one, many);
        assert_eq!(one.repositories.len(), 40);
        assert!(one.deletions().count() > 0 && one.summary().in_use > 0);
    }
}
