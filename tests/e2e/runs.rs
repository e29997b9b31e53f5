//! The schedule through the handler, lifecycle-policy checks and guard tags.

use std::collections::BTreeSet;

use crate::*;

#[test]
#[ignore = "needs the emulator: run `make e2e`"]
fn the_nightly_schedule_prunes_through_the_handler() {
    let mut aws = Emulator::start("incidents.json", &[]);
    let before = all_digests(&aws.ecr());
    let out = aws.warden(
        &[
            "invoke",
            "--alert",
            "--event",
            &event("scheduled-nightly.json"),
            "--output",
            "json",
        ],
        &PRUNE_FOR_REAL,
    );
    let report = json_report(&out);
    assert_eq!(report["mode"], "prune");
    assert_eq!(report["summary"]["deleted"], 6);
    assert_eq!(before.len() - all_digests(&aws.ecr()).len(), 6);
    assert!(
        report["context"]
            .as_str()
            .unwrap()
            .contains("rule/ecr-warden-nightly")
    );
    let out = aws.warden(
        &[
            "invoke",
            "--alert",
            "--event",
            &event("scheduler-check.json"),
            "--output",
            "json",
        ],
        &[],
    );
    assert_eq!(json_report(&out)["mode"], "check");
}

#[test]
#[ignore = "needs the emulator: run `make e2e`"]
fn check_reports_in_use_images_that_lifecycle_policies_would_remove() {
    let aws = Emulator::start("incidents.json", &[]);
    let out = aws.warden(&["check", "--alert", "--output", "json"], &[]);
    assert_eq!(out.status.code(), Some(1));
    let report = json_report(&out);
    let risks: BTreeSet<(String, String, i64)> = report["lifecycle_risks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["repository"].as_str().unwrap().to_string(),
                r["digest"].as_str().unwrap().to_string(),
                r["verdict"]["rule_priority"].as_i64().unwrap(),
            )
        })
        .collect();
    // "Keep the 3 newest" would expire the quiet service's sidecar and a rollback image; "expire
    // untagged after 1 day" would delete the digest staging's web is pinned to.
    let expected: BTreeSet<(String, String, i64)> = [
        ("fluentd", "fluentd-bbbb"),
        ("fluentd", "fluentd-aaaa"),
        ("web", "web-first-push"),
    ]
    .iter()
    .map(|(repo, id)| (repo.to_string(), aws.digest(id), 1))
    .collect();
    assert_eq!(risks, expected);

    let out = aws.warden(&["lifecycle-preview", "fluentd"], &[]);
    assert_eq!(out.status.code(), Some(1));
    let table = String::from_utf8_lossy(&out.stdout);
    let flagged: Vec<&str> = table.lines().filter(|l| l.contains("!! ")).collect();
    assert_eq!(flagged.len(), 2, "{table}");
    assert!(
        flagged
            .iter()
            .all(|l| l.contains("expire by rule 1 (keep the 3 newest)")),
        "{table}"
    );
    assert!(
        table.contains("the lifecycle policy would act on 2, of which 2 in use"),
        "{table}"
    );
}

#[test]
#[ignore = "needs the emulator: run `make e2e`"]
fn guard_tags_are_added_to_in_use_digests_and_removed_only_where_safe() {
    let mut aws = Emulator::start("guard.json", &[]);
    let guard = |aws: &Emulator, id: &str| format!("inuse-{}", &aws.digest(id)[7..19]);
    let env = [
        ("DRY_RUN", "false"),
        ("GUARD_TAG_PREFIX", "inuse-"),
        ("KEEP_RECENT", "0"),
        ("KEEP_PUSHED_WITHIN_DAYS", "7"),
        ("KEEP_PULLED_WITHIN_DAYS", "0"),
    ];

    // A dry run only says what it would do.
    let before = aws.ask("ecr");
    let out = aws.warden(
        &["prune", "--dry-run", "--output", "json"],
        &[("GUARD_TAG_PREFIX", "inuse-"), ("KEEP_RECENT", "0")],
    );
    let report = json_report(&out);
    assert_eq!(report["guard"]["dry_run"], true);
    assert_eq!(report["guard"]["added"].as_array().unwrap().len(), 2);
    assert_eq!(aws.ask("ecr"), before);

    let out = aws.warden(&["prune", "--alert", "--output", "json"], &env);
    let report = json_report(&out);
    assert!(
        report["guard"]["failures"].as_array().unwrap().is_empty(),
        "{}",
        report["guard"]
    );
    let state = aws.ask("ecr");
    let tags_of = |id: &str| -> Option<BTreeSet<String>> {
        let digest = aws.digest(id);
        state["app"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["digest"] == digest.as_str())
            .map(|i| {
                i["tags"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|t| t.as_str().unwrap().to_string())
                    .collect()
            })
    };
    // In use: guarded, same digest (the image itself is untouched).
    assert_eq!(
        tags_of("used"),
        Some(BTreeSet::from(["v2".to_string(), guard(&aws, "used")]))
    );
    assert_eq!(
        tags_of("pinned-untagged"),
        Some(BTreeSet::from([guard(&aws, "pinned-untagged")]))
    );
    // No longer in use: the guard goes where another tag remains...
    assert_eq!(
        tags_of("was-used"),
        Some(BTreeSet::from(["v1".to_string()]))
    );
    // ...stays where it is the only tag (removing it would delete the image) and is reported...
    assert_eq!(
        tags_of("only-guard"),
        Some(BTreeSet::from([guard(&aws, "only-guard")]))
    );
    let stale = report["guard"]["stale_guard"].as_array().unwrap();
    assert_eq!(stale.len(), 1);
    assert_eq!(stale[0]["digest"], aws.digest("only-guard").as_str());
    // ...and the image the plan deletes anyway is simply deleted.
    assert_eq!(tags_of("junk-guard"), None);
    assert_eq!(report["summary"]["deleted"], 1);

    // A second run changes nothing.
    let out = aws.warden(&["prune", "--alert", "--output", "json"], &env);
    let report = json_report(&out);
    assert!(
        report["guard"]["added"].as_array().unwrap().is_empty(),
        "{}",
        report["guard"]
    );
    assert!(report["guard"]["removed"].as_array().unwrap().is_empty());
}

#[test]
#[ignore = "needs the emulator: run `make e2e`"]
fn a_second_run_reads_what_never_changes_from_the_cache_and_decides_the_same() {
    let mut aws = Emulator::start("demo.json", &[]);
    let dir = std::env::temp_dir().join(format!("ecr-warden-e2e-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let cache = dir.join("cache.json").display().to_string();
    let env = [("CACHE_URI", cache.as_str())];

    aws.ask("reset-stats");
    let cold = json_report(&aws.warden(&["plan", "--alert", "--output", "json"], &env));
    let cold_calls = aws.ask("stats");
    aws.ask("reset-stats");
    let warm = json_report(&aws.warden(&["plan", "--alert", "--output", "json"], &env));
    let warm_calls = aws.ask("stats");

    let first = |op: &str, stats: &Value| stats[op]["first_attempts"].as_u64().unwrap_or(0);
    for op in ["DescribeTaskDefinition", "BatchGetImage"] {
        let (cold_n, warm_n) = (first(op, &cold_calls), first(op, &warm_calls));
        assert!(cold_n > 0, "{op} was not called on the first run");
        assert!(warm_n * 10 <= cold_n, "{op}: {cold_n} then {warm_n}");
    }
    assert_eq!(cold["deletions"], warm["deletions"]);
    assert_eq!(cold["protected"], warm["protected"]);
    assert_eq!(cold["missing"], warm["missing"]);
    assert!(std::path::Path::new(&cache).exists());
    let _ = std::fs::remove_dir_all(dir);
}
