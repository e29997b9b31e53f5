"""`make bench`: API calls, wall time and memory of a full `ecr-warden plan` against the local AWS
emulator, seeded with the standard fleet and answering every request after a fixed latency.

Prints, per operation, the calls made (first attempts and retries) next to the lower bound that
the fleet's size and each call's page or batch limit allow, then wall time next to the bound set by
latency, concurrency and the ECS request rate, and the peak resident memory of the process.
Writes the same as JSON to bench/results.json.
"""

import json
import math
import os
import platform
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BINARY = sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "target/release/ecr-warden")
LATENCY_MS = 20
CONCURRENCY = 8
ECS_RATE = 20  # the default ECS_REQUESTS_PER_SECOND; burst = one second's worth


def lower_bounds(z):
    c, s, t, f, r = z["clusters"], z["services"], z["tasks"], z["families"], z["revisions"]
    served = min(f, c * s)  # every service runs the newest revision of its own family
    return {
        "ecs:ListClusters": math.ceil(c / 100),
        "ecs:ListServices": c * math.ceil(s / 100),
        "ecs:DescribeServices": c * math.ceil(s / 10),
        "ecs:DescribeServiceRevisions": c * math.ceil(s / 20),
        # RUNNING tasks, and one (empty) page of recently STOPPED tasks per cluster.
        "ecs:ListTasks": c * (math.ceil(s * t / 100) + 1),
        "ecs:DescribeTasks": c * math.ceil(s * t / 100),
        "ecs:ListTaskDefinitions": math.ceil(f * r / 100),
        # Served families: the revision in service and one rollback revision; others: the newest.
        "ecs:DescribeTaskDefinition": served * 2 + (f - served),
        "ecr:DescribeRegistry": 1,
        "ecr:DescribeRepositories": math.ceil(z["repositories"] / 1000),
        "ecr:DescribeImages": z["repositories"] * math.ceil(z["images"] / 1000),
        "ecr:GetLifecyclePolicy": z["repositories"],
        "lambda:ListFunctions": math.ceil(z["functions"] / 50),
        "lambda:ListVersionsByFunction": z["functions"],
        "lambda:ListAliases": z["functions"],
        "lambda:GetFunction": z["functions"],
        # One event bus without rules, no schedules, job definitions, queues or App Runner services.
        "events:ListEventBuses": 1, "events:ListRules": 1, "scheduler:ListSchedules": 1,
        "batch:DescribeJobDefinitions": 1, "batch:DescribeJobQueues": 1, "apprunner:ListServices": 1,
        "ecr:GetRegistryPolicy": 1, "ecr:GetRepositoryPolicy": z["repositories"],
        "sts:GetCallerIdentity": 1,
    }


SCOPES_AT_ONCE = 8  # sources::SCOPES_AT_ONCE


def scope_bounds(z, registry):
    """One account-region's calls: its usage sources, and its registry when it is this account's."""
    c, s, t, f, r = z["clusters"], z["services"], z["tasks"], z["families"], z["revisions"]
    served = min(f, c * s)
    calls = {
        "ecs:ListClusters": 1, "ecs:ListServices": c * math.ceil(s / 100) if s else 0,
        "ecs:DescribeServices": c * math.ceil(s / 10), "ecs:DescribeServiceRevisions": c * math.ceil(s / 20),
        "ecs:ListTasks": c * (math.ceil(s * t / 100) + 1), "ecs:DescribeTasks": c * math.ceil(s * t / 100),
        "ecs:ListTaskDefinitions": max(1, math.ceil(f * r / 100)),
        "ecs:DescribeTaskDefinition": served * 2 + (f - served),
        "lambda:ListFunctions": 1, "events:ListEventBuses": 1, "events:ListRules": 1,
        "scheduler:ListSchedules": 1, "batch:DescribeJobDefinitions": 1, "batch:DescribeJobQueues": 1,
        "apprunner:ListServices": 1,
    }
    if registry:
        n = z["repositories"]
        calls.update({"ecr:DescribeRegistry": 1, "ecr:GetRegistryPolicy": 1,
                      "ecr:DescribeRepositories": max(1, math.ceil(n / 1000)),
                      "ecr:DescribeImages": n * math.ceil(z["images"] / 1000) if n else 0,
                      "ecr:GetLifecyclePolicy": n, "ecr:GetRepositoryPolicy": n})
    return calls


SERVICE = {"ListClusters": "ecs", "ListServices": "ecs", "DescribeServices": "ecs", "DescribeServiceRevisions": "ecs",
           "ListTasks": "ecs", "DescribeTasks": "ecs", "ListTaskDefinitions": "ecs", "DescribeTaskDefinition": "ecs",
           "ListTaskDefinitionFamilies": "ecs", "DescribeRegistry": "ecr", "DescribeRepositories": "ecr",
           "DescribeImages": "ecr", "GetLifecyclePolicy": "ecr", "BatchGetImage": "ecr",
           "GetRepositoryPolicy": "ecr", "GetRegistryPolicy": "ecr", "ListEventBuses": "events",
           "ListRules": "events", "ListTargetsByRule": "events", "ListSchedules": "scheduler",
           "GetSchedule": "scheduler", "DescribeJobDefinitions": "batch", "DescribeJobQueues": "batch",
           "ListJobs": "batch", "DescribeJobs": "batch", "apprunner:ListServices": "",
           "GetCallerIdentity": "sts", "AssumeRole": "sts"}


def op_name(op):
    service = SERVICE.get(op, "lambda")
    return op if not service else f"{service}:{op}"


def lambda_ops(stats):
    """The Lambda REST calls have no operation header; the harness counts them by path."""
    return stats


def run(harness, env, label):
    ask(harness, "reset-stats")
    start = time.monotonic()
    proc = subprocess.Popen([BINARY, "plan", "--output", "json"], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - start
    report = json.loads(out)
    stats = ask(harness, "stats")
    return {"label": label, "wall_s": round(wall, 2), "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
            "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
            "exit_status": os.waitstatus_to_exitcode(status), "summary": report["summary"],
            "scan_incomplete": report["scan_incomplete"], "errors": report["errors"][:5], "stats": stats}


def ask(harness, command):
    harness.stdin.write(command + "\n")
    harness.stdin.flush()
    return json.loads(harness.stdout.readline())


def main():
    print(f"seeding the standard fleet into the emulator (latency {LATENCY_MS} ms per request)...", flush=True)
    harness = subprocess.Popen(
        [str(ROOT / ".venv/bin/python"), str(ROOT / "tests/emulator/harness.py"), "generate:standard",
         "--latency-ms", str(LATENCY_MS)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    ready = json.loads(harness.stdout.readline())
    sizes = ready["tasks"]["sizes"]
    base = dict(os.environ, AWS_ENDPOINT_URL=ready["endpoint"], AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench",
                AWS_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true", RUST_LOG="error",
                SCAN_CONCURRENCY=str(CONCURRENCY), KEEP_RECENT="10")
    runs = [
        run(harness, dict(base, ECS_REQUESTS_PER_SECOND=str(ECS_RATE)), f"ECS at most {ECS_RATE}/s (default)"),
        run(harness, dict(base, ECS_REQUESTS_PER_SECOND="0"), "no ECS rate limit"),
    ]
    harness.stdin.write("quit\n")
    harness.stdin.flush()
    harness.wait()

    bounds = lower_bounds(sizes)
    first = runs[0]
    calls = {}
    for op, counts in first["stats"].items():
        name = op_name(op)
        calls[name] = counts
    rows = []
    total_calls = total_bound = 0
    for name in sorted(set(bounds) | set(calls)):
        made = calls.get(name, {"first_attempts": 0, "retries": 0})
        bound = bounds.get(name, 0)
        total_calls += made["first_attempts"] + made["retries"]
        total_bound += bound
        rows.append((name, made["first_attempts"], made["retries"], bound))

    ecs_calls = sum(made for name, made, _, _ in rows if name.startswith("ecs:"))
    latency = LATENCY_MS / 1000
    # Pages of one listing follow each other: the ListTaskDefinitions pages are the longest chain.
    chain = 2 + bounds["ecs:ListTaskDefinitions"] + 1 + 2
    latency_bound = max(total_bound / CONCURRENCY * latency, chain * latency)
    rate_bound = max(0.0, (ecs_calls - ECS_RATE) / ECS_RATE)

    print(f"\nfleet: {sizes['repositories']} repositories x {sizes['images']} images, {sizes['clusters']} clusters x "
          f"{sizes['services']} services x {sizes['tasks']} tasks, {sizes['families']} families x {sizes['revisions']} "
          f"revisions, {sizes['functions']} Lambda functions; latency {LATENCY_MS} ms; concurrency {CONCURRENCY}\n")
    print(f"{'operation':<34}{'calls':>8}{'retries':>9}{'bound':>8}{'ratio':>8}")
    for name, made, retries, bound in rows:
        ratio = f"{made / bound:.2f}" if bound else "-"
        print(f"{name:<34}{made:>8}{retries:>9}{bound:>8}{ratio:>8}")
    print(f"{'total':<34}{total_calls:>8}{'':>9}{total_bound:>8}{total_calls / total_bound:>8.2f}   (target <= 1.10)\n")
    for r in runs:
        bound = max(latency_bound, rate_bound) if "default" in r["label"] else latency_bound
        print(f"{r['label']:<28} wall {r['wall_s']:>6.2f} s   bound {bound:>6.2f} s   ratio {r['wall_s'] / bound:>5.2f} (target <= 1.5)"
              f"   peak RSS {r['peak_rss_mib']:>6.1f} MiB (target <= 64)   CPU {r['cpu_s']:.2f} s")
    print(f"  (bounds: latency {latency_bound:.2f} s = max({total_bound} calls / {CONCURRENCY} x {LATENCY_MS} ms, "
          f"{chain} chained calls x {LATENCY_MS} ms); ECS rate {rate_bound:.2f} s = ({ecs_calls} ECS calls - burst {ECS_RATE}) / {ECS_RATE} per s)")
    busy = {op: c["emulator_busy_s"] for op, c in runs[1]["stats"].items()}
    heavy = sorted(busy.items(), key=lambda kv: -kv[1])[:3]
    chain_busy = busy.get("ListTaskDefinitions", 0.0)
    print(f"  emulator service time (run without rate limit), excluding the injected latency: {sum(busy.values()):.2f} s in all; "
          + ", ".join(f"{op} {t:.2f} s" for op, t in heavy)
          + f". The {bounds['ecs:ListTaskDefinitions']} ListTaskDefinitions pages follow each other, so their "
          f"{chain_busy:.2f} s of emulator time lie on the critical path: bound with it "
          f"{latency_bound + chain_busy:.2f} s, ratio {runs[1]['wall_s'] / (latency_bound + chain_busy):.2f}")
    for r in runs:
        if r["scan_incomplete"]:
            print(f"WARNING: {r['label']}: scan incomplete: {r['errors']}")

    results = {"date": date.today().isoformat(), "machine": f"{platform.machine()} {os.cpu_count()} cores",
               "fleet": sizes, "latency_ms": LATENCY_MS, "concurrency": CONCURRENCY,
               "calls": [{"operation": n, "calls": m, "retries": rt, "lower_bound": b} for n, m, rt, b in rows],
               "total_calls": total_calls, "total_lower_bound": total_bound,
               "latency_bound_s": round(latency_bound, 2), "ecs_rate_bound_s": round(rate_bound, 2),
               "emulator_busy_s": busy,
               "runs": [{k: v for k, v in r.items() if k != "stats"} for r in runs]}
    results["organization"] = organization()
    (ROOT / "bench").mkdir(exist_ok=True)
    (ROOT / "bench/results.json").write_text(json.dumps(results, indent=2))
    print("\nwritten to bench/results.json")


def organization():
    """A central registry and an organization of members, each a small fleet in two regions: one
    run scans every account-region (8 at a time, each at its own ECS pace)."""
    print(f"\nseeding an organization into the emulator (latency {LATENCY_MS} ms per request)...", flush=True)
    harness = subprocess.Popen(
        [str(ROOT / ".venv/bin/python"), str(ROOT / "tests/emulator/harness.py"), "generate:organization",
         "--latency-ms", str(LATENCY_MS)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    ready = json.loads(harness.stdout.readline())
    org = ready["tasks"]["sizes"]
    members = [f"{200000000000 + m:012d}" for m in range(org["members"])]
    env = dict(os.environ, AWS_ENDPOINT_URL=ready["endpoint"], AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench",
               AWS_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true", RUST_LOG="error",
               SCAN_CONCURRENCY=str(CONCURRENCY), ACCOUNTS=",".join(members), REGIONS=",".join(org["regions"]))
    r = run(harness, env, "organization")
    harness.stdin.write("quit\n")
    harness.stdin.flush()
    harness.wait()

    regions = len(org["regions"])
    empty = dict(org["member"], clusters=0, services=0, tasks=0, families=0, repositories=0)
    bounds = {}
    parts = [(scope_bounds(org["member"], False), org["members"] * regions), (scope_bounds(org["home"], True), 1),
             (scope_bounds(empty, True), regions - 1)]
    for calls, times in parts:
        for op, n in calls.items():
            bounds[op] = bounds.get(op, 0) + n * times
    bounds["sts:GetCallerIdentity"] = 1
    bounds["sts:AssumeRole"] = org["members"] * regions
    made = {op_name(op): c["first_attempts"] for op, c in r["stats"].items()}
    total, bound = sum(made.values()), sum(bounds.values())
    scopes = (org["members"] + 1) * regions
    # Each scope's longest chain: AssumeRole, ListClusters, ListServices, DescribeServices,
    # DescribeServiceRevisions, then DescribeTaskDefinition once every source is in; scopes run
    # SCOPES_AT_ONCE at a time.
    chain = 6 * LATENCY_MS / 1000
    wall_bound = max(math.ceil(scopes / SCOPES_AT_ONCE) * chain, bound / (SCOPES_AT_ONCE * CONCURRENCY) * LATENCY_MS / 1000)
    per_scope = r["wall_s"] / scopes
    print(f"\norganization: {org['members']} member accounts + this one, x {regions} regions = {scopes} account-regions;"
          f" each member: {org['member']['clusters']} cluster x {org['member']['services']} services, "
          f"{org['member']['families']} families x {org['member']['revisions']} revisions; registry "
          f"{org['home']['repositories']} repositories x {org['home']['images']} images")
    print(f"{'operation':<34}{'calls':>8}{'bound':>8}")
    for op in sorted(set(made) | set(bounds)):
        print(f"{op:<34}{made.get(op, 0):>8}{bounds.get(op, 0):>8}")
    print(f"{'total':<34}{total:>8}{bound:>8}   ratio {total / bound:.2f} (target <= 1.10)")
    print(f"wall {r['wall_s']:.2f} s   bound {wall_bound:.2f} s   ratio {r['wall_s'] / wall_bound:.2f}   "
          f"peak RSS {r['peak_rss_mib']:.1f} MiB   CPU {r['cpu_s']:.2f} s   ({per_scope * 1000:.0f} ms per account-region)")
    # One 15-minute invocation: scopes run SCOPES_AT_ONCE at a time; a scope of this size at AWS's
    # latency (~60 ms a call) takes its chain of calls; a scope the size of the standard fleet is
    # held by its ECS rate (751 calls at 20/s).
    small = 6 * 0.060
    print(f"  one 15-minute invocation covers about {int(900 * SCOPES_AT_ONCE / small):,} account-regions of this size "
          f"({small:.2f} s each at 60 ms a call, {SCOPES_AT_ONCE} at once), or about "
          f"{int(900 * SCOPES_AT_ONCE / 37.5):,} the size of the standard fleet (37.5 s each at 20 ECS calls/s)")
    if r["scan_incomplete"]:
        print(f"WARNING: scan incomplete: {r['errors']}")
    return {"scopes": scopes, "calls": made, "lower_bounds": bounds, "total_calls": total, "total_lower_bound": bound,
            "wall_s": r["wall_s"], "wall_bound_s": round(wall_bound, 2), "peak_rss_mib": r["peak_rss_mib"],
            "cpu_s": r["cpu_s"], "ms_per_scope": round(per_scope * 1000)}


if __name__ == "__main__":
    main()
