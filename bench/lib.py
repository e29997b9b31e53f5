"""What the benchmarks share: the emulator, a timed run of a command against it, the names of the
operations it counted, and the bound the ECS rate puts on a run's wall time."""

import json
import math
import os
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LATENCY_MS = 20
CONCURRENCY = 8
ECS_RATE = 20  # the default ECS_REQUESTS_PER_SECOND, per throttling category

# ECS's throttling categories: the calls in each, and each one's burst (src/limit.rs).
ECS_BUCKETS = {
    "cluster read": (["ListClusters"], 50),
    "task-definition read": (["ListTaskDefinitions", "DescribeTaskDefinition"], 50),
    "cluster-resource read": (["ListTasks", "DescribeTasks"], 100),
    "service read": (["ListServices", "DescribeServices"], 100),
    "service revision read": (["DescribeServiceRevisions"], 50),
}

SERVICE = {"ListClusters": "ecs", "ListServices": "ecs", "DescribeServices": "ecs", "DescribeServiceRevisions": "ecs",
           "ListTasks": "ecs", "DescribeTasks": "ecs", "ListTaskDefinitions": "ecs", "DescribeTaskDefinition": "ecs",
           "ListTaskDefinitionFamilies": "ecs", "DescribeRegistry": "ecr", "DescribeRepositories": "ecr",
           "DescribeImages": "ecr", "GetLifecyclePolicy": "ecr", "BatchGetImage": "ecr", "BatchDeleteImage": "ecr",
           "ListImages": "ecr", "GetRepositoryPolicy": "ecr", "GetRegistryPolicy": "ecr", "ListEventBuses": "events",
           "ListRules": "events", "ListTargetsByRule": "events", "ListSchedules": "scheduler",
           "GetSchedule": "scheduler", "DescribeJobDefinitions": "batch", "DescribeJobQueues": "batch",
           "ListJobs": "batch", "DescribeJobs": "batch", "apprunner:ListServices": "",
           "GetCallerIdentity": "sts", "AssumeRole": "sts", "Publish": "sns", "GetObject": "s3", "PutObject": "s3"}


def op_name(op):
    service = SERVICE.get(op, "lambda")
    return op if not service else f"{service}:{op}"


class Emulator:
    """The local AWS, seeded with a generated fleet, answering every request after the latency."""

    def __init__(self, fleet, latency_ms=LATENCY_MS):
        self.proc = subprocess.Popen(
            [str(ROOT / ".venv/bin/python"), str(ROOT / "tests/emulator/harness.py"), fleet,
             "--latency-ms", str(latency_ms)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        ready = json.loads(self.proc.stdout.readline())
        self.endpoint = ready["endpoint"]
        self.sizes = ready["tasks"]["sizes"]
        self.generated = ready["tasks"]["generated"]

    def ask(self, command):
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def env(self, **extra):
        return dict(os.environ, AWS_ENDPOINT_URL=self.endpoint, AWS_ACCESS_KEY_ID="bench",
                    AWS_SECRET_ACCESS_KEY="bench", AWS_REGION="us-east-1", AWS_DEFAULT_REGION="us-east-1",
                    AWS_EC2_METADATA_DISABLED="true", RUST_LOG="error", SCAN_CONCURRENCY=str(CONCURRENCY),
                    **extra)

    def close(self):
        try:
            self.ask("quit")
        except Exception:
            pass
        self.proc.kill()
        self.proc.wait()


def fresh_cache():
    return os.path.join(tempfile.mkdtemp(prefix="ecr-warden-bench-"), "cache.json")


def timed(emulator, command, env, label):
    """Runs a command against the emulator; its wall time, peak memory, CPU and the calls it made
    (first attempts, by operation). Memory and CPU come from GNU time, whose own child starts
    small: a child of this (large) process would report this process's memory as its peak."""
    emulator.ask("reset-stats")
    measured = tempfile.NamedTemporaryFile(prefix="ecr-warden-bench-", suffix=".time", delete=False).name
    start = time.monotonic()
    proc = subprocess.Popen(["/usr/bin/time", "-f", "%M %U %S", "-o", measured, *command], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    out = proc.stdout.read()
    status = proc.wait()
    wall = time.monotonic() - start
    rss_kib, user, system = (float(v) for v in Path(measured).read_text().split()[-3:])
    os.unlink(measured)
    stats = emulator.ask("stats")
    calls = {op_name(op): c["first_attempts"] for op, c in stats.items()}
    retries = sum(c["retries"] for c in stats.values())
    try:
        report = json.loads(out)
    except ValueError:
        report = None
    busy = {op_name(op): c["emulator_busy_s"] for op, c in stats.items()}
    return {"label": label, "wall_s": round(wall, 2), "peak_rss_mib": round(rss_kib / 1024, 1),
            "cpu_s": round(user + system, 2), "exit_status": status, "calls": calls,
            "total_calls": sum(calls.values()), "retries": retries, "emulator_busy_s": busy, "report": report}


def ecs_rate_bound(calls, rate=ECS_RATE):
    """The least time the ECS calls take when each category is drawn at `rate` after its burst."""
    worst = 0.0
    for ops, burst in ECS_BUCKETS.values():
        n = sum(calls.get(f"ecs:{op}", 0) for op in ops)
        worst = max(worst, max(0, n - burst) / rate)
    return worst


def latency_bound(total_calls, chain=1):
    """The least time `total_calls` take 8 at a time, or the longest chain of calls one after another."""
    return max(total_calls / CONCURRENCY, chain) * LATENCY_MS / 1000


def table(columns, rows):
    widths = [max(len(str(c)), *(len(str(r[i])) for r in rows)) for i, c in enumerate(columns)]
    line = lambda cells: "  ".join(str(c).rjust(w) if i else str(c).ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))
    print(line(columns))
    for r in rows:
        print(line(r))


def ceil(n, d):
    return math.ceil(n / d) if n else 0
