"""How a guideline run's cost grows with clouds in one process, and how even a shard plan is.

Part 1 runs one guideline against 1, 2, 4 and 8 paced reference clouds in one pytest process
(``-n 8``) and prints, for each count: wall time, servers booted, test outcomes, peak memory of
the controller and of the largest worker. Part 2 cuts the run over 4 clouds into N shards
(``--interop-shard I/N``, planned by the unsharded run's durations, or ``--cost-model
estimates``), runs each shard as its own process, one after another, and prints
each shard's cost by the model (the plan's estimate) and measured (wall time), and the balance
of both: the slowest shard over the mean (goal <= 1.15). The merged shards' verdicts are
compared with the unsharded run's.

    .venv/bin/python benchmarks/fleet_cost.py [--guideline hybrid.2017.01] [--clouds 1,2,4,8] \\
        [--workers 8] [--shards 4] [--shard-workers 2] [--boot-delay 2] [--api-latency 0.02]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from run_cost import PROBE  # noqa: E402  (the same probe: peak RSS and boots per process)

PROFILES = ("default", "floating-ip", "rhel", "devstack")


def start_clouds(count: int, knobs: dict) -> list:
    from pytest_interop.reference import ReferenceCloud

    clouds = []
    for index in range(count):
        cloud = ReferenceCloud(
            profile=PROFILES[index % len(PROFILES)],
            quotas={"instances": 200, "cores": 800, "ram": 2_000_000},
            **knobs,
        )
        cloud.start()
        clouds.append(cloud)
    return clouds


@contextlib.contextmanager
def paced_clouds(count: int, knobs: dict) -> Iterator[tuple[list, Path]]:
    """``count`` started clouds and a directory with their clouds.yaml and the probe; both
    gone afterwards."""
    clouds = start_clouds(count, knobs)
    try:
        with tempfile.TemporaryDirectory(prefix="interop-fleet-") as tmp:
            out = Path(tmp)
            (out / "bench_probe.py").write_text(PROBE)
            (out / "clouds.yaml").write_text(clouds_yaml(clouds))
            yield clouds, out
    finally:
        for cloud in clouds:
            cloud.stop()


def clouds_yaml(clouds: list) -> str:
    import yaml

    merged: dict = {"clouds": {}}
    for index, cloud in enumerate(clouds, 1):
        merged["clouds"].update(yaml.safe_load(cloud.clouds_yaml(f"fleet{index}"))["clouds"])
    return yaml.safe_dump(merged)


def run_pytest(out: Path, clouds: list, guideline: str, extra: list[str]) -> dict:
    report = out / f"report-{time.monotonic_ns()}.json"
    for stale in out.glob("rss-*.json"):
        stale.unlink()
    argv = [sys.executable, "-m", "pytest", "-p", "bench_probe", "-p", "no:cacheprovider"]
    argv += ["-q", "--no-header", f"--guideline={guideline}", f"--interop-report={report}"]
    argv += [f"--cloud=fleet{i}" for i in range(1, len(clouds) + 1)] + extra
    env = {
        **os.environ,
        "BENCH_OUT": str(out),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(out), os.environ.get("PYTHONPATH")])),
        "OS_CLIENT_CONFIG_FILE": str(out / "clouds.yaml"),
    }
    booted_before = sum(c.counters()["servers_booted"] for c in clouds)
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=out, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if not report.exists():
        raise SystemExit(f"no report:\n{done.stdout[-3000:]}\n{done.stderr[-2000:]}")
    data = json.loads(report.read_text())
    rss = {p.stem.removeprefix("rss-"): json.loads(p.read_text()) for p in out.glob("rss-*.json")}
    workers = [v["peak_rss_mb"] for k, v in rss.items() if k != "controller"]
    return {
        "exit": done.returncode,
        "wall_s": wall,
        "booted": sum(c.counters()["servers_booted"] for c in clouds) - booted_before,
        "outcomes": len(data["outcomes"]),
        "controller_mb": rss.get("controller", {}).get("peak_rss_mb", 0.0),
        "worker_mb": max(workers, default=0.0),
        "report": report,
        "data": data,
    }


def growth(args: argparse.Namespace, knobs: dict) -> None:
    print(f"Part 1: {args.guideline} on N paced reference clouds in one process, -n {args.workers}")
    print(
        f"{'clouds':>6} {'wall s':>8} {'booted':>7} {'tests':>6} {'ctrl MB':>8} {'worker MB':>10}"
    )
    for count in args.clouds:
        with paced_clouds(count, knobs) as (clouds, out):
            r = run_pytest(out, clouds, args.guideline, ["-n", str(args.workers)])
        print(
            f"{count:>6} {r['wall_s']:>8.1f} {r['booted']:>7} {r['outcomes']:>6} "
            f"{r['controller_mb']:>8.0f} {r['worker_mb']:>10.0f}   (exit {r['exit']})"
        )


def balance(args: argparse.Namespace, knobs: dict) -> None:
    count = 4
    print(
        f"\nPart 2: {args.guideline} on {count} clouds in {args.shards} shards, each shard a "
        f"process of its own (-n {args.shard_workers}), one after another; cost model: "
        f"{args.cost_model}"
    )
    with paced_clouds(count, knobs) as (clouds, out):
        workers = ["-n", str(args.shard_workers)]
        whole = run_pytest(out, clouds, args.guideline, workers)
        shards = []
        model_args = []
        if args.cost_model == "durations":  # as a fleet with last night's report would
            model_args = [f"--interop-shard-durations={whole['report']}"]
        for index in range(1, args.shards + 1):
            shard = f"--interop-shard={index}/{args.shards}"
            shards.append(run_pytest(out, clouds, args.guideline, [*workers, shard, *model_args]))
        merged = out / "merged.json"
        subprocess.run(
            [sys.executable, "-m", "pytest_interop.cli", "report", "merge"]
            + [str(s["report"]) for s in shards]
            + ["-o", str(merged)],
            capture_output=True,
            check=False,
        )
        merged_data = json.loads(merged.read_text())
    print(f"{'shard':>6} {'model s':>8} {'wall s':>8} {'tests':>6} {'booted':>7}")
    model, measured = [], []
    for index, shard in enumerate(shards, 1):
        estimate = shard["data"]["selection"]["shard"]["estimated_seconds"]
        model.append(estimate)
        measured.append(shard["wall_s"])
        print(
            f"{index:>6} {estimate:>8.1f} {shard['wall_s']:>8.1f} {shard['outcomes']:>6} "
            f"{shard['booted']:>7}"
        )

    def ratio(values: list[float]) -> float:
        return max(values) / (sum(values) / len(values))

    same = {c["name"]: c["verdict"] for c in merged_data["clouds"]} == {
        c["name"]: c["verdict"] for c in whole["data"]["clouds"]
    }
    print(f"balance (slowest / mean): model {ratio(model):.3f}, measured {ratio(measured):.3f}")
    print(
        f"unsharded: {whole['wall_s']:.1f} s, {whole['booted']} servers; sum of shards "
        f"{sum(measured):.1f} s, {sum(s['booted'] for s in shards)} servers; merged verdicts "
        f"{'equal' if same else 'DIFFER from'} the unsharded run's"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--guideline", default="hybrid.2017.01")
    parser.add_argument(
        "--clouds", default="1,2,4,8", type=lambda t: [int(x) for x in t.split(",")]
    )
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--shard-workers", type=int, default=2)
    parser.add_argument("--boot-delay", type=float, default=2.0)
    parser.add_argument("--api-latency", type=float, default=0.02)
    parser.add_argument("--skip-growth", action="store_true")
    parser.add_argument(
        "--cost-model",
        choices=("estimates", "durations"),
        default="durations",
        help="plan the shards by estimates, or by the unsharded run's report (default)",
    )
    args = parser.parse_args()
    knobs = {"api_latency": args.api_latency, "boot_delay": args.boot_delay}
    if not args.skip_growth:
        growth(args, knobs)
    balance(args, knobs)


if __name__ == "__main__":
    main()
