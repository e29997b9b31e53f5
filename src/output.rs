//! The CLI's readable output: a table per repository, then the findings.

use std::fmt::Write;

use crate::report::Report;

/// How many reasons a kept image shows before "+N more".
const REASONS_SHOWN: usize = 2;

/// Renders a report for a terminal.
pub fn table(report: &Report) -> String {
    let mut out = String::new();
    let mut repos: Vec<&str> = report
        .protected
        .iter()
        .map(|p| p.repository.as_str())
        .chain(report.deletions.iter().map(|d| d.repository.as_str()))
        .collect();
    repos.sort_unstable();
    repos.dedup();
    let tags = |t: &[String]| {
        if t.is_empty() {
            "(untagged)".to_string()
        } else {
            t.join(",")
        }
    };
    for repo in repos {
        let kept: Vec<_> = report
            .protected
            .iter()
            .filter(|p| p.repository == repo)
            .collect();
        let gone: Vec<_> = report
            .deletions
            .iter()
            .filter(|d| d.repository == repo)
            .collect();
        let _ = writeln!(out, "{repo}: {} kept, {} to delete", kept.len(), gone.len());
        for k in kept {
            let mut reasons = k.reasons[..k.reasons.len().min(REASONS_SHOWN)].join("; ");
            if k.reasons.len() > REASONS_SHOWN {
                let _ = write!(reasons, "; +{} more", k.reasons.len() - REASONS_SHOWN);
            }
            let _ = writeln!(
                out,
                "  KEEP    {}  {:<24} {reasons}",
                k.digest.short_hex(12),
                tags(&k.tags)
            );
        }
        for d in gone {
            let verb = match d.outcome.as_str() {
                "planned" => "DELETE ",
                "deleted" => "DELETED",
                _ => "LEFT   ",
            };
            let outcome = if d.outcome == "planned" || d.outcome == "deleted" {
                String::new()
            } else {
                format!(" [{}]", d.outcome)
            };
            let _ = writeln!(
                out,
                "  {verb} {}  {:<24} pushed {}; {}{outcome}",
                d.digest.short_hex(12),
                tags(&d.tags),
                d.pushed_at,
                d.reason
            );
        }
        out.push('\n');
    }
    for m in &report.missing {
        let _ = writeln!(out, "MISSING  {} ({})", m.reference, m.problem.describe());
        for u in &m.users {
            let _ = writeln!(out, "         used by {u}");
        }
    }
    for a in &report.at_risk {
        let _ = writeln!(
            out,
            "AT RISK  {}@{} is in use but untagged",
            a.repository, a.digest
        );
        for u in &a.users {
            let _ = writeln!(out, "         used by {u}");
        }
    }
    for d in &report.diagnoses {
        let _ = writeln!(
            out,
            "PULL FAILED  task {} container {}: {} ({})\n         {}",
            d.task, d.container, d.image, d.cause, d.advice
        );
    }
    for f in &report.delete_failures {
        let _ = writeln!(
            out,
            "DELETE FAILED  {}@{}: {} {}",
            f.repository, f.digest, f.code, f.reason
        );
    }
    for e in &report.errors {
        let _ = writeln!(out, "ERROR    {e}");
    }
    for w in &report.warnings {
        let _ = writeln!(out, "WARNING  {w}");
    }
    for n in &report.notes {
        let _ = writeln!(out, "NOTE     {n}");
    }
    if let Some(c) = &report.context {
        let _ = writeln!(out, "({c})");
    }
    let _ = writeln!(
        out,
        "{}{}",
        if report.dry_run && report.mode == crate::report::Mode::Prune {
            "DRY RUN: "
        } else {
            ""
        },
        report.headline()
    );
    out
}
