//! The fan-out's pieces with the real binary: each member's usage scanned into a document (a file,
//! an S3 object), then one prune that reads them; a fan-in with a scope's document missing
//! deletes nothing. The state machine itself runs on the emulator, every invocation the binary.

use serde_json::Value;

use crate::*;

/// A folder of its own for one test's documents.
fn folder(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ecr-warden-e2e-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn scan_usage(emu: &Emulator, account: &str, region: &str, out: &str) -> Value {
    let args = [
        "scan-usage",
        "--account",
        account,
        "--region",
        region,
        "--out",
        out,
        "--output",
        "json",
    ];
    let run = emu.warden(&args, &[]);
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    json_report(&run)
}

#[test]
#[ignore = "needs the emulator: run `make e2e`"]
fn members_scanned_into_documents_keep_what_they_run_and_the_prune_deletes_the_rest() {
    let mut emu = Emulator::start("organization.json", &[]);
    emu.ask("bucket usage-documents");
    let dir = folder("fan-out");
    let file = dir
        .join("222222222222-us-east-1.json")
        .display()
        .to_string();
    let report = scan_usage(&emu, "222222222222", "us-east-1", &file);
    assert_eq!(report["mode"], "scan_usage");
    let document: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(document["complete"], true);
    assert_eq!(document["account"], "222222222222");
    scan_usage(
        &emu,
        "333333333333",
        "eu-west-1",
        "s3://usage-documents/run-1/333333333333-eu-west-1.json",
    );

    // This account is scanned live; the members only through their documents.
    let sources = format!("{file},s3://usage-documents/run-1/");
    let mut env = USAGE_ONLY.to_vec();
    env.push(("USAGE_SOURCES", &sources));
    let out = emu.warden(&["prune", "--alert", "--output", "json"], &env);
    let report = json_report(&out);
    assert!(
        !report["scan_incomplete"].as_bool().unwrap(),
        "{:#}",
        report["errors"]
    );
    let left = left(&mut emu);
    // The member's pinned digest (untagged) and its task definition's tag are kept; api stays
    // whole, as 444444444444 may pull it and was never scanned.
    assert_eq!(left["api"], ids(&["api-pinned", "api-v2", "api-old"]));
    // worker is shared with 333333333333 only: its document counts it as seen, so worker is pruned.
    assert_eq!(left["worker"], ids(&["worker-1"]));
    assert_eq!(left["home"], ids(&["home-1"]));
    let reasons = report["protected"].to_string();
    assert!(reasons.contains("333333333333-eu-west-1.json"), "{reasons}");
}

#[test]
#[ignore = "needs the emulator: run `make e2e`"]
fn a_fan_in_missing_a_scopes_document_deletes_nothing_and_says_which() {
    let mut emu = Emulator::start("organization.json", &[]);
    emu.ask("bucket usage-documents");
    scan_usage(
        &emu,
        "333333333333",
        "eu-west-1",
        "s3://usage-documents/run-2/333333333333-eu-west-1.json",
    );
    let dir = folder("fan-in");
    let event = dir.join("prune.json");
    let input = serde_json::json!({
        "action": "prune",
        "documents": "s3://usage-documents/run-2/",
        "scopes": [{"account": "222222222222", "region": "us-east-1"},
                   {"account": "333333333333", "region": "eu-west-1"}],
        "execution": "arn:aws:states:us-east-1:123456789012:execution:ecr-warden:run-2"
    });
    std::fs::write(&event, input.to_string()).unwrap();
    let before = emu.ecr();
    let out = emu.warden(
        &[
            "invoke",
            "--alert",
            "--event",
            &event.display().to_string(),
            "--output",
            "json",
        ],
        &USAGE_ONLY,
    );
    assert_eq!(out.status.code(), Some(1));
    let report = json_report(&out);
    assert_eq!(report["scan_incomplete"], true);
    assert_eq!(
        emu.ecr(),
        before,
        "nothing is deleted without every scope's document"
    );
    let errors = report["errors"].to_string();
    assert!(
        errors.contains("account 222222222222 us-east-1"),
        "{errors}"
    );
    assert!(
        errors.contains("no complete, fresh usage document"),
        "{errors}"
    );
    assert!(
        report["context"]
            .as_str()
            .unwrap()
            .contains("execution:ecr-warden:run-2")
    );
}

/// The scopes of an execution's invocations with this action.
fn invoked(run: &Value, action: &str) -> Vec<Value> {
    (run["invocations"].as_array().unwrap().iter())
        .filter(|i| i["event"]["action"] == action)
        .cloned()
        .collect()
}

#[test]
#[ignore = "needs the emulator: run `make e2e`"]
fn the_state_machine_scans_every_scope_then_one_prune_decides_with_all_of_them() {
    let mut emu = Emulator::start("organization.json", &[]);
    emu.ask("bucket ecr-warden-cache");
    let env = central("222222222222,333333333333");
    let run = emu.fanout("nightly-1", &env, &[]);
    assert_eq!(run["status"], "SUCCEEDED", "{run:#}");
    // This account and both members, in both regions: six scans, then one prune.
    let scans = invoked(&run, "scan-usage");
    assert_eq!(scans.len(), 6, "{run:#}");
    assert!(scans.iter().all(|s| s.get("error").is_none()), "{run:#}");
    let prune = &invoked(&run, "prune")[0];
    let documents = prune["event"]["documents"].as_str().unwrap();
    assert_eq!(documents, "s3://ecr-warden-cache/runs/nightly-1/usage/");
    assert_eq!(prune["event"]["scopes"].as_array().unwrap().len(), 6);
    assert_eq!(run["output"]["summary"]["deleted"], 2, "{run:#}");
    // The prune's report names every scope's document.
    let notes = prune["result"]["notes"].to_string();
    for scope in [
        "123456789012-us-east-1",
        "222222222222-eu-west-1",
        "333333333333-eu-west-1",
    ] {
        let document = format!("{documents}{scope}.json");
        assert!(notes.contains(&document), "{document} in {notes}");
    }
    assert!(
        (run["output"]["context"].as_str().unwrap())
            .contains("execution:ecr-warden-fan-out:nightly-1")
    );
    let left = left(&mut emu);
    assert_eq!(left["api"], ids(&["api-pinned", "api-v2", "api-old"]));
    assert_eq!(left["worker"], ids(&["worker-1"]));
    assert_eq!(left["home"], ids(&["home-1"]));
}

#[test]
#[ignore = "needs the emulator: run `make e2e`"]
fn a_scope_whose_scan_fails_fails_the_execution_and_nothing_is_deleted() {
    let mut emu = Emulator::start("organization.json", &[]);
    emu.ask("bucket ecr-warden-cache");
    let before = emu.ecr();
    // 444444444444 has no scan role: its scans fail.
    let env = central("222222222222,333333333333,444444444444");
    let run = emu.fanout("nightly-2", &env, &[]);
    assert_eq!(run["status"], "FAILED", "{run:#}");
    let failed: Vec<Value> = (invoked(&run, "scan-usage").into_iter())
        .filter(|s| s.get("error").is_some())
        .collect();
    assert!(!failed.is_empty(), "{run:#}");
    assert!(
        failed
            .iter()
            .all(|s| s["event"]["account"] == "444444444444"),
        "{run:#}"
    );
    // AWS stops the Map at the first failed item (ToleratedFailureCount 0); moto's interpreter
    // runs on to the prune, which must then refuse.
    for prune in invoked(&run, "prune") {
        let error = prune["error"]["errorMessage"].as_str().unwrap_or_default();
        assert!(error.contains("444444444444"), "{run:#}");
        assert!(
            !error.contains("ProviderError"),
            "one line, no debug dump: {error}"
        );
    }
    assert_eq!(emu.ecr(), before);
}

#[test]
#[ignore = "needs the emulator: run `make e2e`"]
fn a_missing_document_makes_the_prune_refuse_alert_and_fail_the_execution() {
    let mut emu = Emulator::start("organization.json", &[]);
    emu.ask("bucket ecr-warden-cache");
    let before = emu.ecr();
    let env = central("222222222222,333333333333");
    // The step for 333333333333 in eu-west-1 answers without writing its document.
    let run = emu.fanout("nightly-3", &env, &[("333333333333", "eu-west-1")]);
    assert_eq!(run["status"], "FAILED", "{run:#}");
    let prune = &invoked(&run, "prune")[0];
    let error = prune["error"]["errorMessage"].as_str().unwrap();
    assert!(error.contains("deleted nothing"), "{error}");
    assert!(error.contains("333333333333 eu-west-1"), "{error}");
    assert_eq!(
        emu.ecr(),
        before,
        "nothing is deleted without every scope's document"
    );
    let alerts = emu.sns();
    assert!(
        alerts.iter().any(|a| a["message"]
            .as_str()
            .unwrap()
            .contains("333333333333 eu-west-1")),
        "{alerts:#?}"
    );
}
