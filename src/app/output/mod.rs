//! The CLI's readable output: a table per repository, then the findings; and the lifecycle
//! preview's table ([`preview`]).

mod preview;

pub use preview::preview_table;

use std::fmt::Write;

use ecr_warden_core::lifecycle::ActionKind;
use std::collections::BTreeMap;

use ecr_warden_core::report::{
    DeletionEntry, Mode, ProtectedImage, Report, RepositoryStorage, human_bytes,
};

/// How many reasons a kept image shows before "+N more".
const REASONS_SHOWN: usize = 2;
/// The context of a run started from the command line.
pub const COMMAND_LINE: &str = "command line";
/// Longer KEEP lines put their reasons on lines of their own.
const LINE_WIDTH: usize = 120;

/// Renders a report for a terminal: a table per repository, then the findings.
pub fn table(report: &Report) -> String {
    let mut out = String::new();
    repositories(&mut out, report, true);
    findings(&mut out, report);
    if let Some(g) = &report.guard {
        guard(&mut out, g);
    }
    problems(&mut out, report);
    footer(&mut out, report);
    out
}

/// After a confirmed prune: each repository's deletions and what became of them, the problems
/// and the headline (the plan was shown before the question).
pub fn outcome_table(report: &Report) -> String {
    let mut out = String::new();
    repositories(&mut out, report, false);
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

/// Each repository's kept images (with their reasons, unless `keeps` is false) and deletions,
/// under a header with counts and sizes.
fn repositories(out: &mut String, report: &Report, keeps: bool) {
    let deleting = !report.dry_run && report.mode == Mode::Prune;
    // Every entry under its repository, in one pass.
    type Entries<'a> = (Vec<&'a ProtectedImage>, Vec<&'a DeletionEntry>);
    let mut by_repo: BTreeMap<(&str, &Option<String>), Entries> = BTreeMap::new();
    for k in report.protected.iter().filter(|_| keeps) {
        let key = (k.repository.as_str(), &k.region);
        by_repo.entry(key).or_default().0.push(k);
    }
    for d in &report.deletions {
        let key = (d.repository.as_str(), &d.region);
        by_repo.entry(key).or_default().1.push(d);
    }
    for r in &report.repositories {
        let Some((kept, gone)) = by_repo.get(&(r.repository.as_str(), &r.region)) else {
            continue;
        };
        let _ = writeln!(out, "{}", header(r, deleting));
        for k in kept {
            keep_line(out, k);
        }
        for d in gone {
            deletion_line(out, d);
        }
        out.push('\n');
    }
}

/// A deletion and what became of it.
fn deletion_line(out: &mut String, d: &DeletionEntry) {
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
        "  {verb} {}  {:<24} {:>9}  pushed {}; {}{outcome}",
        d.digest.short_hex(12),
        tags(&d.tags),
        size(d.size_bytes),
        d.pushed_at,
        d.reason
    );
}

/// `api (eu-west-1): 12 kept, 3 of them unused (1.20 GiB); 4 deleted (800.0 MiB)`.
fn header(r: &RepositoryStorage, deleting: bool) -> String {
    let name = match &r.region {
        Some(region) => format!("{} ({region})", r.repository),
        None => r.repository.clone(),
    };
    let mut line = format!("{name}: {} kept", r.kept);
    if r.kept_unused > 0 {
        let _ = write!(
            line,
            ", {} of them unused ({})",
            r.kept_unused,
            human_bytes(r.bytes_unused_kept)
        );
    }
    let (verb, bytes) = if deleting {
        ("deleted", r.bytes_reclaimed)
    } else {
        ("to delete", r.bytes_to_delete)
    };
    let _ = write!(line, "; {} {verb}", r.deletions);
    if bytes > 0 {
        let _ = write!(line, " ({})", human_bytes(bytes));
    }
    line
}

/// A kept image on one line when it fits, else its reasons each on a line of their own.
fn keep_line(out: &mut String, k: &ProtectedImage) {
    let head = format!(
        "  KEEP    {}  {:<24} {:>9}",
        k.digest.short_hex(12),
        tags(&k.tags),
        size(k.size_bytes)
    );
    let mut reasons: Vec<String> = k.reasons.iter().take(REASONS_SHOWN).cloned().collect();
    if k.reasons.len() > REASONS_SHOWN {
        reasons.push(format!("+{} more", k.reasons.len() - REASONS_SHOWN));
    }
    let one_line = format!("{head}  {}", reasons.join("; "));
    if one_line.chars().count() <= LINE_WIDTH {
        let _ = writeln!(out, "{one_line}");
        return;
    }
    let _ = writeln!(out, "{head}");
    for reason in reasons {
        let _ = writeln!(out, "          - {reason}");
    }
}

fn size(bytes: Option<i64>) -> String {
    bytes
        .and_then(|b| u64::try_from(b).ok())
        .map_or_else(|| "-".to_string(), human_bytes)
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

/// What triggered the run (an event, an execution; not the command line), and the headline.
fn footer(out: &mut String, report: &Report) {
    if let Some(c) = report.context.as_ref().filter(|c| *c != COMMAND_LINE) {
        let _ = writeln!(out, "triggered by {c}");
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

#[cfg(test)]
mod tests;
