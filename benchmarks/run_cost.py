"""What a guideline run costs and how fast it goes, against its lower bounds.

Runs ``--guideline=2017.01 --guideline=hybrid.2017.01`` against a reference cloud with a
pace profile (API latency, boot and delete times), serially and with ``-n 8``, and prints
for each: wall time, servers booted, API calls by service, peak memory of the controller and
the workers, resources left behind, failed tests; then the lower bounds and the ratios
boots / fewest boots and wall(-n 8) / max(critical path, serial wall / 8).

Fewest boots: one per test that booted a server of its own in the serial run (in the test or
a function-scoped fixture), plus one shared server per worker for the tests using a shared
one. Critical path: the serial run's longest test.

    .venv/bin/python benchmarks/run_cost.py [--api-latency 0.02] [--boot-delay 2] \
        [--delete-delay 0.5] [--workers 8] [--profile default] [--parallel-only] [PYTEST ARGS]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUIDELINES = ("2017.01", "hybrid.2017.01")
CLOUD_NAME = "bench"

# Loaded into the measured run with -p. Each process writes its peak RSS and the servers it
# booted, split by who asked: the test itself or a function-scoped fixture (a server of the
# test's own), or a module- or session-scoped fixture (a server shared by several tests).
PROBE = textwrap.dedent(
    """
    import json, os, resource
    from collections import Counter
    from pathlib import Path

    import pytest
    from pytest_interop.resources import ResourceLedger

    OUT = Path(os.environ["BENCH_OUT"])
    scopes = []  # the scopes of the fixtures being set up, innermost last
    current = {"nodeid": None}
    own, shared = Counter(), Counter()
    record_created = ResourceLedger.record_created

    def counting_record_created(self, record, resource_id, **detail):
        if record.kind == "server":
            scope, fixture = scopes[-1] if scopes else ("function", None)
            if scope == "function":
                own[current["nodeid"]] += 1
            else:
                shared[f"{scope} fixture {fixture}"] += 1
        return record_created(self, record, resource_id, **detail)

    ResourceLedger.record_created = counting_record_created

    @pytest.hookimpl(wrapper=True)
    def pytest_fixture_setup(fixturedef, request):
        scopes.append((fixturedef.scope, fixturedef.argname))
        try:
            return (yield)
        finally:
            scopes.pop()

    def pytest_collection_finish(session):
        if not hasattr(session.config, "workerinput"):
            fixtures = {item.nodeid: list(item.fixturenames) for item in session.items}
            (OUT / "collection.json").write_text(json.dumps(fixtures))

    def pytest_runtest_logstart(nodeid, location):
        current["nodeid"] = nodeid

    def pytest_sessionfinish(session):
        worker = getattr(session.config, "workerinput", {}).get("workerid", "controller")
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        (OUT / f"rss-{worker}.json").write_text(json.dumps(
            {"peak_rss_mb": rss, "own": own, "shared": shared}))
    """
)


def run_once(
    label: str,
    knobs: dict,
    profile: str,
    workers: int | None,
    extra: list[str],
    guidelines: tuple[str, ...] = GUIDELINES,
) -> dict:
    from pytest_interop.reference import ReferenceCloud

    cloud = ReferenceCloud(
        profile=profile, quotas={"instances": 200, "cores": 800, "ram": 2_000_000}, **knobs
    )
    cloud.start()
    try:
        with tempfile.TemporaryDirectory(prefix="interop-bench-") as tmp:
            out = Path(tmp)
            (out / "bench_probe.py").write_text(PROBE)
            (out / "clouds.yaml").write_text(cloud.clouds_yaml(CLOUD_NAME))
            report = out / "report.json"
            args = [
                sys.executable,
                "-m",
                "pytest",
                "-p",
                "bench_probe",
                "-p",
                "no:cacheprovider",
                "-q",
                "--no-header",
                f"--cloud={CLOUD_NAME}",
                f"--interop-report={report}",
                *(f"--guideline={g}" for g in guidelines),
            ]
            if workers:
                args += ["-n", str(workers)]
            args += extra
            # Python's default: compiled (and assertion-rewritten) modules are cached, so
            # each of the -n workers does not compile every module again.
            inherited = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
            env = {
                **inherited,
                "BENCH_OUT": str(out),
                "PYTHONPATH": os.pathsep.join(
                    filter(None, [str(out), os.environ.get("PYTHONPATH")])
                ),
                "OS_CLIENT_CONFIG_FILE": str(out / "clouds.yaml"),
            }
            before = cloud.counters()
            start = time.perf_counter()
            proc = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True)
            wall = time.perf_counter() - start
            after = cloud.counters()
            if not report.exists():
                raise SystemExit(
                    f"{label}: no report\n{proc.stdout[-3000:]}\n{proc.stderr[-2000:]}"
                )
            data = json.loads(report.read_text())
            # Under xdist the controller does not collect: the serial run's serves both.
            collected = out / "collection.json"
            collection = json.loads(collected.read_text()) if collected.exists() else None
            processes = {
                p.stem.removeprefix("rss-"): json.loads(p.read_text())
                for p in out.glob("rss-*.json")
            }
    finally:
        cloud.stop()

    calls: Counter[str] = Counter()
    for route, count in after["api_calls"].items():
        calls[route.split(" ", 1)[0]] += count - before["api_calls"].get(route, 0)
    live = {
        kind: sum(per_project.values())
        for kind, per_project in after.get("live", {}).items()
        if kind
        not in (
            "tokens",
            "networks",
            "subnets",
            "routers",
            "images",
            "security_groups",
            "security_group_rules",
            "subnetpools",
        )
    }
    durations = [o["duration"] for o in data["outcomes"]]
    return {
        "label": label,
        "exit": proc.returncode,
        "wall_s": wall,
        "tests": len(data["outcomes"]),
        "servers_booted": after["servers_booted"] - before["servers_booted"],
        "api_calls": dict(sorted(calls.items())),
        "rss": {name: process["peak_rss_mb"] for name, process in processes.items()},
        "own_boots": sum((Counter(p["own"]) for p in processes.values()), Counter()),
        "shared_boots": sum((Counter(p["shared"]) for p in processes.values()), Counter()),
        "left_behind": {k: v for k, v in live.items() if v},
        "collection": collection,
        "critical_path_s": max(durations, default=0.0),
        "verdict": [c["verdict"] for c in data["clouds"]],
        "failed": [
            f"{o['nodeid']}: {o['message'][:300]}"
            for o in data["outcomes"]
            if o["outcome"] in ("failed", "error")
        ],
    }


def print_run(result: dict) -> None:
    workers_rss = [v for k, v in result["rss"].items() if k != "controller"]
    print(
        f"\n[{result['label']}] exit {result['exit']}, {result['tests']} test outcomes, "
        f"verdicts {result['verdict']}"
    )
    print(f"  wall time            {result['wall_s']:.1f} s")
    print(f"  servers booted       {result['servers_booted']}")
    print(f"  API calls by service {result['api_calls']}")
    print(
        f"  peak memory          controller {result['rss'].get('controller', 0):.0f} MB"
        + (f", workers max {max(workers_rss):.0f} MB" if workers_rss else "")
    )
    print(f"  left behind          {result['left_behind'] or 'nothing'}")
    for failure in result["failed"]:
        print(f"  failed: {failure}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api-latency", type=float, default=0.02)
    parser.add_argument("--boot-delay", type=float, default=2.0)
    parser.add_argument("--delete-delay", type=float, default=0.5)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--profile", default="default")
    parser.add_argument(
        "--parallel-only",
        action="store_true",
        help="only the -n run, without the serial run and the ratios (for quick iteration)",
    )
    parser.epilog = "Other arguments go to both pytest runs (e.g. --dist worksteal)."
    options, extra = parser.parse_known_args()
    knobs = {
        "api_latency": options.api_latency,
        "boot_delay": options.boot_delay,
        "delete_delay": options.delete_delay,
    }
    print(
        f"pace profile: reference:{options.profile}, API latency {options.api_latency * 1000:.0f}"
        f" ms, boot {options.boot_delay:.1f} s, delete {options.delete_delay:.1f} s; "
        f"guidelines {' + '.join(GUIDELINES)}; bytecode cache on (PYTHONDONTWRITEBYTECODE unset)"
    )
    if options.parallel_only:
        print_run(run_once(f"-n {options.workers}", knobs, options.profile, options.workers, extra))
        return
    serial = run_once("serial", knobs, options.profile, None, extra)
    parallel = run_once(f"-n {options.workers}", knobs, options.profile, options.workers, extra)
    print_run(serial)
    print_run(parallel)

    # Fewest boots: one per test that booted a server of its own in the serial run, plus one
    # shared server per worker that runs a test using a shared one (module or session scope).
    own_tests = len(serial["own_boots"])
    shared_fixtures = {key.rsplit(" ", 1)[1] for key in serial["shared_boots"]}
    sharing_tests = sum(
        1 for names in serial["collection"].values() if shared_fixtures.intersection(names)
    )
    fewest_serial = own_tests + (1 if sharing_tests else 0)
    fewest_parallel = own_tests + min(options.workers, sharing_tests)
    critical = serial["critical_path_s"]
    bound = max(critical, serial["wall_s"] / options.workers)
    print("\nlower bounds")
    print(
        f"  fewest boots         {fewest_serial} serial, {fewest_parallel} with "
        f"-n {options.workers} ({own_tests} tests boot a server of their own; "
        f"{sharing_tests} use a shared one: one per worker)"
    )
    for result in (serial, parallel):
        shared = ", ".join(f"{k} {v}" for k, v in sorted(result["shared_boots"].items()))
        extra = sum(result["own_boots"].values()) - len(result["own_boots"])
        print(
            f"  [{result['label']}] boots by tests {sum(result['own_boots'].values())} "
            f"({extra} beyond one per test); shared: {shared or 'none'}"
        )
    print(f"  critical path        {critical:.1f} s (the longest single test)")
    print("ratios")
    serial_ratio = serial["servers_booted"] / max(fewest_serial, 1)
    parallel_ratio = parallel["servers_booted"] / max(fewest_parallel, 1)
    print(
        f"  boots / fewest boots       serial {serial_ratio:.2f}, "
        f"-n {options.workers} {parallel_ratio:.2f}"
    )
    print(
        f"  wall(-n {options.workers}) / lower bound  {parallel['wall_s'] / bound:.2f} "
        f"(bound {bound:.1f} s = max(critical path, serial wall / {options.workers}))"
    )


if __name__ == "__main__":
    main()
