//! The alert's sections: one per finding, each saying what is wrong, who is affected and what to
//! do, in the order an operator should read them.

use std::fmt::{Display, Write};

use crate::plan::{AtRisk, LifecycleRisk, Missing, UnscannedConsumers};
use crate::report::{Diagnosis, Report};

/// Every section the report calls for, worst first.
pub(super) fn all(report: &Report) -> Vec<String> {
    let mut sections: Vec<String> = report.diagnoses.iter().map(pull_failure).collect();
    sections.extend(report.missing.iter().map(missing));
    if report.scan_incomplete {
        sections.push(list(
            "SCAN INCOMPLETE: nothing was deleted where it could matter, because these calls failed:",
            &report.errors,
            "check the function's IAM permissions and the failing service's health; the next run \
             retries.",
        ));
    }
    sections.extend(report.lifecycle_risks.iter().map(lifecycle_risk));
    if !report.delete_errors.is_empty() {
        sections.push(list(
            "DELETE FAILED: these calls failed, so some planned deletions did not happen:",
            &report.delete_errors,
            "check the function's ecr:BatchDeleteImage and ecr:DescribeImages permissions on these \
             repositories; the next run retries.",
        ));
    }
    sections.extend(report.delete_failures.iter().map(|f| {
        format!(
            "DELETE FAILED {}@{}: {} {}\n",
            f.repository, f.digest, f.code, f.reason
        )
    }));
    sections.extend(report.unscanned_consumers.iter().map(unscanned_consumers));
    if !report.unscanned.is_empty() {
        sections.push(list(
            "PARTIAL SCOPE: images only these use look unused to ecr-warden:",
            &report.unscanned,
            "leave CLUSTERS and SCAN_SOURCES at their defaults to scan everything.",
        ));
    }
    sections.extend(report.at_risk.iter().map(at_risk));
    sections
}

fn pull_failure(d: &Diagnosis) -> String {
    format!(
        "PULL FAILED task {} in cluster {}, container {}: {} ({})\n  What to do: {}\n",
        d.task, d.cluster, d.container, d.image, d.cause, d.advice
    )
}

fn missing(m: &Missing) -> String {
    finding(
        format!(
            "MISSING {} in repository {}: {}.",
            m.reference,
            m.repository,
            m.problem.describe()
        ),
        "used by",
        &m.users,
        "push the image again (or restore it from the archive) under the same digest, or deploy a \
         new revision that points at an image that exists, before the tasks are replaced.",
    )
}

fn lifecycle_risk(r: &LifecycleRisk) -> String {
    let tags = if r.tags.is_empty() {
        "untagged".to_string()
    } else {
        r.tags.join(", ")
    };
    let rule = (r.verdict.rule_description.as_deref())
        .map(|d| format!(": {d}"))
        .unwrap_or_default();
    finding(
        format!(
            "LIFECYCLE RISK {}@{} ({tags}): the repository's lifecycle policy would {} it (rule {}{rule}).",
            r.repository, r.digest, r.verdict.action, r.verdict.rule_priority,
        ),
        "used by",
        &r.users,
        "add a top-priority rule that keeps these images (for example the guard-tag rule in \
         ecr-warden's README), or narrow the rule's selection.",
    )
}

fn unscanned_consumers(u: &UnscannedConsumers) -> String {
    finding(
        format!(
            "UNSCANNED CONSUMERS {}: ecr-warden did not scan everything that can pull from it, so \
             nothing in it is deleted.",
            u.repository
        ),
        "can pull:",
        &u.consumers,
        "scan those accounts too (ACCOUNTS, or a usage document for each), or narrow the policy \
         (aws:SourceAccount / aws:PrincipalOrgID conditions) to accounts that are scanned.",
    )
}

fn at_risk(a: &AtRisk) -> String {
    finding(
        format!(
            "AT RISK {}@{}: in use but untagged; an \"expire untagged\" lifecycle rule will delete it.",
            a.repository, a.digest
        ),
        "used by",
        &a.users,
        "tag it (ecr-warden keeps it meanwhile), or redeploy so the service pins a tagged image.",
    )
}

/// A finding's header line, one line per user, and what to do.
fn finding(header: String, label: &str, users: &[impl Display], advice: &str) -> String {
    let mut s = header;
    s.push('\n');
    for u in users {
        let _ = writeln!(s, "  {label} {u}");
    }
    let _ = writeln!(s, "  What to do: {advice}");
    s
}

/// A header, one indented line per item, and what to do.
fn list(header: &str, items: &[String], advice: &str) -> String {
    let mut s = format!("{header}\n");
    for item in items {
        let _ = writeln!(s, "  {item}");
    }
    let _ = writeln!(s, "  What to do: {advice}");
    s
}
