//! A prune on a terminal: the plan, the question, and deletions only after a yes. The terminal is
//! a pseudo-terminal from Python's `pty`, which answers the question.

use std::process::Command;

use serde_json::Value;

use crate::*;

/// Runs `ecr-warden ARGS` on a pseudo-terminal, answers `answer` when asked, and returns what it
/// printed and its exit status.
fn on_terminal(emu: &Emulator, args: &[&str], env: &[(&str, &str)], answer: &str) -> (String, i32) {
    const SCRIPT: &str = r#"
import json, os, pty, sys
binary, answer, args = sys.argv[1], sys.argv[2], sys.argv[3:]
env = json.loads(os.environ.pop("WARDEN_ENV"))
pid, fd = pty.fork()
if pid == 0:
    os.execve(binary, [binary, *args], env)
out = b""
answered = False
while True:
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
    if not answered and b"[y/N]" in out:
        os.write(fd, (answer + "\n").encode())
        answered = True
_, status = os.waitpid(pid, 0)
sys.stdout.write(json.dumps({"out": out.decode(errors="replace"), "status": os.waitstatus_to_exitcode(status)}))
"#;
    let env: serde_json::Map<String, Value> = (emu.environment(env).into_iter())
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    let out = Command::new(root().join(".venv/bin/python"))
        .args(["-c", SCRIPT, env!("CARGO_BIN_EXE_ecr-warden"), answer])
        .args(args)
        .env("WARDEN_ENV", Value::Object(env).to_string())
        .output()
        .expect("run the pseudo-terminal");
    let result: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (
        result["out"].as_str().unwrap().to_string(),
        result["status"].as_i64().unwrap() as i32,
    )
}

const AGGRESSIVE: [(&str, &str); 3] = [
    ("KEEP_RECENT", "1"),
    ("KEEP_PUSHED_WITHIN_DAYS", "0"),
    ("KEEP_PULLED_WITHIN_DAYS", "0"),
];

#[test]
#[ignore = "needs the emulator: run `make e2e`"]
fn a_prune_on_a_terminal_shows_the_plan_and_deletes_only_after_a_yes() {
    let mut emu = Emulator::start("incidents.json", &[]);
    let before = emu.ecr();
    let (out, status) = on_terminal(&emu, &["prune"], &AGGRESSIVE, "n");
    assert!(out.contains("DELETE  "), "the plan is shown first: {out}");
    assert!(out.contains("Delete 6 image(s) ("), "{out}");
    assert!(out.contains("Nothing deleted."), "{out}");
    assert_eq!(status, 1, "an in-use image is archived");
    assert_eq!(emu.ecr(), before, "no means no");

    let (out, _) = on_terminal(&emu, &["prune"], &AGGRESSIVE, "y");
    assert!(out.contains("DELETED "), "{out}");
    assert!(out.contains("6 deleted (at most "), "{out}");
    let deleted = all_digests(&before).len() - all_digests(&emu.ecr()).len();
    assert_eq!(deleted, 6);
}
