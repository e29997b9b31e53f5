//! End to end: the real binary against a local AWS (moto, run by tests/emulator/harness.py), with
//! the event files from events/. Asserts ECR's state afterwards, the SNS messages published and the
//! exit codes. Needs the emulator's Python environment: `make test` (or `make e2e`) creates it and
//! runs these tests.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Output, Stdio};

use serde_json::Value;

mod consumers;
mod errors;
mod fanout;
mod incidents;
mod organization;
mod prune;
mod runs;
mod terminal;

/// The registry host of every test fleet.
pub const ECR: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com";

pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A running emulator seeded with a fleet; stopped on drop.
pub struct Emulator {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    endpoint: String,
    pub digests: BTreeMap<String, String>,
}

impl Emulator {
    pub fn start(fleet: &str, extra: &[&str]) -> Emulator {
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

    pub fn ask(&mut self, command: &str) -> Value {
        writeln!(self.stdin, "{command}").unwrap();
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        serde_json::from_str(&line).unwrap()
    }

    /// Repository → digests now in ECR.
    pub fn ecr(&mut self) -> BTreeMap<String, BTreeSet<String>> {
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

    /// Digest → ECR's size of every image that has one.
    pub fn sizes(&mut self) -> BTreeMap<String, u64> {
        let state = self.ask("ecr");
        (state.as_object().unwrap().values())
            .flat_map(|images| images.as_array().unwrap().clone())
            .filter_map(|i| Some((i["digest"].as_str()?.to_string(), i["size"].as_u64()?)))
            .collect()
    }

    pub fn sns(&mut self) -> Vec<Value> {
        self.ask("sns").as_array().unwrap().clone()
    }

    pub fn digest(&self, id: &str) -> String {
        self.digests[id].clone()
    }

    /// ecr-warden's environment in these tests: the emulator as AWS, plus `env`.
    pub fn environment(&self, env: &[(&str, &str)]) -> Vec<(String, String)> {
        let base = [
            ("PATH", std::env::var("PATH").unwrap_or_default()),
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_ACCESS_KEY_ID", "test".into()),
            ("AWS_SECRET_ACCESS_KEY", "test".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_MAX_ATTEMPTS", "3".into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
            (
                "SNS_TOPIC_ARN",
                "arn:aws:sns:us-east-1:123456789012:ecr-warden-alerts".into(),
            ),
            ("RUST_LOG", "warn".into()),
        ];
        let base = base.into_iter().map(|(k, v)| (k.to_string(), v));
        base.chain(env.iter().map(|(k, v)| (k.to_string(), v.to_string())))
            .collect()
    }

    /// Runs ecr-warden with the emulator as AWS.
    pub fn warden(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ecr-warden"));
        cmd.args(args).env_clear().envs(self.environment(env));
        cmd.output().expect("run ecr-warden")
    }

    /// Runs the fan-out state machine once on the emulator's interpreter, every invocation the
    /// binary in Lambda mode with `env`; `skip` are scopes whose scan step answers without
    /// running (its document is never written). Answers the execution's status, error, cause,
    /// output and invocations.
    pub fn fanout(&mut self, name: &str, env: &[(&str, &str)], skip: &[(&str, &str)]) -> Value {
        let env: serde_json::Map<String, Value> = (self.environment(env).into_iter())
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
        let skip: Vec<Value> = (skip.iter())
            .map(|(account, region)| serde_json::json!({"account": account, "region": region}))
            .collect();
        let request = serde_json::json!({
            "binary": env!("CARGO_BIN_EXE_ecr-warden"),
            "env": env,
            "bucket": "ecr-warden-cache",
            "name": name,
            "skip": skip,
        });
        self.ask(&format!("fanout {request}"))
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = writeln!(self.stdin, "quit");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn json_report(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON report ({e}); stdout: {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

pub fn event(name: &str) -> String {
    root().join("events").join(name).display().to_string()
}

pub const PRUNE_FOR_REAL: [(&str, &str); 4] = [
    ("DRY_RUN", "false"),
    ("KEEP_RECENT", "1"),
    ("KEEP_PUSHED_WITHIN_DAYS", "0"),
    ("KEEP_PULLED_WITHIN_DAYS", "0"),
];

pub fn all_digests(state: &BTreeMap<String, BTreeSet<String>>) -> BTreeSet<String> {
    state.values().flatten().cloned().collect()
}

/// Prunes for real with no retention: only what something uses survives.
pub const USAGE_ONLY: [(&str, &str); 5] = [
    ("DRY_RUN", "false"),
    ("KEEP_RECENT", "0"),
    ("KEEP_PUSHED_WITHIN_DAYS", "0"),
    ("KEEP_PULLED_WITHIN_DAYS", "0"),
    ("ROLLBACK_REVISIONS", "0"),
];

/// A usage document in a fresh temporary directory, written `hours_old` hours ago.
pub fn usage_file(name: &str, text: &str, hours_old: u64) -> std::path::PathBuf {
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
pub fn left(emu: &mut Emulator) -> BTreeMap<String, BTreeSet<String>> {
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

pub fn ids(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// Central-registry runs: prune for real with no retention, leaving App Runner (not emulated) out.
pub fn central(accounts: &str) -> Vec<(&str, &str)> {
    let mut env = USAGE_ONLY.to_vec();
    env.extend([("ACCOUNTS", accounts), ("REGIONS", "us-east-1,eu-west-1")]);
    env
}
