//! End to end: the real binary against a local AWS (moto, run by tests/emulator/harness.py), with
//! the event files from events/. Asserts ECR's state afterwards, the SNS messages published and the
//! exit codes. Needs the emulator's Python environment: `make test` (or `make e2e`) creates it and
//! runs these tests.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Output, Stdio};

use serde_json::Value;

/// The registry host of every test fleet.
const ECR: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A running emulator seeded with a fleet; stopped on drop.
struct Emulator {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    endpoint: String,
    digests: BTreeMap<String, String>,
}

impl Emulator {
    fn start(fleet: &str, extra: &[&str]) -> Emulator {
        let python = root().join(".venv/bin/python");
        assert!(
            python.exists(),
            "the emulator's Python environment is missing: run `make e2e` (or `make test`), which creates .venv"
        );
        let mut child = Command::new(python)
            .arg(root().join("tests/emulator/harness.py"))
            .arg(root().join("tests/emulator/fleets").join(fleet))
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the emulator");
        let stdin = child.stdin.take().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let ready: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("the emulator did not start ({e}): {line:?}"));
        Emulator {
            child,
            stdin,
            stdout,
            endpoint: ready["endpoint"].as_str().unwrap().to_string(),
            digests: serde_json::from_value(ready["digests"].clone()).unwrap(),
        }
    }

    fn ask(&mut self, command: &str) -> Value {
        writeln!(self.stdin, "{command}").unwrap();
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        serde_json::from_str(&line).unwrap()
    }

    /// Repository → digests now in ECR.
    fn ecr(&mut self) -> BTreeMap<String, BTreeSet<String>> {
        let state = self.ask("ecr");
        state
            .as_object()
            .unwrap()
            .iter()
            .map(|(repo, images)| {
                let digests = images
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|i| i["digest"].as_str().unwrap().to_string())
                    .collect();
                (repo.clone(), digests)
            })
            .collect()
    }

    fn sns(&mut self) -> Vec<Value> {
        self.ask("sns").as_array().unwrap().clone()
    }

    fn digest(&self, id: &str) -> String {
        self.digests[id].clone()
    }

    /// Runs ecr-warden with the emulator as AWS.
    fn warden(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ecr-warden"));
        cmd.args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("AWS_ENDPOINT_URL", &self.endpoint)
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_MAX_ATTEMPTS", "3")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env(
                "SNS_TOPIC_ARN",
                "arn:aws:sns:us-east-1:123456789012:ecr-warden-alerts",
            )
            .env("RUST_LOG", "warn");
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().expect("run ecr-warden")
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = writeln!(self.stdin, "quit");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn json_report(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON report ({e}); stdout: {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn event(name: &str) -> String {
    root().join("events").join(name).display().to_string()
}

const PRUNE_FOR_REAL: [(&str, &str); 4] = [
    ("DRY_RUN", "false"),
    ("KEEP_RECENT", "1"),
    ("KEEP_PUSHED_WITHIN_DAYS", "0"),
    ("KEEP_PULLED_WITHIN_DAYS", "0"),
];

fn all_digests(state: &BTreeMap<String, BTreeSet<String>>) -> BTreeSet<String> {
    state.values().flatten().cloned().collect()
}

#[test]
#[ignore = "needs the emulator: run `make e2e`"]
fn prune_deletes_only_what_nothing_needs_and_alerts_once() {
    let mut aws = Emulator::start("incidents.json", &[]);
    let before = aws.ecr();
    let out = aws.warden(&["prune", "--output", "json"], &PRUNE_FOR_REAL);
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
    assert!(
        body.contains("AT RISK web@") && body.contains("AT RISK api@"),
        "{body}"
    );
}

#[test]
#[ignore = "needs the emulator: run `make e2e`"]
fn by_default_nothing_is_deleted() {
    let mut aws = Emulator::start("incidents.json", &[]);
    let before = aws.ecr();
    let out = aws.warden(&["prune", "--output", "json"], &[("KEEP_RECENT", "0")]);
    let report = json_report(&out);
    assert_eq!(report["dry_run"], true);
    assert!(report["summary"]["planned_deletions"].as_u64().unwrap() > 0);
    assert_eq!(aws.ecr(), before);
}

#[test]
#[ignore = "needs the emulator: run `make e2e`"]
fn throttling_does_not_change_the_outcome() {
    let mut calm = Emulator::start("incidents.json", &[]);
    let calm_report = json_report(&calm.warden(&["plan", "--output", "json"], &PRUNE_FOR_REAL));
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
    let out = throttled.warden(&["plan", "--output", "json"], &PRUNE_FOR_REAL);
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
    let out = aws.warden(&["prune", "--output", "json"], &PRUNE_FOR_REAL);
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
fn a_retirement_whose_image_is_gone_alerts_at_once() {
    let mut aws = Emulator::start("retirement.json", &[]);
    let out = aws.warden(
        &[
            "invoke",
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
            &["invoke", "--event", &event(name), "--output", "json"],
            &PRUNE_FOR_REAL,
        );
        assert_eq!(out.status.code(), Some(2), "{name}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.starts_with("ecr-warden: "), "{name}: {stderr}");
    }
    assert_eq!(aws.ecr(), before);
    assert!(aws.sns().is_empty());
}

#[test]
#[ignore = "needs the emulator: run `make e2e`"]
fn the_nightly_schedule_prunes_through_the_handler() {
    let mut aws = Emulator::start("incidents.json", &[]);
    let before = all_digests(&aws.ecr());
    let out = aws.warden(
        &[
            "invoke",
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
    let out = aws.warden(&["check", "--output", "json"], &[]);
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
        &["prune", "--output", "json"],
        &[("GUARD_TAG_PREFIX", "inuse-"), ("KEEP_RECENT", "0")],
    );
    let report = json_report(&out);
    assert_eq!(report["guard"]["dry_run"], true);
    assert_eq!(report["guard"]["added"].as_array().unwrap().len(), 2);
    assert_eq!(aws.ask("ecr"), before);

    let out = aws.warden(&["prune", "--output", "json"], &env);
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
    let out = aws.warden(&["prune", "--output", "json"], &env);
    let report = json_report(&out);
    assert!(
        report["guard"]["added"].as_array().unwrap().is_empty(),
        "{}",
        report["guard"]
    );
    assert!(report["guard"]["removed"].as_array().unwrap().is_empty());
}

/// Prunes for real with no retention: only what something uses survives.
const USAGE_ONLY: [(&str, &str); 5] = [
    ("DRY_RUN", "false"),
    ("KEEP_RECENT", "0"),
    ("KEEP_PUSHED_WITHIN_DAYS", "0"),
    ("KEEP_PULLED_WITHIN_DAYS", "0"),
    ("ROLLBACK_REVISIONS", "0"),
];

/// A usage document in a fresh temporary directory, written `hours_old` hours ago.
fn usage_file(name: &str, text: &str, hours_old: u64) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ecr-warden-e2e-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    let written = std::time::SystemTime::now() - std::time::Duration::from_secs(hours_old * 3600);
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(written)
        .unwrap();
    path
}

/// The ids of the images left in ECR, by repository.
fn left(emu: &mut Emulator) -> BTreeMap<String, BTreeSet<String>> {
    let by_digest: BTreeMap<String, String> = emu
        .digests
        .iter()
        .map(|(id, d)| (d.clone(), id.clone()))
        .collect();
    emu.ecr()
        .into_iter()
        .map(|(repo, digests)| {
            let ids = digests
                .iter()
                .filter_map(|d| by_digest.get(d).cloned())
                .collect();
            (repo, ids)
        })
        .collect()
}

fn ids(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| s.to_string()).collect()
}

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
    let out = emu.warden(&["prune", "--output", "json"], &env);
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
    let out = emu.warden(&["prune", "--output", "json"], &USAGE_ONLY);
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
        let out = emu.warden(&["prune", "--output", "json"], &env);
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
    let report = json_report(&aws.warden(&["invoke", "--event", &other, "--output", "json"], &[]));
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
    let report =
        json_report(&denied.warden(&["invoke", "--event", &mine, "--output", "json"], &[]));
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
    let out = aws.warden(&["prune", "--output", "json"], &PRUNE_FOR_REAL);
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
    let out = aws.warden(&["plan", "--output", "json"], &[("CLUSTERS", "prod")]);
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

/// Central-registry runs: prune for real with no retention, leaving App Runner (not emulated) out.
fn central(accounts: &str) -> Vec<(&str, &str)> {
    let mut env = USAGE_ONLY.to_vec();
    env.extend([("ACCOUNTS", accounts), ("REGIONS", "us-east-1,eu-west-1")]);
    env
}

#[test]
#[ignore = "needs the emulator: run `make e2e`"]
fn a_central_registry_keeps_what_member_accounts_run_in_any_region_and_prunes_the_rest() {
    let mut emu = Emulator::start("organization.json", &[]);
    let out = emu.warden(
        &["prune", "--output", "json"],
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
    let out = emu.warden(&["prune", "--output", "json"], &central("organization"));
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
        &["prune", "--output", "json"],
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
    let args = ["invoke", "--event", member.as_str(), "--output", "json"];
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
