//! The lifecycle preview's table: what a repository's own lifecycle policy would do to each
//! image, next to what is in use.

use std::fmt::Write;

use ecr_warden_core::preview::PreviewRow;

/// Renders a lifecycle preview.
pub fn preview_table(repository: &str, has_policy: bool, rows: &[PreviewRow]) -> String {
    let mut out = String::new();
    if !has_policy {
        let _ = writeln!(
            out,
            "{repository} has no lifecycle policy: it expires nothing by itself."
        );
    }
    let cells: Vec<[String; 4]> = (rows.iter())
        .map(|r| {
            let tags = if r.tags.is_empty() {
                "(untagged)".to_string()
            } else {
                r.tags.join(",")
            };
            let lifecycle = (r.lifecycle.as_ref()).map_or("keeps".to_string(), |v| v.to_string());
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
            let digest = r.digest.short_hex(12).to_string();
            [
                digest,
                tags,
                r.pushed_at.to_string(),
                lifecycle + "\t" + flag + &why,
            ]
        })
        .collect();
    // Every column as wide as its widest cell, so a long verdict pushes the next one along.
    let width = |i: usize, title: &str| {
        (cells.iter())
            .map(|c| c[i].split('\t').next().unwrap_or_default().chars().count())
            .chain([title.len()])
            .max()
            .unwrap_or_default()
    };
    let (w1, w2, w3) = (
        width(1, "TAGS"),
        width(2, "PUSHED"),
        width(3, "LIFECYCLE POLICY"),
    );
    let _ = writeln!(
        out,
        "{:<14} {:<w1$} {:<w2$} {:<w3$} IN USE / KEPT BECAUSE",
        "DIGEST", "TAGS", "PUSHED", "LIFECYCLE POLICY"
    );
    for [digest, tags, pushed, rest] in &cells {
        let (lifecycle, why) = rest.split_once('\t').unwrap_or((rest, ""));
        let _ = writeln!(
            out,
            "{digest:<14} {tags:<w1$} {pushed:<w2$} {lifecycle:<w3$} {why}"
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
