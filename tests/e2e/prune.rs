//! Nightly prunes: what is deleted, what is kept, and that throttling or a failing call never
//! changes the outcome.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::*;

#[test]
#[ignore = "needs the emulator: run `make e2e`"]
fn prune_deletes_only_what_nothing_needs_and_alerts_once() {
    let mut aws = Emulator::start("incidents.json", &[]);
    let before = aws.ecr();
    let sizes = aws.sizes();
    let out = aws.warden(&["prune", "--alert", "--output", "json"], &PRUNE_FOR_REAL);
    let report = json_report(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "an in-use image is archived: exit 1"
    );

    let after = all_digests(&aws.ecr());
    let deleted: BTreeSet<String> = all_digests(&before).difference(&after).cloned().collect();
    let expected: BTreeSet<String> = [
        "web-stale",
        "api-v-older",
        "multi-idx0",
        "multi-c0-amd64",
        "multi-c0-arm64",
        "batch-old",
    ]
    .iter()
    .map(|id| aws.digest(id))
    .collect();
    assert_eq!(deleted, expected);
    // The incidents' images survive: the quiet service's sidecar, both untagged pinned digests,
    // the archived image a standalone family uses.
    for id in [
        "fluentd-bbbb",
        "fluentd-aaaa",
        "web-first-push",
        "api-v-old",
        "batch-archived",
        "multi-c1-arm64",
    ] {
        assert!(after.contains(&aws.digest(id)), "{id} was deleted");
    }
    assert_eq!(report["summary"]["deleted"], 6);
    // What the deletions free, by ECR's sizes (the index has none).
    let freed: u64 = deleted.iter().filter_map(|d| sizes.get(d)).sum();
    assert!(freed > 0);
    assert_eq!(report["summary"]["bytes_reclaimed"], freed);
    assert_eq!(report["summary"]["bytes_upper_bound"], true);
    let saving = report["summary"]["monthly_saving_usd"].as_f64().unwrap();
    assert!(
        (saving - freed as f64 / f64::from(1 << 30) * 0.10).abs() < 0.006,
        "{saving}"
    );
    assert!(
        report["delete_failures"].as_array().unwrap().is_empty(),
        "{}",
        report["delete_failures"]
    );

    let messages = aws.sns();
    assert_eq!(messages.len(), 1, "one alert per run");
    let subject = messages[0]["subject"].as_str().unwrap();
    assert!(
        subject.starts_with("ecr-warden CRITICAL: 1 in-use image(s) missing"),
        "{subject}"
    );
    let body = messages[0]["message"].as_str().unwrap();
    assert!(body.contains("batch:v7"), "{body}");
    assert!(body.contains("6 deleted (at most "), "{body}");
    assert!(
        body.contains("AT RISK web@") && body.contains("AT RISK api@"),
        "{body}"
    );
}

#[test]
#[ignore = "needs the emulator: run `make e2e`"]
fn without_a_terminal_a_prune_needs_yes_and_a_dry_run_deletes_nothing() {
    let mut aws = Emulator::start("incidents.json", &[]);
    let before = aws.ecr();
    // No terminal to ask, and neither --yes nor DRY_RUN: it stops before scanning.
    let out = aws.warden(&["prune", "--output", "json"], &[("KEEP_RECENT", "0")]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--yes") && stderr.contains("--dry-run"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
    let out = aws.warden(
        &["prune", "--dry-run", "--output", "json"],
        &[("KEEP_RECENT", "0")],
    );
    let report = json_report(&out);
    assert_eq!(report["dry_run"], true);
    assert!(report["summary"]["planned_deletions"].as_u64().unwrap() > 0);
    assert_eq!(aws.ecr(), before);
    // --yes is DRY_RUN=false.
    let out = aws.warden(
        &["prune", "--yes", "--output", "json"],
        &[("KEEP_RECENT", "0")],
    );
    assert!(json_report(&out)["summary"]["deleted"].as_u64().unwrap() > 0);
    assert_ne!(aws.ecr(), before);
}

#[test]
#[ignore = "needs the emulator: run `make e2e`"]
fn the_command_line_publishes_alerts_only_when_asked() {
    let mut aws = Emulator::start("incidents.json", &[]);
    let out = aws.warden(&["plan", "--output", "json"], &PRUNE_FOR_REAL);
    assert_eq!(out.status.code(), Some(1), "an in-use image is archived");
    assert!(
        aws.sns().is_empty(),
        "a plan from a workstation pages no one"
    );
    let notes = json_report(&out)["notes"].to_string();
    assert!(
        notes.contains("alert not published") && notes.contains("--alert"),
        "{notes}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("MISSING"),
        "the alert is not dumped on stderr: {stderr}"
    );
    aws.warden(&["plan", "--alert", "--output", "json"], &PRUNE_FOR_REAL);
    assert_eq!(aws.sns().len(), 1);
}

#[test]
#[ignore = "needs the emulator: run `make e2e`"]
fn throttling_does_not_change_the_outcome() {
    let mut calm = Emulator::start("incidents.json", &[]);
    let calm_report =
        json_report(&calm.warden(&["plan", "--alert", "--output", "json"], &PRUNE_FOR_REAL));
    let mut throttled = Emulator::start(
        "incidents.json",
        &[
            "--throttle",
            "ListServices=2",
            "--throttle",
            "DescribeTasks=2",
            "--throttle",
            "DescribeImages=2",
            "--throttle",
            "ListTaskDefinitions=2",
        ],
    );
    let out = throttled.warden(&["plan", "--alert", "--output", "json"], &PRUNE_FOR_REAL);
    let report = json_report(&out);
    let stats = throttled.ask("stats");
    assert_eq!(stats["DescribeTasks"]["faults"], 2, "{stats}");
    assert_eq!(report["scan_incomplete"], false, "{}", report["errors"]);
    let digests = |r: &Value, list: &str| -> BTreeSet<String> {
        r[list]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["digest"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        digests(&report, "deletions"),
        digests(&calm_report, "deletions")
    );
    assert_eq!(
        digests(&report, "protected"),
        digests(&calm_report, "protected")
    );
    assert_eq!(report["summary"], calm_report["summary"]);
    assert_eq!(calm.ask("stats")["DescribeTasks"]["faults"], 0);
}

#[test]
#[ignore = "needs the emulator: run `make e2e`"]
fn an_ecs_call_that_always_fails_deletes_nothing() {
    let mut aws = Emulator::start("incidents.json", &["--deny", "DescribeTasks"]);
    let before = aws.ecr();
    let out = aws.warden(&["prune", "--alert", "--output", "json"], &PRUNE_FOR_REAL);
    assert_eq!(out.status.code(), Some(1));
    let report = json_report(&out);
    assert_eq!(report["scan_incomplete"], true);
    assert_eq!(report["summary"]["deleted"], 0);
    assert_eq!(
        aws.ecr(),
        before,
        "nothing may be deleted on a partial scan"
    );
    let messages = aws.sns();
    assert_eq!(messages.len(), 1);
    assert!(
        messages[0]["message"]
            .as_str()
            .unwrap()
            .contains("ecs:DescribeTasks")
    );
}

#[test]
#[ignore = "needs the emulator: run `make e2e`"]
fn a_scan_that_cannot_finish_before_the_deadline_stops_deletes_nothing_and_alerts() {
    // ListServices never answers: only the deadline ends the run.
    let mut aws = Emulator::start("incidents.json", &["--hang", "ListServices"]);
    let before = aws.ecr();
    let out = aws.warden(
        &["prune", "--alert", "--output", "json", "--deadline", "3"],
        &PRUNE_FOR_REAL,
    );
    assert_eq!(out.status.code(), Some(1));
    let report = json_report(&out);
    assert_eq!(report["scan_incomplete"], true);
    assert_eq!(report["summary"]["deleted"], 0);
    assert_eq!(aws.ecr(), before);
    let errors = report["errors"].to_string();
    assert!(errors.contains("not finished"), "{errors}");
    assert!(
        errors.contains("account 123456789012 us-east-1"),
        "{errors}"
    );
    let messages = aws.sns();
    assert_eq!(messages.len(), 1);
    assert!(
        messages[0]["message"]
            .as_str()
            .unwrap()
            .contains("not finished")
    );
}
