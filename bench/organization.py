"""An organization in one run: a central registry and 20 member accounts, each a small fleet in two
regions; every account-region is scanned (8 at a time, each at its own ECS pace)."""

from lib import CONCURRENCY, LATENCY_MS, Emulator, ceil, fresh_cache, latency_bound, table, timed

SCOPES_AT_ONCE = 8  # sources::SCOPES_AT_ONCE


def scope_bounds(z, registry):
    """One account-region's calls: its usage sources, and its registry when it is this account's."""
    c, s, t, f, r = z["clusters"], z["services"], z["tasks"], z["families"], z["revisions"]
    served = min(f, c * s)
    calls = {
        "ecs:ListClusters": 1, "ecs:ListServices": c * ceil(s, 100),
        "ecs:DescribeServices": c * ceil(s, 10), "ecs:DescribeServiceRevisions": c * ceil(s, 20),
        "ecs:ListTasks": c * (ceil(s * t, 100) + 1), "ecs:DescribeTasks": c * ceil(s * t, 100),
        "ecs:ListTaskDefinitions": max(1, ceil(f * r, 100)),
        "ecs:DescribeTaskDefinition": served * 2 + (f - served),
        "lambda:ListFunctions": 1, "events:ListEventBuses": 1, "events:ListRules": 1,
        "scheduler:ListSchedules": 1, "batch:DescribeJobDefinitions": 1, "batch:DescribeJobQueues": 1,
        "apprunner:ListServices": 1,
    }
    if registry:
        n = z["repositories"]
        calls.update({"ecr:DescribeRegistry": 1, "ecr:GetRegistryPolicy": 1,
                      "ecr:DescribeRepositories": max(1, ceil(n, 1000)),
                      "ecr:DescribeImages": n * ceil(z["images"], 1000),
                      "ecr:GetLifecyclePolicy": n, "ecr:GetRepositoryPolicy": n})
    return calls


def organization(binary):
    print(f"\nseeding an organization into the emulator ({LATENCY_MS} ms per request)...", flush=True)
    emulator = Emulator("generate:organization")
    org = emulator.sizes
    members = [f"{200000000000 + m:012d}" for m in range(org["members"])]
    env = emulator.env(ACCOUNTS=",".join(members), REGIONS=",".join(org["regions"]), CACHE_URI=fresh_cache())
    r = timed(emulator, [binary, "plan", "--output", "json"], env, "organization")
    emulator.close()

    regions = len(org["regions"])
    empty = dict(org["member"], clusters=0, services=0, tasks=0, families=0, repositories=0)
    bounds = {"sts:GetCallerIdentity": 1, "sts:AssumeRole": org["members"] * regions}
    parts = [(scope_bounds(org["member"], False), org["members"] * regions), (scope_bounds(org["home"], True), 1),
             (scope_bounds(empty, True), regions - 1)]
    for calls, times in parts:
        for op, n in calls.items():
            bounds[op] = bounds.get(op, 0) + n * times
    scopes = (org["members"] + 1) * regions
    # Each scope's longest chain: AssumeRole, ListClusters, ListServices, DescribeServices,
    # DescribeServiceRevisions, then DescribeTaskDefinition; scopes run SCOPES_AT_ONCE at a time.
    bound = max(ceil(scopes, SCOPES_AT_ONCE) * 6 * LATENCY_MS / 1000,
                latency_bound(sum(bounds.values()) / SCOPES_AT_ONCE))
    print(f"\norganization: {org['members']} member accounts + this one, x {regions} regions = {scopes} "
          f"account-regions; each member: {org['member']['clusters']} cluster x {org['member']['services']} "
          f"services, {org['member']['families']} families x {org['member']['revisions']} revisions; registry "
          f"{org['home']['repositories']} repositories x {org['home']['images']} images\n")
    ops = sorted(set(r["calls"]) | set(bounds))
    table(["operation", "calls", "bound"], [[op, r["calls"].get(op, 0), bounds.get(op, 0)] for op in ops]
          + [["total", r["total_calls"], sum(bounds.values())]])
    print(f"\nwall {r['wall_s']:.2f} s   bound {bound:.2f} s   ratio {r['wall_s'] / bound:.2f}   peak RSS "
          f"{r['peak_rss_mib']:.1f} MiB   CPU {r['cpu_s']:.2f} s   ({r['wall_s'] / scopes * 1000:.0f} ms per account-region)")
    # One 15-minute invocation: a small account-region is a chain of about 6 calls (~60 ms each in
    # AWS); one the size of the standard fleet is held by its ECS rate.
    small = 6 * 0.060
    print(f"one 15-minute invocation covers about {int(900 * SCOPES_AT_ONCE / small):,} account-regions of this "
          f"size ({small:.2f} s each, {SCOPES_AT_ONCE} at once), or about {int(900 * SCOPES_AT_ONCE / 30):,} the "
          f"size of the standard fleet on a cold run (~30 s each at 20 ECS calls/s per category)")
    report = r["report"] or {}
    if report.get("scan_incomplete"):
        print(f"WARNING: scan incomplete: {report.get('errors', [])[:3]}")
    return {"scopes": scopes, "calls": r["calls"], "lower_bounds": bounds, "total_calls": r["total_calls"],
            "wall_s": r["wall_s"], "wall_bound_s": round(bound, 2), "peak_rss_mib": r["peak_rss_mib"],
            "cpu_s": r["cpu_s"]}
