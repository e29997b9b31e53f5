//! The fan-out's pieces with the real binary: each member's usage scanned into a document (a file,
//! an S3 object), then one prune that reads them; a fan-in with a scope's document missing
//! deletes nothing.

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
    let out = emu.warden(&["prune", "--output", "json"], &env);
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
