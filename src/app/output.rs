//! The CLI's readable output: a table per repository, then the findings.

use std::fmt::Write;

use ecr_warden_core::lifecycle::ActionKind;
use ecr_warden_core::preview::PreviewRow;
use ecr_warden_core::report::{Mode, Report};

/// How many reasons a kept image shows before "+N more".
const REASONS_SHOWN: usize = 2;

/// Renders a report for a terminal: a table per repository, then the findings.
pub fn table(report: &Report) -> String {
    let mut out = String::new();
    repositories(&mut out, report);
    findings(&mut out, report);
    if let Some(g) = &report.guard {
        guard(&mut out, g);
    }
    problems(&mut out, report);
    footer(&mut out, report);
    out
}

fn tags(t: &[String]) -> String {
    if t.is_empty() {
        "(untagged)".to_string()
    } else {
        t.join(",")
    }
}

/// Each repository's kept images (with their first reasons) and deletions.
fn repositories(out: &mut String, report: &Report) {
    let mut repos: Vec<&str> = report
        .protected
        .iter()
        .map(|p| p.repository.as_str())
        .chain(report.deletions.iter().map(|d| d.repository.as_str()))
        .collect();
    repos.sort_unstable();
    repos.dedup();
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
}

/// Missing, at-risk and lifecycle-threatened images, and pull-failure diagnoses.
fn findings(out: &mut String, report: &Report) {
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
    for r in &report.lifecycle_risks {
        let _ = writeln!(
            out,
            "LIFECYCLE RISK  {}@{} would be {}",
            r.repository,
            r.digest,
            match r.verdict.action {
                ActionKind::Expire => format!("expired: {}", r.verdict),
                ActionKind::Transition => format!("archived: {}", r.verdict),
            }
        );
        for u in &r.users {
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
}

/// Guard tags added, removed, stale or failed.
fn guard(out: &mut String, g: &ecr_warden_core::report::GuardReport) {
    let (add, remove) = if g.dry_run {
        ("WOULD TAG  ", "WOULD UNTAG")
    } else {
        ("TAGGED     ", "UNTAGGED   ")
    };
    let lines = [
        (&g.added, add, " with guard tag {tag}"),
        (&g.removed, remove, ": stale guard tag {tag}"),
        (
            &g.stale_guard,
            "STALE GUARD",
            ": {tag} is its only tag, so it stays until the image is deleted",
        ),
    ];
    for (tags, verb, what) in lines {
        for t in tags {
            let what = what.replace("{tag}", &t.tag);
            let short = t.digest.short_hex(12);
            let _ = writeln!(out, "{verb} {}@{short}{what}", t.repository);
        }
    }
    for f in &g.failures {
        let _ = writeln!(out, "GUARD FAILED {f}");
    }
}

/// Failed deletions, errors, warnings and notes.
fn problems(out: &mut String, report: &Report) {
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
}

/// What triggered the run, and the headline.
fn footer(out: &mut String, report: &Report) {
    if let Some(c) = &report.context {
        let _ = writeln!(out, "({c})");
    }
    let _ = writeln!(
        out,
        "{}{}",
        if report.dry_run && report.mode == Mode::Prune {
            "DRY RUN: "
        } else {
            ""
        },
        report.headline()
    );
}

/// Renders a lifecycle preview.
pub fn preview_table(repository: &str, has_policy: bool, rows: &[PreviewRow]) -> String {
    let mut out = String::new();
    if !has_policy {
        let _ = writeln!(
            out,
            "{repository} has no lifecycle policy: it expires nothing by itself."
        );
    }
    let _ = writeln!(
        out,
        "{:<14} {:<24} {:<21} {:<34} IN USE / KEPT BECAUSE",
        "DIGEST", "TAGS", "PUSHED", "LIFECYCLE POLICY"
    );
    for r in rows {
        let tags = if r.tags.is_empty() {
            "(untagged)".to_string()
        } else {
            r.tags.join(",")
        };
        let lifecycle = r
            .lifecycle
            .as_ref()
            .map_or("keeps".to_string(), |v| v.to_string());
        let why = if r.kept_because.is_empty() {
            "ecr-warden would delete it".to_string()
        } else {
            r.kept_because.join("; ")
        };
        let flag = if r.in_use && r.lifecycle.is_some() {
            "!! "
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "{:<14} {:<24} {:<21} {:<34} {flag}{why}",
            r.digest.short_hex(12),
            tags,
            r.pushed_at.to_string(),
            lifecycle
        );
    }
    let risky = rows
        .iter()
        .filter(|r| r.in_use && r.lifecycle.is_some())
        .count();
    let _ = writeln!(
        out,
        "{} image(s); the lifecycle policy would act on {}, of which {risky} in use (marked !!)",
        rows.len(),
        rows.iter().filter(|r| r.lifecycle.is_some()).count()
    );
    out
}
