use ecr_warden_core::lifecycle::{ActionKind, Verdict};
use ecr_warden_core::preview::PreviewRow;
use ecr_warden_core::report::{DeletionEntry, Mode, ProtectedImage, Report};
use ecr_warden_core::time::Timestamp;

use super::{COMMAND_LINE, preview_table, table};

fn digest(n: u8) -> ecr_warden_core::Digest {
    ecr_warden_core::Digest::from_bytes([n; 32])
}

fn report(dry_run: bool) -> Report {
    let mut r = Report::empty(Mode::Prune, Some(COMMAND_LINE.into()));
    r.dry_run = dry_run;
    let long = "in use by account 222222222222 eu-west-1 cluster production-blue service checkout-api-with-a-long-name (digest pinned by the deployment)";
    r.protected.push(ProtectedImage {
        region: None,
        repository: "api".into(),
        digest: digest(1),
        tags: vec!["v2".into()],
        reasons: vec![long.into(), "pushed within 14 days".into(), "tag v2".into()],
        in_use: true,
        size_bytes: Some(300 << 20),
    });
    r.deletions.push(DeletionEntry {
        region: None,
        repository: "api".into(),
        digest: digest(2),
        tags: vec!["v1".into()],
        pushed_at: Timestamp(0),
        reason: "nothing uses it".into(),
        outcome: if dry_run { "planned" } else { "deleted" }.into(),
        size_bytes: Some(1 << 30),
    });
    r.summary.deleted = usize::from(!dry_run);
    r.summary.planned_deletions = 1;
    r.add_storage(0.10);
    r
}

#[test]
fn a_repository_header_says_what_was_deleted_after_a_prune_and_how_big() {
    let done = table(&report(false));
    assert!(done.contains("api: 1 kept; 1 deleted (1.00 GiB)"), "{done}");
    assert!(!done.contains("to delete"), "{done}");
    assert!(
        done.contains("1 deleted (at most 1.00 GiB, about $0.10 a month)"),
        "{done}"
    );
    let planned = table(&report(true));
    assert!(
        planned.contains("api: 1 kept; 1 to delete (1.00 GiB)"),
        "{planned}"
    );
    assert!(
        !planned.contains("command line"),
        "no stray context line: {planned}"
    );
}

#[test]
fn kept_images_with_long_reasons_put_them_on_lines_of_their_own() {
    let out = table(&report(true));
    assert!(out.lines().all(|l| l.chars().count() <= 160), "{out}");
    assert!(
        out.contains("          - in use by account 222222222222"),
        "{out}"
    );
    assert!(out.contains("          - +1 more"), "{out}");
}

#[test]
fn a_long_verdict_pushes_the_next_column_along_in_every_row() {
    let row = |n: u8, description: Option<&str>| PreviewRow {
        digest: digest(n),
        tags: vec![format!("v{n}")],
        pushed_at: Timestamp(0),
        lifecycle: Some(Verdict {
            action: ActionKind::Expire,
            rule_priority: 1,
            rule_description: description.map(str::to_string),
        }),
        kept_because: vec!["in use".into()],
        in_use: true,
    };
    let long = "expire untagged images older than fourteen days unless released";
    let out = preview_table("api", true, &[row(1, Some(long)), row(2, None)]);
    let column = |line: &str| line.find("!! in use").unwrap();
    let lines: Vec<&str> = out.lines().filter(|l| l.contains("!! in use")).collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert_eq!(column(lines[0]), column(lines[1]), "{out}");
    let header = out.lines().next().unwrap();
    assert_eq!(header.find("IN USE"), Some(column(lines[0])), "{out}");
}
