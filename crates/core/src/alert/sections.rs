//! The alert's sections: one per finding, each saying what is wrong, who is affected and what to
//! do, in the order an operator should read them.

use std::fmt::{Display, Write};

use crate::report::Report;

/// Every section the report calls for, worst first.
pub(super) fn all(report: &Report) -> Vec<String> {
    let mut sections: Vec<String> = report.diagnoses.iter().map(pull_failure).collect();
    sections.extend(report.missing.iter().map(|m| {
        finding(
            format!(
                "MISSING {} in repository {}: {}.",
                m.reference,
                m.repository,
                m.problem.describe()
            ),
            &m.users,
            "push the image again (or restore it from the archive) under the same digest, or \
             deploy a new revision that points at an image that exists, before the tasks are \
             replaced.",
        )
    }));
    if report.scan_incomplete {
        let mut s =
            "SCAN INCOMPLETE: nothing was deleted, because these calls failed:\n".to_string();
        for e in &report.errors {
            let _ = writeln!(s, "  {e}");
        }
        s.push_str(
            "  What to do: check the function's IAM permissions and the failing service's \
             health; the next run retries.\n",
        );
        sections.push(s);
    }
    sections.extend(report.lifecycle_risks.iter().map(|r| {
        let tags = if r.tags.is_empty() {
            "untagged".to_string()
        } else {
            r.tags.join(", ")
        };
        let rule = r
            .verdict
            .rule_description
            .as_deref()
            .map(|d| format!(": {d}"))
            .unwrap_or_default();
        finding(
            format!(
                "LIFECYCLE RISK {}@{} ({tags}): the repository's lifecycle policy would {} it (rule {}{rule}).",
                r.repository, r.digest, r.verdict.action, r.verdict.rule_priority,
            ),
            &r.users,
            "add a top-priority rule that keeps these images (for example the guard-tag rule in \
             ecr-warden's README), or narrow the rule's selection.",
        )
    }));
    if !report.delete_errors.is_empty() {
        let mut s =
            "DELETE FAILED: these calls failed, so some planned deletions did not happen:\n"
                .to_string();
        for e in &report.delete_errors {
            let _ = writeln!(s, "  {e}");
        }
        s.push_str(
            "  What to do: check the function's ecr:BatchDeleteImage and ecr:DescribeImages \
             permissions on these repositories; the next run retries.\n",
        );
        sections.push(s);
    }
    sections.extend(report.delete_failures.iter().map(|f| {
        format!(
            "DELETE FAILED {}@{}: {} {}\n",
            f.repository, f.digest, f.code, f.reason
        )
    }));
    sections.extend(report.unscanned_consumers.iter().map(|u| {
        let mut s = format!(
            "UNSCANNED CONSUMERS {}: ecr-warden did not scan everything that can pull from it, so \
             nothing in it is deleted.\n",
            u.repository
        );
        for c in &u.consumers {
            let _ = writeln!(s, "  can pull: {c}");
        }
        s.push_str(
            "  What to do: scan those accounts too (ACCOUNTS, or a usage document for each), or \
             narrow the policy (aws:SourceAccount / aws:PrincipalOrgID conditions) to accounts that \
             are scanned.\n",
        );
        s
    }));
    if !report.unscanned.is_empty() {
        let mut s = "PARTIAL SCOPE: images only these use look unused to ecr-warden:\n".to_string();
        for u in &report.unscanned {
            let _ = writeln!(s, "  {u}");
        }
        s.push_str("  What to do: leave CLUSTERS empty to scan every cluster.\n");
        sections.push(s);
    }
    sections.extend(report.at_risk.iter().map(|a| {
        finding(
            format!(
                "AT RISK {}@{}: in use but untagged; an \"expire untagged\" lifecycle rule will delete it.",
                a.repository, a.digest
            ),
            &a.users,
            "tag it (ecr-warden keeps it meanwhile), or redeploy so the service pins a tagged image.",
        )
    }));
    sections
}

fn pull_failure(d: &crate::report::Diagnosis) -> String {
    format!(
        "PULL FAILED task {} in cluster {}, container {}: {} ({})\n  What to do: {}\n",
        d.task, d.cluster, d.container, d.image, d.cause, d.advice
    )
}

/// A finding's header line, one line per user, and what to do.
fn finding(header: String, users: &[impl Display], advice: &str) -> String {
    let mut s = header;
    s.push('\n');
    for u in users {
        let _ = writeln!(s, "  used by {u}");
    }
    let _ = writeln!(s, "  What to do: {advice}");
    s
}
