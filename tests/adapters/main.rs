//! The AWS adapters and the run's orchestration against mocked SDK clients (aws-smithy-mocks): a
//! simulated fleet served page by page, with injected throttling and failures. No network.

#[path = "../support/mod.rs"]
mod support;

mod cache;
mod fleet;
mod organization;
mod retirement;
mod sources;

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;

use ecr_warden_core::Digest;
use ecr_warden_core::report::Mode;
use fleet::*;
use support::digest;

#[tokio::test]
async fn a_full_prune_follows_every_page_respects_every_batch_limit_and_deletes_only_the_unused() {
    let (report, stats) = run_fleet(Faults::default(), Mode::Prune, false).await;
    assert!(!report.scan_incomplete, "{:?}", report.errors);
    assert!(report.missing.is_empty(), "{:?}", report.missing);
    assert!(
        report.lifecycle_risks.is_empty(),
        "{:?}",
        report.lifecycle_risks
    );
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);

    let deleted: BTreeSet<Digest> = stats.deleted.lock().unwrap().iter().copied().collect();
    assert_eq!(deleted, expected_deletions());
    assert_eq!(report.summary.deleted, UNUSED);
    assert_eq!(
        stats.deleted_by_tag.load(Ordering::SeqCst),
        0,
        "never delete by tag"
    );
    // In use (tasks, pins, newest revisions) and rollback revisions survive.
    for i in 0..SERVICES {
        assert!(!deleted.contains(&app_digest(i)) && !deleted.contains(&old_digest(i)));
    }
    // So do the Lambda function's images: $LATEST (6), the 3 newest versions (5, 4, 3), and the
    // versions its alias routes to (2, and 1 by weight).
    for v in 1..=6 {
        assert!(!deleted.contains(&fn_digest(v)), "fn-v{v} was deleted");
    }

    // Pages: every list call was followed to the end (≥ 3 pages each).
    assert_eq!(stats.calls("ListClusters"), 3);
    assert_eq!(stats.calls("ListServices"), 3 * CLUSTERS);
    assert_eq!(stats.calls("ListTasks"), 3 * CLUSTERS + CLUSTERS); // RUNNING: 3 pages; STOPPED: 1
    assert_eq!(stats.calls("ListTaskDefinitions"), 7); // 50 revisions, 8 per page
    assert_eq!(stats.calls("DescribeRepositories"), 4); // one repository per page
    assert!(stats.calls("ListFunctions") >= 3);
    // DescribeImages: 3 pages for app (180 images) at the scan and again at the re-check before
    // deleting, 1 for tools and for fn twice, 1 for the empty repository.
    assert_eq!(stats.calls("DescribeImages"), 3 + 3 + 1 + 1 + 1 + 1 + 1);

    // Batches at their limits and never above.
    let max = stats.max_batch.lock().unwrap().clone();
    assert_eq!(max["DescribeServices"], 10);
    assert_eq!(max["DescribeServiceRevisions"], 20);
    assert_eq!(max["DescribeTasks"], 100);
    assert_eq!(max["BatchDeleteImage"], 100);
    assert_eq!(stats.calls("BatchDeleteImage"), 4); // app: 100 + 30, tools: 5, fn: 1

    // Largest pages requested.
    let sizes = stats.page_sizes.lock().unwrap().clone();
    for op in [
        "ListClusters",
        "ListServices",
        "ListTasks",
        "ListTaskDefinitions",
    ] {
        assert!(
            sizes.contains(&(op, 100)),
            "{op} not asked for 100 per page: {sizes:?}"
        );
    }
    assert!(sizes.contains(&("DescribeImages", 1000)));

    // Each needed revision described exactly once: 25 families × (in service + rollback).
    assert_eq!(stats.calls("DescribeTaskDefinition"), 2 * SERVICES);
    for i in 0..SERVICES {
        assert_eq!(stats.calls(&format!("DescribeTaskDefinition fam{i}:2")), 1);
        assert_eq!(stats.calls(&format!("DescribeTaskDefinition fam{i}:1")), 1);
    }
    // Nothing to alert about.
    assert!(stats.published.lock().unwrap().is_empty());
}

#[tokio::test]
async fn throttling_is_retried_and_does_not_change_the_plan() {
    let (calm, _) = run_fleet(Faults::default(), Mode::Plan, true).await;
    let throttled_faults = Faults {
        throttle_first: 2,
        ..Faults::default()
    };
    let (throttled, _, (ecs_rules, ecr_rules)) =
        run_fleet_with_rules(throttled_faults, Mode::Plan, true).await;
    assert!(!throttled.scan_incomplete, "{:?}", throttled.errors);
    assert_eq!(
        serde_json::to_value(&calm).unwrap(),
        serde_json::to_value(&throttled).unwrap()
    );
    // The three throttled operations each took two throttled attempts and one that answered.
    // (The throttling rules are inserted first in each client's list.)
    let attempts: Vec<usize> = [&ecs_rules[0], &ecs_rules[1], &ecr_rules[0]]
        .iter()
        .map(|r| r.num_calls())
        .collect();
    assert_eq!(attempts, vec![3, 3, 3]);
}

#[tokio::test]
async fn a_failing_usage_or_inventory_call_deletes_nothing_and_alerts() {
    for op in [
        "DescribeTasks",
        "DescribeServices",
        "DescribeImages",
        "ListTaskDefinitions",
    ] {
        let faults = Faults {
            deny: vec![op],
            ..Faults::default()
        };
        let (report, stats) = run_fleet(faults, Mode::Prune, false).await;
        assert!(report.scan_incomplete, "{op}: scan should be incomplete");
        assert_eq!(
            stats.calls("BatchDeleteImage"),
            0,
            "{op}: deleted despite a gap"
        );
        assert!(
            report
                .errors
                .iter()
                .any(|e| e.contains(&format!("ecs:{op}")) || e.contains(&format!("ecr:{op}"))),
            "{op}: {:?}",
            report.errors
        );
        let published = stats.published.lock().unwrap().clone();
        assert_eq!(published.len(), 1, "{op}: one alert");
        let alert = &published[0];
        assert!(
            alert.subject().unwrap().contains("scan incomplete"),
            "{:?}",
            alert.subject()
        );
        assert!(alert.message().unwrap().contains("AccessDeniedException"));
        let attrs = alert.message_attributes().unwrap();
        assert_eq!(attrs["severity"].string_value(), Some("high"));
        assert!(
            attrs["findings"]
                .string_value()
                .unwrap()
                .contains("scan_incomplete")
        );
    }
}

#[tokio::test]
async fn delete_failures_are_reported_not_fatal() {
    let faults = Faults {
        delete_failures: vec![
            (junk_digest(0), "ImageReferencedByManifestList"),
            (tools_digest(1), "ImageNotFound"),
        ],
        ..Faults::default()
    };
    let (report, stats) = run_fleet(faults, Mode::Prune, false).await;
    assert_eq!(report.summary.deleted, UNUSED - 2);
    let codes: BTreeSet<&str> = report
        .delete_failures
        .iter()
        .map(|f| f.code.as_str())
        .collect();
    assert_eq!(
        codes,
        BTreeSet::from(["ImageNotFound", "ImageReferencedByManifestList"])
    );
    let published = stats.published.lock().unwrap().clone();
    assert_eq!(published.len(), 1);
    assert!(published[0].message().unwrap().contains("DELETE FAILED"));
    assert_eq!(
        published[0].message_attributes().unwrap()["severity"].string_value(),
        Some("warning")
    );
}

#[tokio::test]
async fn missing_service_revisions_fall_back_to_running_tasks() {
    for faults in [
        Faults {
            revisions_missing: true,
            v3_overwritten: true,
            ..Faults::default()
        },
        Faults {
            revisions_unsupported: true,
            v3_overwritten: true,
            ..Faults::default()
        },
    ] {
        let (report, stats) = run_fleet(faults, Mode::Prune, false).await;
        assert!(!report.scan_incomplete, "{:?}", report.errors);
        assert!(
            report.notes.iter().any(|n| n.contains("service revision")),
            "{:?}",
            report.notes
        );
        let deleted: BTreeSet<Digest> = stats.deleted.lock().unwrap().iter().copied().collect();
        assert!(
            !deleted.contains(&app_digest(3)),
            "the overwritten digest tasks run was deleted"
        );
        assert!(
            !deleted.contains(&digest("app-v3-new")),
            "the tag's new image was deleted"
        );
        assert_eq!(deleted, expected_deletions());
        assert_eq!(report.at_risk.len(), 1);
        assert_eq!(report.at_risk[0].digest, app_digest(3));
        // The repository's "expire untagged after 1 day" rule would delete it.
        let risks: Vec<Digest> = report.lifecycle_risks.iter().map(|r| r.digest).collect();
        assert_eq!(risks, vec![app_digest(3)]);
        assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    }
}

#[tokio::test]
async fn dry_run_never_calls_batch_delete_image() {
    let (report, stats) = run_fleet(Faults::default(), Mode::Prune, true).await;
    assert_eq!(stats.calls("BatchDeleteImage"), 0);
    assert_eq!(report.summary.planned_deletions, UNUSED);
    assert!(report.deletions.iter().all(|d| d.outcome == "planned"));
}

#[tokio::test]
async fn active_deployments_and_task_sets_protect_what_they_run() {
    let faults = Faults {
        no_rollback: true,
        ..Faults::default()
    };
    let (report, stats) = run_fleet(faults, Mode::Prune, false).await;
    assert!(!report.scan_incomplete, "{:?}", report.errors);
    let deleted: BTreeSet<Digest> = stats.deleted.lock().unwrap().iter().copied().collect();
    assert!(
        !deleted.contains(&old_digest(0)),
        "svc-0's ACTIVE deployment runs fam0:1"
    );
    assert!(
        !deleted.contains(&old_digest(1)),
        "svc-1's second task set runs fam1:1"
    );
    for i in 2..SERVICES {
        assert!(
            deleted.contains(&old_digest(i)),
            "fam{i}:1 runs nowhere and is no rollback"
        );
    }
}

#[tokio::test]
async fn a_run_out_of_time_deletes_nothing_alerts_and_says_how_to_fit() {
    let faults = Faults {
        out_of_time: true,
        ..Faults::default()
    };
    let (report, stats) = run_fleet(faults, Mode::Prune, false).await;
    assert!(report.scan_incomplete);
    assert_eq!(report.summary.deleted, 0);
    assert!(stats.deleted.lock().unwrap().is_empty());
    let error = report.errors.join("\n");
    assert!(error.contains("account 123456789012 us-east-1"), "{error}");
    assert!(error.contains("not finished"), "{error}");
    assert!(
        error.contains("Timeout") && error.contains("REGIONS"),
        "{error}"
    );
    let published = stats.published.lock().unwrap();
    assert_eq!(published.len(), 1);
    assert!(published[0].message().unwrap().contains("not finished"));
}

#[tokio::test]
async fn a_registry_near_the_functions_memory_is_warned_about() {
    let roomy = run_fleet(Faults::default(), Mode::Plan, true).await.0;
    assert!(!roomy.warnings.iter().any(|w| w.contains("MemorySize")));
    let faults = Faults {
        memory_limit_mb: Some(50),
        ..Faults::default()
    };
    let (report, _) = run_fleet(faults, Mode::Plan, true).await;
    let warning = report
        .warnings
        .iter()
        .find(|w| w.contains("raise MemorySize"));
    assert!(warning.is_some(), "{:?}", report.warnings);
}
