//! What a first-time operator meets when something is not set up: one line that says what to do,
//! the right exit status, and no minute of silent retries.

use std::process::{Command, Output};

use crate::*;

/// The binary with only these variables.
fn bare(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ecr-warden"));
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", std::env::temp_dir().join("ecr-warden-e2e-no-home"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("CACHE_URI", "off");
    cmd.envs(env.iter().copied());
    cmd.output().expect("run ecr-warden")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
#[ignore = "needs the emulator: run `make e2e`"]
fn an_unreachable_endpoint_no_credentials_or_no_region_is_one_line_that_says_what_to_do() {
    // A port nothing listens on: refused at once, named, and no retries for a minute.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let keys = [("AWS_ACCESS_KEY_ID", "a"), ("AWS_SECRET_ACCESS_KEY", "b")];
    let mut env = keys.to_vec();
    env.extend([
        ("AWS_REGION", "eu-west-1"),
        ("AWS_ENDPOINT_URL", closed.as_str()),
    ]);
    let out = bare(&["plan"], &env);
    assert_eq!(out.status.code(), Some(1));
    let text = stderr(&out);
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(
        text.contains(&format!("cannot reach AWS at {closed}")),
        "{text}"
    );
    assert!(text.contains("Connection refused"), "{text}");
    assert!(text.len() < 300, "{text}");

    let out = bare(
        &["plan"],
        &[("AWS_REGION", "eu-west-1"), ("AWS_ENDPOINT_URL", &closed)],
    );
    assert_eq!(out.status.code(), Some(2));
    let text = stderr(&out);
    assert!(
        text.contains("no AWS credentials found") && text.contains("AWS_PROFILE"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 1, "{text}");

    let out = bare(&["plan"], &keys);
    assert_eq!(out.status.code(), Some(2));
    let text = stderr(&out);
    assert!(text.contains("no AWS region: set AWS_REGION"), "{text}");
    assert_eq!(text.lines().count(), 1, "{text}");
}

#[test]
#[ignore = "needs the emulator: run `make e2e`"]
fn a_preview_of_a_repository_that_does_not_exist_fails_before_the_scan() {
    let mut aws = Emulator::start("incidents.json", &[]);
    aws.ask("reset-stats");
    let out = aws.warden(&["lifecycle-preview", "nosuchrepo"], &[]);
    assert_eq!(out.status.code(), Some(2));
    let text = stderr(&out);
    assert!(
        text.contains("there is no repository nosuchrepo in us-east-1"),
        "{text}"
    );
    let stats = aws.ask("stats");
    let ecs_calls = (stats.as_object().unwrap().keys())
        .filter(|op| op.starts_with("List") && op.contains("Task"));
    assert_eq!(ecs_calls.count(), 0, "no usage scan: {stats}");
    assert!(stats.get("ListClusters").is_none(), "{stats}");
}
