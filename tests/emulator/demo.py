"""`make demo`: ecr-warden against a local AWS seeded with a realistic fleet.

Two clusters share a sidecar repository; one service runs an image whose tag was overwritten, one an
image whose tag two pipelines pushed at once; a standalone family needs an archived image; and a
service AWS is about to retire runs a digest that was already deleted.
"""

import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BINARY = sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "target/debug/ecr-warden")
BOLD, DIM, RESET = ("\033[1m", "\033[2m", "\033[0m") if sys.stdout.isatty() else ("", "", "")


def say(text):
    print(f"\n{BOLD}{textwrap.fill(' '.join(text.split()), 100)}{RESET}\n", flush=True)


def main():
    harness = subprocess.Popen(
        [sys.executable, str(ROOT / "tests/emulator/harness.py"), str(ROOT / "tests/emulator/fleets/demo.json")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    ready = json.loads(harness.stdout.readline())

    def ask(command):
        harness.stdin.write(command + "\n")
        harness.stdin.flush()
        return json.loads(harness.stdout.readline())

    env = dict(os.environ,
               AWS_ENDPOINT_URL=ready["endpoint"], AWS_ACCESS_KEY_ID="demo", AWS_SECRET_ACCESS_KEY="demo",
               AWS_REGION="us-east-1", AWS_MAX_ATTEMPTS="2", AWS_EC2_METADATA_DISABLED="true",
               RUST_LOG="error",
               SNS_TOPIC_ARN="arn:aws:sns:us-east-1:123456789012:ecr-warden-alerts",
               KEEP_RECENT="1", KEEP_PUSHED_WITHIN_DAYS="0", KEEP_PULLED_WITHIN_DAYS="0",
               # This emulator's answers, not a real account's: a cache of its own, gone afterwards.
               CACHE_URI=os.path.join(tempfile.mkdtemp(prefix="ecr-warden-demo-"), "cache.json"))

    def warden(*args, **extra):
        cmd = [BINARY, *args]
        print(f"{DIM}$ {' '.join(f'{k}={v}' for k, v in extra.items())} ecr-warden {' '.join(args)}{RESET}", flush=True)
        result = subprocess.run(cmd, env=dict(env, **extra), text=True, capture_output=True)
        print(result.stdout, end="")
        meaning = {0: "all is well",
                   1: "something needs attention: an in-use image is missing or threatened, "
                      "the scan was incomplete, or a deletion failed",
                   2: "a configuration error or a malformed event"}.get(result.returncode, "")
        print(f"{DIM}(exit status {result.returncode}: {meaning}){RESET}")
        return result

    try:
        count = sum(len(v) for v in ask("ecr").values())
        say(f"""A local AWS (moto) is running at {ready['endpoint']} with {count} images in
            {len(ask('ecr'))} repositories, two ECS clusters (prod, staging) and their services and
            tasks. The retention policy is deliberately aggressive: keep only the newest image per
            repository. First, `plan`: what ecr-warden would keep, why, and what it would delete.""")
        warden("plan")

        say("""Every kept image says why. The quiet service's sidecar (fluentd bbbb) is kept because
            middleware:2 runs it, although 'keep the newest' alone would delete it. The untagged
            digests that staging's web and api are pinned to (the tag-overwrite incidents) are kept
            and reported AT RISK. The archived image a standalone family needs, and the deleted
            image the checkout service is pinned to, are reported MISSING. The repositories' own
            lifecycle policies ("keep the 3 newest", "expire untagged after 1 day") would remove
            images in use: LIFECYCLE RISK. Exit status 1 says something needs attention. Now `prune
            --yes --alert`: it deletes without asking (on a terminal it would show the plan and
            ask), indexes before their children, and publishes its alert as the Lambda function
            does.""")
        before = ask("ecr")
        warden("prune", "--yes", "--alert")
        after = ask("ecr")
        gone = sum(len(v) for v in before.values()) - sum(len(v) for v in after.values())
        kept = {i["digest"] for images in after.values() for i in images}
        freed = sum(i["size"] or 0 for images in before.values() for i in images if i["digest"] not in kept)
        say(f"""ECR now holds {sum(len(v) for v in after.values())} images: {gone} were deleted, none
            that anything uses, freeing {freed / 2**20:.0f} MiB (at most: layers shared between
            images count once per image). The run published one alert to SNS (below). Next, AWS Health
            announces a task retirement for prod|checkout and prod|catalog: the Lambda handler,
            run here with `invoke`, checks the digests those services will pull when replaced.""")
        warden("invoke", "--alert", "--event", str(ROOT / "events/health-task-retirement-services.json"))

        say("""checkout's pinned digest is gone, so its replacement tasks would fail with
            CannotPullContainerError: the alert goes out now, days before the maintenance window.
            These are the SNS messages the demo published:""")
        for m in ask("sns"):
            print(f"{BOLD}Subject:{RESET} {m['subject']}")
            print(f"{DIM}attributes: {json.dumps(m['attributes'])}{RESET}")
            print(textwrap.indent(m["message"].strip(), "  "))
            print()
        say(f"""That is the tour: {gone} unused images deleted, {freed / 2**20:.0f} MiB reclaimed, nothing
            in use touched, and the missing image announced before it hurts. `make test` runs all
            of this and more as tests.""")
    finally:
        try:
            ask("quit")
        except Exception:
            pass
        harness.kill()
        harness.wait()


if __name__ == "__main__":
    main()
