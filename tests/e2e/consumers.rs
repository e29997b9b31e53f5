//! Every kind of consumer, usage documents, and the gaps that hold deletions.

use crate::*;

#[test]
#[ignore = "needs the emulator: run `make e2e`"]
fn rules_schedules_batch_and_usage_documents_keep_what_they_use() {
    let mut emu = Emulator::start("consumers.json", &[]);
    let ci = usage_file(
        "ci.txt",
        &format!("# images CI runs\n{ECR}/ci-tools:t1\n"),
        1,
    );
    let sources = format!("s3://usage-docs/eks/,{}", ci.display());
    let mut env = USAGE_ONLY.to_vec();
    env.push(("USAGE_SOURCES", &sources));
    let out = emu.warden(&["prune", "--alert", "--output", "json"], &env);
    let report = json_report(&out);
    assert_eq!(out.status.code(), Some(0), "{:#}", report["errors"]);
    assert!(
        !report["scan_incomplete"].as_bool().unwrap(),
        "{:#}",
        report["errors"]
    );
    let left = left(&mut emu);
    let want = [
        ("report", ids(&["report-r1", "report-r2"])), // a rule runs report:1; report:2 is newer
        ("cron", ids(&["cron-1", "cron-2"])),         // a schedule runs cron:1; one runs the newest
        ("export", ids(&["export-1", "export-2"])), // a disabled rule submits export:1; 2 is newest
        ("eks-app", ids(&["eks-1"])),               // an EKS usage document in S3
        ("ci-tools", ids(&["ci-1"])),               // a plain-text usage document in a file
        ("shared", ids(&["shared-old"])),           // shared with an account nobody scanned
        ("idle", ids(&["idle-pinned", "idle-now"])), // a service scaled to zero, by its pin
    ];
    for (repo, ids) in want {
        assert_eq!(left[repo], ids, "{repo}");
    }
    let unscanned = report["unscanned_consumers"].as_array().unwrap();
    assert_eq!(unscanned.len(), 1, "{unscanned:#?}");
    assert_eq!(unscanned[0]["repository"], "shared");
    assert!(
        unscanned[0]["consumers"][0]
            .as_str()
            .unwrap()
            .contains("account 444455556666 (repository policy)")
    );
    let sns = emu.sns();
    assert_eq!(sns.len(), 1, "one alert");
    assert!(
        sns[0]["message"]
            .as_str()
            .unwrap()
            .contains("UNSCANNED CONSUMERS shared"),
        "{}",
        sns[0]["message"]
    );
}

#[test]
#[ignore = "needs the emulator: run `make e2e`"]
fn a_service_scaled_to_zero_whose_pins_cannot_be_read_holds_only_its_repository() {
    let mut emu = Emulator::start("consumers.json", &["--deny", "DescribeServiceRevisions"]);
    let out = emu.warden(&["prune", "--alert", "--output", "json"], &USAGE_ONLY);
    let report = json_report(&out);
    assert_eq!(out.status.code(), Some(1), "a gap is exit status 1");
    assert!(report["scan_incomplete"].as_bool().unwrap());
    assert_eq!(report["held_repositories"], serde_json::json!(["idle"]));
    let left = left(&mut emu);
    assert_eq!(
        left["idle"],
        ids(&["idle-pinned", "idle-now", "idle-old"]),
        "held"
    );
    assert_eq!(
        left["report"],
        ids(&["report-r1", "report-r2"]),
        "pruned elsewhere"
    );
    let sns = emu.sns();
    assert_eq!(sns.len(), 1);
    let body = sns[0]["message"].as_str().unwrap();
    assert!(
        body.contains("SCAN INCOMPLETE")
            && body.contains("service idle in cluster prod (no running task)"),
        "{body}"
    );
}

#[test]
#[ignore = "needs the emulator: run `make e2e`"]
fn stale_or_malformed_usage_documents_delete_nothing() {
    for (name, text, hours_old, why) in [
        (
            "stale.txt",
            format!("{ECR}/ci-tools:t1\n"),
            72,
            "72 hours ago",
        ),
        (
            "broken.json",
            "{\"source\": \"eks\", \"images\": [".to_string(),
            0,
            "not a usage document",
        ),
    ] {
        let mut emu = Emulator::start("consumers.json", &[]);
        let before = all_digests(&emu.ecr());
        let doc = usage_file(name, &text, hours_old);
        let sources = doc.display().to_string();
        let mut env = USAGE_ONLY.to_vec();
        env.push(("USAGE_SOURCES", &sources));
        let out = emu.warden(&["prune", "--alert", "--output", "json"], &env);
        let report = json_report(&out);
        assert_eq!(out.status.code(), Some(1), "{name}");
        assert_eq!(all_digests(&emu.ecr()), before, "{name}: nothing deleted");
        let errors = report["errors"].to_string();
        assert!(
            errors.contains(name) && errors.contains(why),
            "{name}: {errors}"
        );
    }
}

#[test]
#[ignore = "needs the emulator: run `make e2e`"]
fn a_pull_failure_in_another_registry_or_after_a_failed_look_up_says_what_is_known() {
    let mut aws = Emulator::start("retirement.json", &[]);
    let other = event("ecs-task-pull-failure-other-account.json");
    let report = json_report(&aws.warden(
        &["invoke", "--alert", "--event", &other, "--output", "json"],
        &[],
    ));
    let d = &report["diagnoses"][0];
    assert_eq!(d["cause"], "not_checked", "{report}");
    assert!(
        d["advice"]
            .as_str()
            .unwrap()
            .contains("account 999999999999 in eu-west-1"),
        "{d}"
    );

    let mut denied = Emulator::start("retirement.json", &["--deny", "DescribeImages"]);
    let mine = event("ecs-task-pull-failure-image-present.json");
    let report = json_report(&denied.warden(
        &["invoke", "--alert", "--event", &mine, "--output", "json"],
        &[],
    ));
    let d = &report["diagnoses"][0];
    assert_eq!(
        d["cause"], "not_checked",
        "never 'the image exists' when nobody looked: {report}"
    );
    assert!(
        d["advice"]
            .as_str()
            .unwrap()
            .contains("could not look the image up"),
        "{d}"
    );
    assert!(denied.sns().len() == 1 && aws.sns().len() == 1);
}

#[test]
#[ignore = "needs the emulator: run `make e2e`"]
fn a_deletion_call_that_fails_alerts_and_exits_1() {
    let mut aws = Emulator::start("incidents.json", &["--deny", "BatchDeleteImage"]);
    let out = aws.warden(&["prune", "--alert", "--output", "json"], &PRUNE_FOR_REAL);
    let report = json_report(&out);
    assert_eq!(out.status.code(), Some(1));
    let errors = report["delete_errors"].as_array().unwrap();
    assert!(
        !errors.is_empty() && errors[0].as_str().unwrap().contains("ecr:BatchDeleteImage"),
        "{report:#}"
    );
    let sns = aws.sns();
    assert_eq!(sns.len(), 1);
    assert!(
        sns[0]["message"]
            .as_str()
            .unwrap()
            .contains("DELETE FAILED: these calls failed")
    );
    assert_eq!(
        sns[0]["attributes"]["severity"], "critical",
        "missing images are still the worst"
    );
}

#[test]
#[ignore = "needs the emulator: run `make e2e`"]
fn clusters_left_out_of_clusters_are_reported_as_not_scanned() {
    let mut aws = Emulator::start("incidents.json", &[]);
    let out = aws.warden(
        &["plan", "--alert", "--output", "json"],
        &[("CLUSTERS", "prod")],
    );
    let report = json_report(&out);
    let unscanned = report["unscanned"].to_string();
    assert!(
        unscanned.contains("cluster staging was not scanned (CLUSTERS)"),
        "{unscanned}"
    );
    assert!(!unscanned.contains("cluster prod"), "{unscanned}");
    let sns = aws.sns();
    assert!(
        sns[0]["message"]
            .as_str()
            .unwrap()
            .contains("PARTIAL SCOPE"),
        "{}",
        sns[0]["message"]
    );
    let findings = sns[0]["attributes"]["findings"].as_str().unwrap();
    assert!(findings.contains("partial_scope"), "{findings}");
}
