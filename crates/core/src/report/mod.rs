//! The run's report: what was kept and why, what was (or would be) deleted, and the findings. The
//! CLI prints it as a table or JSON; the Lambda handler returns it.

use std::fmt;

use serde::Serialize;

mod combine;
mod headline;
mod storage;

pub use storage::{DEFAULT_PRICE_PER_GB_MONTH, RepositoryStorage, human_bytes, monthly_cost};

use crate::digest::Digest;
use crate::guard::GuardTag;
use crate::outcome::{PruneOutcome, Skip};
use crate::plan::{AtRisk, LifecycleRisk, Missing, Plan, UnscannedConsumers};
use crate::time::Timestamp;

/// What a run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Scan and plan; never delete.
    Plan,
    /// Scan, plan and delete (unless dry run).
    Prune,
    /// Scan and verify that every in-use image exists; never delete.
    Check,
    /// Check the images of tasks an AWS Health event says will be replaced.
    Retirement,
    /// Diagnose a task that failed to pull its image.
    PullFailure,
    /// Scan one account and region into a usage document (a fan-out's step); never delete.
    ScanUsage,
    /// An event this tool does not handle.
    Ignored,
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mode::Plan => "plan",
            Mode::Prune => "prune",
            Mode::Check => "check",
            Mode::Retirement => "retirement check",
            Mode::PullFailure => "pull-failure diagnosis",
            Mode::ScanUsage => "usage scan",
            Mode::Ignored => "ignored event",
        })
    }
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub mode: Mode,
    pub dry_run: bool,
    /// What triggered the run (an event id, a schedule), when known.
    pub context: Option<String>,
    pub summary: ReportSummary,
    pub protected: Vec<ProtectedImage>,
    pub deletions: Vec<DeletionEntry>,
    pub missing: Vec<Missing>,
    pub at_risk: Vec<AtRisk>,
    /// In-use images a repository's own lifecycle policy would expire or archive.
    pub lifecycle_risks: Vec<LifecycleRisk>,
    pub delete_failures: Vec<DeleteFailure>,
    /// Why tasks failed to pull their images (pull-failure events).
    pub diagnoses: Vec<Diagnosis>,
    /// Guard tags added and removed (only with `GUARD_TAG_PREFIX`).
    pub guard: Option<GuardReport>,
    /// Each repository's kept and deleted images and bytes.
    pub repositories: Vec<RepositoryStorage>,
    /// How long the scan and plan took, in seconds.
    pub scan_seconds: u64,
    /// Repositories that principals ecr-warden did not scan can pull from; nothing in them was
    /// deleted.
    pub unscanned_consumers: Vec<UnscannedConsumers>,
    /// True when the usage scan failed somewhere.
    pub scan_incomplete: bool,
    /// True when, because of that, nothing at all was deleted.
    pub deletions_withheld: bool,
    /// Repositories where a narrower gap withheld deletions.
    pub held_repositories: Vec<String>,
    /// What was deliberately not looked at (clusters outside `CLUSTERS`): images only they use
    /// look unused.
    pub unscanned: Vec<String>,
    /// Deletion calls that failed outright (`BatchDeleteImage`, or the re-read before it).
    pub delete_errors: Vec<String>,
    pub errors: Vec<String>,
    pub notes: Vec<String>,
    pub warnings: Vec<String>,
}

/// Counts, and sizes (`imageSizeInBytes` summed: upper bounds, as layers shared between images
/// are counted in each).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct ReportSummary {
    pub repositories: usize,
    pub images: usize,
    pub protected: usize,
    pub in_use: usize,
    pub planned_deletions: usize,
    pub deleted: usize,
    pub skipped: usize,
    pub failed: usize,
    /// Deletions not attempted because the run ran out of time; the next run continues.
    pub remaining: usize,
    pub missing: usize,
    pub at_risk: usize,
    pub lifecycle_risks: usize,
    pub unscanned_consumers: usize,
    /// Sizes of every planned deletion.
    pub bytes_to_delete: u64,
    /// Sizes of the images deleted.
    pub bytes_reclaimed: u64,
    /// Sizes of the images kept though nothing uses them (retention rules).
    pub bytes_unused_kept: u64,
    /// True: the sizes count layers shared between images once per image.
    pub bytes_upper_bound: bool,
    /// What the run frees (deleted, or in a plan or dry run to delete) costs a month at
    /// `STORAGE_PRICE_PER_GB_MONTH`.
    pub monthly_saving_usd: f64,
}

/// A kept image and its reasons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProtectedImage {
    /// The registry's region, when the run manages several.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    pub repository: String,
    pub digest: Digest,
    pub tags: Vec<String>,
    pub reasons: Vec<String>,
    /// True when something uses it (not only a retention rule).
    pub in_use: bool,
    pub size_bytes: Option<i64>,
}

/// A planned deletion and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeletionEntry {
    /// The registry's region, when the run manages several.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    pub repository: String,
    pub digest: Digest,
    pub tags: Vec<String>,
    pub pushed_at: Timestamp,
    pub reason: String,
    /// `planned` (dry run or plan), `deleted`, `failed`, `skipped: …`, or `not_attempted`.
    pub outcome: String,
    pub size_bytes: Option<i64>,
}

/// Why one container could not pull its image, as far as ECR can tell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnosis {
    pub cluster: String,
    pub task: String,
    pub container: String,
    pub image: String,
    /// `image_missing`, `image_archived`, `repository_missing`, `image_present` or `other_registry`.
    pub cause: String,
    /// What the operator should do.
    pub advice: String,
}

/// What guard tagging did (or, in a dry run, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GuardReport {
    /// True when nothing was changed: `added` and `removed` are what would be done.
    pub dry_run: bool,
    pub added: Vec<GuardTag>,
    pub removed: Vec<GuardTag>,
    /// Stale guard tags that are their image's only tag, on images the plan keeps: removing the
    /// tag would delete the image, so they stay until the image goes.
    pub stale_guard: Vec<GuardTag>,
    pub failures: Vec<String>,
}

impl GuardReport {
    /// What a dry run reports: the plan, untouched.
    pub fn planned(plan: &crate::guard::GuardPlan) -> GuardReport {
        GuardReport {
            dry_run: true,
            added: plan.add.clone(),
            removed: plan.remove.clone(),
            stale_guard: plan.stale.clone(),
            failures: Vec::new(),
        }
    }
}

/// An image ECR refused to delete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeleteFailure {
    pub repository: String,
    pub digest: Digest,
    pub code: String,
    pub reason: String,
}

impl Report {
    /// A report with no scan (ignored events, malformed input).
    pub fn empty(mode: Mode, context: Option<String>) -> Report {
        Report {
            mode,
            dry_run: true,
            context,
            summary: ReportSummary::default(),
            protected: Vec::new(),
            deletions: Vec::new(),
            missing: Vec::new(),
            at_risk: Vec::new(),
            lifecycle_risks: Vec::new(),
            delete_failures: Vec::new(),
            diagnoses: Vec::new(),
            guard: None,
            repositories: Vec::new(),
            scan_seconds: 0,
            unscanned_consumers: Vec::new(),
            scan_incomplete: false,
            deletions_withheld: false,
            held_repositories: Vec::new(),
            unscanned: Vec::new(),
            delete_errors: Vec::new(),
            errors: Vec::new(),
            notes: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// Builds the report from a plan and, when deletions ran, their outcome.
    pub fn new(mode: Mode, dry_run: bool, plan: &Plan, pruned: Option<&PruneOutcome>) -> Report {
        let s = plan.summary();
        let mut report = Report {
            dry_run,
            summary: ReportSummary {
                repositories: s.repositories,
                images: s.images,
                protected: s.protected,
                in_use: s.in_use,
                planned_deletions: s.deletions,
                missing: s.missing,
                at_risk: s.at_risk,
                lifecycle_risks: s.lifecycle_risks,
                unscanned_consumers: plan.unscanned_consumers.len(),
                ..ReportSummary::default()
            },
            missing: plan.missing.clone(),
            at_risk: plan.at_risk.clone(),
            lifecycle_risks: plan.lifecycle_risks.clone(),
            unscanned_consumers: plan.unscanned_consumers.clone(),
            scan_incomplete: plan.is_incomplete(),
            deletions_withheld: plan.is_withheld(),
            held_repositories: plan.held_repositories(),
            unscanned: plan.unscanned.clone(),
            errors: plan.withheld.iter().map(ToString::to_string).collect(),
            notes: plan.notes.clone(),
            warnings: plan.warnings.clone(),
            ..Report::empty(mode, None)
        };
        for repo in &plan.repositories {
            report
                .protected
                .extend(repo.keep.iter().map(|k| ProtectedImage {
                    region: None,
                    repository: repo.name.clone(),
                    digest: k.digest,
                    tags: k.tags.clone(),
                    reasons: k.reasons.iter().map(ToString::to_string).collect(),
                    in_use: k.in_use(),
                    size_bytes: k.size_bytes,
                }));
        }
        for (repository, d) in plan.deletions() {
            let outcome = match pruned {
                None => "planned".to_string(),
                Some(p) => p.outcome_of(repository, &d.digest),
            };
            report.deletions.push(DeletionEntry {
                region: None,
                repository: repository.to_string(),
                digest: d.digest,
                tags: d.tags.clone(),
                pushed_at: d.pushed_at,
                reason: d.reason.to_string(),
                outcome,
                size_bytes: d.size_bytes,
            });
        }
        if let Some(p) = pruned {
            report.record_outcome(p);
        }
        report
    }

    /// Adds what deleting did: counts, refusals, failed calls, skips and what was left.
    fn record_outcome(&mut self, p: &PruneOutcome) {
        self.summary.deleted = p.deleted.len();
        self.summary.skipped = p.skipped.len();
        self.summary.failed = p.failures.len();
        self.summary.remaining = p.not_attempted;
        self.delete_failures = p
            .failures
            .iter()
            .map(|(repository, digest, code, reason)| DeleteFailure {
                repository: repository.clone(),
                digest: *digest,
                code: code.clone(),
                reason: reason.clone(),
            })
            .collect();
        self.delete_errors.extend(p.errors.iter().cloned());
        self.notes.extend(p.skipped.iter().map(
            |Skip {
                 repository,
                 digest,
                 why,
             }| { format!("skipped {repository}@{digest}: {why}") },
        ));
        if p.not_attempted > 0 {
            self.notes.push(format!(
                "{} deletion(s) not attempted before the time limit; the next run continues",
                p.not_attempted
            ));
        }
    }

    /// Cuts the protected and deletion lists to `limit` entries each (for size-limited responses),
    /// saying so in the notes; counts and findings are untouched.
    pub fn truncate_lists(&mut self, limit: usize) {
        let (p, d) = (self.protected.len(), self.deletions.len());
        if p > limit || d > limit {
            self.protected.truncate(limit);
            self.deletions.truncate(limit);
            self.notes.push(format!(
                "lists cut to {limit} entries ({p} protected, {d} deletions in full): run the CLI with --output json for all"
            ));
        }
    }

    /// True when a workload's image is missing or a lifecycle policy would remove it.
    pub fn needs_attention(&self) -> bool {
        self.has_missing() || !self.lifecycle_risks.is_empty()
    }

    /// True when something a workload needs cannot be pulled.
    pub fn has_missing(&self) -> bool {
        !self.missing.is_empty()
    }
}
