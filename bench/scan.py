"""`make bench`: the API calls, wall time and memory of `ecr-warden plan` against the local AWS
emulator answering every request after 20 ms, on four fleets:

- standard: a cold run (empty cache), a warm run (the cache the cold run wrote, nothing changed),
  and a cold run without the ECS rate;
- large: 2,000 families x 30 revisions, 1,000 services, one in ten stuck on its first revision;
- organization: 20 member accounts and the registry account in 2 regions;
- peer (only with PEER_MAIN=path/to/awslabs/ecr-cleanup-lambda/main.py): the same fleet pruned by
  that tool, side by side, and what it deleted that was in use.

Calls are printed next to the lower bound the fleet's size and each call's page or batch limit
allow, wall times next to the bound set by latency, concurrency and the ECS rate per throttling
category. Writes the same as JSON to bench/results.json. Figures, not tests.
"""

import json
import os
import platform
import sys
from datetime import date

from lib import (CONCURRENCY, ECS_RATE, LATENCY_MS, ROOT, Emulator, ceil, ecs_rate_bound, fresh_cache,
                 latency_bound, table, timed)
from peer import peer
from organization import organization

BINARY = sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "target/release/ecr-warden")


def plan(emulator, label, **env):
    return timed(emulator, [BINARY, "plan", "--output", "json"], emulator.env(**env), label)


def lower_bounds(z, needed, warm=False):
    """The fewest calls a full scan of a generated fleet can make; warm: with every immutable answer
    cached."""
    c, s, t, f, r = z["clusters"], z["services"], z["tasks"], z["families"], z["revisions"]
    n = z["repositories"]
    return {
        "ecs:ListClusters": ceil(c, 100), "ecs:ListServices": c * ceil(s, 100),
        "ecs:DescribeServices": c * ceil(s, 10), "ecs:DescribeServiceRevisions": c * ceil(s, 20),
        # RUNNING tasks, and one (empty) page of recently STOPPED tasks per cluster.
        "ecs:ListTasks": c * (ceil(s * t, 100) + 1), "ecs:DescribeTasks": c * ceil(s * t, 100),
        "ecs:ListTaskDefinitions": ceil(f * r, 100),
        "ecs:DescribeTaskDefinition": 0 if warm else needed,
        "ecr:DescribeRegistry": 1, "ecr:GetRegistryPolicy": 1, "ecr:DescribeRepositories": ceil(n, 1000),
        "ecr:DescribeImages": n * ceil(z["images"], 1000), "ecr:GetLifecyclePolicy": n, "ecr:GetRepositoryPolicy": n,
        # $LATEST of each function (no published versions in these fleets).
        "lambda:ListFunctions": max(1, ceil(z["functions"], 50)), "lambda:ListVersionsByFunction": z["functions"],
        "lambda:ListAliases": z["functions"], "lambda:GetFunction": z["functions"],
        # One event bus without rules, no schedules, job definitions, queues or App Runner services.
        "events:ListEventBuses": 1, "events:ListRules": 1, "scheduler:ListSchedules": 1,
        "batch:DescribeJobDefinitions": 1, "batch:DescribeJobQueues": 1, "apprunner:ListServices": 1,
        "sts:GetCallerIdentity": 1,
    }


def wall_bound(run, bounds, rate=True):
    """The latency bound (the ListTaskDefinitions pages follow each other), and the ECS rate's."""
    chain = 2 + bounds["ecs:ListTaskDefinitions"] + 1 + 2
    latency = latency_bound(sum(bounds.values()), chain)
    return max(latency, ecs_rate_bound(run["calls"])) if rate else latency


def compare(name, emulator, runs, bounds_by_run):
    z = emulator.sizes
    print(f"\n{name}: {z['repositories']} repositories x {z['images']} images, {z['clusters']} clusters x "
          f"{z['services']} services x {z['tasks']} tasks, {z['families']} families x {z['revisions']} revisions, "
          f"{z['functions']} Lambda functions; {LATENCY_MS} ms per request, {CONCURRENCY} calls in flight, "
          f"ECS {ECS_RATE}/s per category\n")
    ops = sorted(set().union(*(r["calls"] for r in runs), *(b for b in bounds_by_run)))
    columns = ["operation"] + [c for r, b in zip(runs, bounds_by_run) for c in (r["label"], "bound")]
    rows = [[op] + [v for r, b in zip(runs, bounds_by_run) for v in (r["calls"].get(op, 0), b.get(op, 0))]
            for op in ops]
    rows.append(["total"] + [v for r, b in zip(runs, bounds_by_run) for v in (r["total_calls"], sum(b.values()))])
    table(columns, rows)
    print()
    for r, b in zip(runs, bounds_by_run):
        bound = wall_bound(r, b, rate="no ECS rate" not in r["label"])
        r["wall_bound_s"] = round(bound, 2)
        print(f"{r['label']:<24} wall {r['wall_s']:>7.2f} s   bound {bound:>7.2f} s   ratio {r['wall_s'] / bound:>5.2f}"
              f"   calls {r['total_calls']} (bound {sum(b.values())}, retries {r['retries']})"
              f"   peak RSS {r['peak_rss_mib']:>5.1f} MiB   CPU {r['cpu_s']:.2f} s")
        chain = r["emulator_busy_s"].get("ecs:ListTaskDefinitions", 0.0)
        if chain > 1:
            pages = r["calls"].get("ecs:ListTaskDefinitions", 0)
            with_chain = max(bound, pages * LATENCY_MS / 1000 + chain)
            print(f"  the emulator spent {chain:.1f} s answering the {pages} "
                  f"ListTaskDefinitions pages, which follow each other: bound with that {with_chain:.2f} s, "
                  f"ratio {r['wall_s'] / with_chain:.2f}")
        report = r["report"] or {}
        if report.get("scan_incomplete"):
            print(f"  WARNING: scan incomplete: {report.get('errors', [])[:3]}")


def standard():
    emulator = Emulator("generate:standard")
    needed = emulator.generated["needed_describes"]
    cache = fresh_cache()
    runs = [plan(emulator, "cold", CACHE_URI=cache, KEEP_RECENT="10"),
            plan(emulator, "warm", CACHE_URI=cache, KEEP_RECENT="10"),
            plan(emulator, "cold, no ECS rate", CACHE_URI="off", KEEP_RECENT="10", ECS_REQUESTS_PER_SECOND="0")]
    sizes = emulator.sizes
    emulator.close()
    bounds = [lower_bounds(sizes, needed), lower_bounds(sizes, needed, warm=True), lower_bounds(sizes, needed)]
    compare("standard fleet", emulator, runs, bounds)
    return {"fleet": sizes, "runs": summarize(runs)}


def large():
    print("\nseeding the large account (60,000 task-definition revisions)...", flush=True)
    emulator = Emulator("generate:large")
    needed = emulator.generated["needed_describes"]
    cache = fresh_cache()
    runs = [plan(emulator, "cold", CACHE_URI=cache), plan(emulator, "warm", CACHE_URI=cache)]
    sizes = emulator.sizes
    emulator.close()
    bounds = [lower_bounds(sizes, needed), lower_bounds(sizes, needed, warm=True)]
    compare("large account (one service in ten on its family's first revision)", emulator, runs, bounds)
    return {"fleet": sizes, "runs": summarize(runs)}


def summarize(runs):
    keep = ("label", "wall_s", "wall_bound_s", "peak_rss_mib", "cpu_s", "exit_status", "calls", "total_calls", "retries")
    return [{k: r[k] for k in keep if k in r} for r in runs]


def main():
    results = {"date": date.today().isoformat(), "machine": f"{platform.machine()} {os.cpu_count()} cores",
               "latency_ms": LATENCY_MS, "concurrency": CONCURRENCY, "ecs_rate_per_category": ECS_RATE}
    print(f"seeding the standard fleet into the emulator ({LATENCY_MS} ms per request)...", flush=True)
    results["standard"] = standard()
    results["large"] = large()
    results["organization"] = organization(BINARY)
    if os.environ.get("PEER_MAIN"):
        results["peer"] = peer(BINARY, os.environ["PEER_MAIN"])
    else:
        print("\n(set PEER_MAIN=path/to/ecr-cleanup-lambda/main.py to compare with that tool side by side)")
    (ROOT / "bench/results.json").write_text(json.dumps(results, indent=2))
    print("\nwritten to bench/results.json")


if __name__ == "__main__":
    main()
