//! Incidents: task retirements, pull failures, and events that are not ours.

use crate::*;

#[test]
#[ignore = "needs the emulator: run `make e2e`"]
fn a_retirement_whose_image_is_gone_alerts_at_once() {
    let mut aws = Emulator::start("retirement.json", &[]);
    let out = aws.warden(
        &[
            "invoke",
            "--alert",
            "--event",
            &event("health-task-retirement-services.json"),
            "--output",
            "json",
        ],
        &[],
    );
    let report = json_report(&out);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(report["mode"], "retirement");
    let missing = report["missing"].as_array().unwrap();
    assert!(!missing.is_empty());
    assert!(
        missing.iter().all(|m| m["repository"] == "checkout"),
        "{missing:?}"
    );
    let messages = aws.sns();
    assert_eq!(messages.len(), 1);
    let subject = messages[0]["subject"].as_str().unwrap();
    assert!(
        subject.contains("missing for tasks AWS will retire in cluster prod"),
        "{subject}"
    );
    let body = messages[0]["message"].as_str().unwrap();
    assert!(
        body.contains("AWS_ECS_TASK_PATCHING_RETIREMENT_TEST_1"),
        "{body}"
    );
    assert!(body.contains("Thu, 26 Nov 2026 00:00:00 GMT"), "{body}");
    assert!(body.contains("service checkout in cluster prod"), "{body}");
}

#[test]
#[ignore = "needs the emulator: run `make e2e`"]
fn a_retirement_whose_images_are_present_stays_quiet() {
    let mut aws = Emulator::start("retirement.json", &[]);
    let out = aws.warden(
        &[
            "invoke",
            "--alert",
            "--event",
            &event("health-task-retirement-no-end-time.json"),
            "--output",
            "json",
        ],
        &[],
    );
    let report = json_report(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(report["missing"].as_array().unwrap().is_empty());
    assert!(
        report["notes"][0]
            .as_str()
            .unwrap()
            .starts_with("checked 3 image reference(s)"),
        "{}",
        report["notes"]
    );
    assert!(aws.sns().is_empty());
}

#[test]
#[ignore = "needs the emulator: run `make e2e`"]
fn pull_failures_are_diagnosed() {
    let mut aws = Emulator::start("retirement.json", &[]);
    let out = aws.warden(
        &[
            "invoke",
            "--alert",
            "--event",
            &event("ecs-task-pull-failure.json"),
            "--output",
            "json",
        ],
        &[],
    );
    let report = json_report(&out);
    assert_eq!(report["diagnoses"][0]["cause"], "image_missing", "{report}");
    let out = aws.warden(
        &[
            "invoke",
            "--alert",
            "--event",
            &event("ecs-task-pull-failure-image-present.json"),
            "--output",
            "json",
        ],
        &[],
    );
    let report = json_report(&out);
    assert_eq!(report["diagnoses"][0]["cause"], "image_present", "{report}");
    assert!(
        report["diagnoses"][0]["advice"]
            .as_str()
            .unwrap()
            .contains("VPC endpoints")
    );
    let messages = aws.sns();
    assert_eq!(messages.len(), 2);
    assert!(messages[0]["subject"].as_str().unwrap().contains("missing"));
    assert!(
        messages[1]["subject"]
            .as_str()
            .unwrap()
            .contains("could not pull its image (image_present)")
    );
}

#[test]
#[ignore = "needs the emulator: run `make e2e`"]
fn unknown_and_malformed_events_delete_nothing() {
    let mut aws = Emulator::start("retirement.json", &[]);
    let before = aws.ecr();
    let out = aws.warden(
        &[
            "invoke",
            "--alert",
            "--event",
            &event("ignored/s3-object-created.json"),
            "--output",
            "json",
        ],
        &PRUNE_FOR_REAL,
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(json_report(&out)["mode"], "ignored");
    for name in [
        "malformed/unknown-action.json",
        "malformed/not-an-object.json",
        "malformed/health-without-detail.json",
    ] {
        let out = aws.warden(
            &[
                "invoke",
                "--alert",
                "--event",
                &event(name),
                "--output",
                "json",
            ],
            &PRUNE_FOR_REAL,
        );
        assert_eq!(out.status.code(), Some(2), "{name}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.starts_with("ecr-warden: "), "{name}: {stderr}");
    }
    assert_eq!(aws.ecr(), before);
    assert!(aws.sns().is_empty());
}
