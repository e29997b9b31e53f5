"""Side by side with awslabs/ecr-cleanup-lambda (PEER_MAIN=path to its main.py; not part of this
repository): the same fleet, the same retention (keep the 100 newest tagged images per repository),
pruned for real by each tool on its own copy of the fleet. Reports wall time and calls, and what
each deleted that something was using (found by `ecr-warden check` afterwards)."""

import sys

from lib import ROOT, Emulator, fresh_cache, table, timed

RETENTION = dict(KEEP_RECENT="100", KEEP_PUSHED_WITHIN_DAYS="0", KEEP_PULLED_WITHIN_DAYS="0",
                 ROLLBACK_REVISIONS="0")


def in_use_deleted(binary, emulator):
    """The in-use images that are gone: what `check` reports missing."""
    env = emulator.env(CACHE_URI="off", **RETENTION)
    r = timed(emulator, [binary, "check", "--output", "json"], env, "check")
    return len((r["report"] or {}).get("missing", []))


def peer(binary, peer_main):
    print("\nseeding the comparison fleet twice (one copy for each tool)...", flush=True)
    ours, theirs = Emulator("generate:peer"), Emulator("generate:peer")
    cache = fresh_cache()
    prune = [binary, "prune", "--output", "json"]
    runs = [timed(ours, prune, ours.env(CACHE_URI=cache, DRY_RUN="false", **RETENTION), "ecr-warden, cold")]
    runs[0]["in_use_deleted"] = in_use_deleted(binary, ours)
    runs.append(timed(ours, prune, ours.env(CACHE_URI=cache, DRY_RUN="false", **RETENTION), "ecr-warden, warm"))
    python = str(ROOT / ".venv/bin/python")
    command = [python, peer_main, "-dryrun", "false", "-imagestokeep", "100", "-region", "us-east-1"]
    runs.append(timed(theirs, command, theirs.env(), "ecr-cleanup-lambda"))
    runs[2]["in_use_deleted"] = in_use_deleted(binary, theirs)
    sizes = ours.sizes
    ours.close()
    theirs.close()

    print(f"\ncomparison fleet: {sizes['repositories']} repositories x {sizes['images']} images, "
          f"{sizes['clusters'] * sizes['services']} services, {sizes['families']} families x {sizes['revisions']} "
          f"revisions, one service in ten pinned to a digest whose tag moved on\n")
    ops = sorted(set().union(*(r["calls"] for r in runs)))
    table(["operation"] + [r["label"] for r in runs], [[op] + [r["calls"].get(op, 0) for r in runs] for op in ops]
          + [["total"] + [r["total_calls"] for r in runs]])
    print()
    for r in runs:
        print(f"{r['label']:<20} wall {r['wall_s']:>6.2f} s   peak RSS {r['peak_rss_mib']:>5.1f} MiB   "
              f"CPU {r['cpu_s']:.2f} s   exit {r['exit_status']}"
              + (f"   in-use images deleted: {r['in_use_deleted']}" if "in_use_deleted" in r else ""))
    cold, warm, other = runs
    print(f"\necr-warden is {other['wall_s'] / cold['wall_s']:.1f}x faster cold (target >= 2) and "
          f"{other['wall_s'] / warm['wall_s']:.1f}x warm (target >= 5), with {cold['total_calls']} and "
          f"{warm['total_calls']} calls against {other['total_calls']} (target: no more)", file=sys.stdout)
    return [{k: r[k] for k in ("label", "wall_s", "peak_rss_mib", "cpu_s", "calls", "total_calls", "in_use_deleted")
             if k in r} for r in runs]
