//! Several accounts and regions: a central registry, an organization, an unreachable member.

use crate::*;

#[test]
#[ignore = "needs the emulator: run `make e2e`"]
fn a_central_registry_keeps_what_member_accounts_run_in_any_region_and_prunes_the_rest() {
    let mut emu = Emulator::start("organization.json", &[]);
    let out = emu.warden(
        &["prune", "--alert", "--output", "json"],
        &central("222222222222,333333333333"),
    );
    let report = json_report(&out);
    let left = left(&mut emu);
    // A member's scaled-to-zero service pins an untagged digest; its task definition names v2.
    assert_eq!(
        left["api"],
        ids(&["api-pinned", "api-v2", "api-old"]),
        "api is shared with 444444444444, never scanned"
    );
    // A cluster in eu-west-1 of another account pulls from this us-east-1 registry.
    assert_eq!(left["worker"], ids(&["worker-1"]));
    assert_eq!(left["home"], ids(&["home-1"]));
    let reasons = report["protected"].to_string();
    assert!(
        reasons.contains(
            "in use by account 222222222222 us-east-1 service api in cluster prod, pinned digest"
        ),
        "{reasons}"
    );
    assert!(
        reasons.contains("in use by account 333333333333 eu-west-1 running task"),
        "{reasons}"
    );
    assert!(
        !report["scan_incomplete"].as_bool().unwrap(),
        "{:#}",
        report["errors"]
    );
    assert_eq!(
        report["unscanned_consumers"][0]["consumers"][0],
        "account 444444444444 (repository policy)"
    );
}

#[test]
#[ignore = "needs the emulator: run `make e2e`"]
fn an_organization_is_scanned_account_by_account() {
    let mut emu = Emulator::start("organization.json", &[]);
    let out = emu.warden(
        &["prune", "--alert", "--output", "json"],
        &central("organization"),
    );
    let report = json_report(&out);
    assert!(
        !report["scan_incomplete"].as_bool().unwrap(),
        "{:#}",
        report["errors"]
    );
    let left = left(&mut emu);
    assert_eq!(
        left["worker"],
        ids(&["worker-1"]),
        "333333333333 is an ACTIVE member"
    );
    assert_eq!(left["home"], ids(&["home-1"]));
    assert!(
        left["api"].contains("api-pinned"),
        "222222222222 is an ACTIVE member"
    );
    assert!(
        !report.to_string().contains("555555555555"),
        "a SUSPENDED account is not scanned"
    );
}

#[test]
#[ignore = "needs the emulator: run `make e2e`"]
fn a_member_account_whose_role_cannot_be_assumed_holds_what_it_can_pull_and_alerts() {
    let mut emu = Emulator::start("organization.json", &[]);
    let out = emu.warden(
        &["prune", "--alert", "--output", "json"],
        &central("222222222222,333333333333,444444444444"),
    );
    let report = json_report(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "an unreachable account is a gap"
    );
    let left = left(&mut emu);
    assert!(
        left["api"].contains("api-old"),
        "444444444444 may pull from api: held"
    );
    assert_eq!(
        left["home"],
        ids(&["home-1"]),
        "no policy lets 444444444444 pull from home"
    );
    assert_eq!(left["worker"], ids(&["worker-1"]));
    let errors = report["errors"].to_string();
    assert!(
        errors.contains("sts:AssumeRole on account 444444444444 us-east-1"),
        "{errors}"
    );
    assert!(
        errors.contains("account 444444444444 eu-west-1"),
        "{errors}"
    );
    let sns = emu.sns();
    assert_eq!(sns.len(), 1);
    let body = sns[0]["message"].as_str().unwrap();
    assert!(
        body.contains("SCAN INCOMPLETE") && body.contains("account 444444444444 us-east-1"),
        "{body}"
    );
}

#[test]
#[ignore = "needs the emulator: run `make e2e`"]
fn a_retirement_forwarded_from_a_member_account_is_checked_in_that_account() {
    let mut emu = Emulator::start("organization.json", &[]);
    let member = event("health-task-retirement-member-account.json");
    let args = [
        "invoke",
        "--alert",
        "--event",
        member.as_str(),
        "--output",
        "json",
    ];
    let out = emu.warden(&args, &central("222222222222"));
    let report = json_report(&out);
    assert_eq!(out.status.code(), Some(0), "{report:#}");
    assert_eq!(report["missing"], serde_json::json!([]));
    assert!(
        report["notes"]
            .to_string()
            .contains("checked 2 image reference(s)"),
        "{report:#}"
    );
    let sns = emu.sns();
    assert!(
        sns.iter().all(|m| m["attributes"]["findings"] == "at_risk"),
        "its images are in the central registry (the pinned one untagged): {sns:#?}"
    );

    // Without ACCOUNTS, the account the event comes from is not scanned: say so, never "fine".
    let out = emu.warden(&args, &USAGE_ONLY);
    let report = json_report(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        report["errors"]
            .to_string()
            .contains("add it to ACCOUNTS and REGIONS"),
        "{report:#}"
    );
}
