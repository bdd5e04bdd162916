"""What the plugin itself costs: a synthetic guideline of 2,000 capabilities and 20,000
no-op tests, run with the plugin (one in-memory cloud) and with plain pytest on the same
tests. Prints collection, selection, run and report times, peak memory and the ratios, and
the time to load and validate every file in guidelines/.

    .venv/bin/python benchmarks/plugin_overhead.py [--capabilities 2000] [--tests 20000] \
        [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MEMORY_CLOUD = ROOT / "tests" / "unit" / "plugin" / "memory_cloud.py"

# Runs pytest in a child process, timing the phases with hook wrappers, and prints JSON.
CHILD = textwrap.dedent(
    """
    import json, resource, sys, time
    import pytest

    class PhaseTimer:
        def __init__(self):
            self.marks = {"start": time.perf_counter()}

        @pytest.hookimpl(wrapper=True)
        def pytest_collection(self, session):
            self.marks["collect_start"] = time.perf_counter()
            try:
                return (yield)
            finally:
                self.marks["collect_end"] = time.perf_counter()

        @pytest.hookimpl(wrapper=True)
        def pytest_collection_modifyitems(self, session, config, items):
            start = time.perf_counter()
            try:
                return (yield)
            finally:
                self.marks["select"] = time.perf_counter() - start

        @pytest.hookimpl(wrapper=True)
        def pytest_sessionfinish(self, session, exitstatus):
            start = time.perf_counter()
            try:
                return (yield)
            finally:
                self.marks["finish"] = time.perf_counter() - start
                self.marks["end"] = time.perf_counter()

    timer = PhaseTimer()
    code = pytest.main(sys.argv[1:], plugins=[timer])
    m = timer.marks
    print("BENCH " + json.dumps({
        "exit": int(code),
        "collection_s": m["collect_end"] - m["collect_start"] - m.get("select", 0.0),
        "selection_s": m.get("select", 0.0),
        "run_s": m["end"] - m["collect_end"] - m["finish"],
        "finish_s": m["finish"],
        "total_s": m["end"] - m["start"],
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))
    """
)


def make_tree(directory: Path, capabilities: int, tests: int) -> None:
    per_capability = max(1, tests // capabilities)
    suite = directory / "tests" / "interop"
    suite.mkdir(parents=True)
    (directory / "guidelines").mkdir()
    (directory / "memory_cloud.py").write_text(MEMORY_CLOUD.read_text())
    (directory / "conftest.py").write_text(
        textwrap.dedent(
            """
            import os
            import pytest

            if os.environ.get("BENCH_PLAIN"):
                # Plain pytest: the same items, the cloud parameter supplied here.
                @pytest.fixture(scope="session", params=["memory:ok"], ids=["memory:ok"])
                def cloud(request):
                    return request.param

                # The marker the plugin registers; unregistered, every test would add a
                # PytestUnknownMarkWarning that only the plain run pays for.
                def pytest_configure(config):
                    config.addinivalue_line("markers", "idempotent_id(uuid): stable test id")
            """
        )
    )
    guideline_caps: dict[str, dict] = {}
    names: list[str] = []
    files = 100
    per_file = tests // files
    for file_index in range(files):
        lines = ["import pytest", ""]
        for test_index in range(per_file):
            number = file_index * per_file + test_index
            test_id = str(uuid.UUID(int=number + 1, version=4))
            lines += [
                f'@pytest.mark.idempotent_id("{test_id}")',
                f"def test_{number}(cloud):",
                "    pass",
                "",
            ]
            capability = f"cap-{number // per_capability}"
            node = f"tests/interop/test_bench_{file_index}.py::test_{number}"
            guideline_caps.setdefault(capability, {})[node] = {"idempotent_id": test_id}
        (suite / f"test_bench_{file_index}.py").write_text("\n".join(lines))
    names = list(guideline_caps)
    document = {
        "metadata": {
            "id": "bench.01",
            "schema": "2.0",
            "interop_schema": "pytest-interop/1",
            "source": "benchmark",
            "scoring": {
                "cutoff_score": 10,
                "criteria": {"deployed": {"name": "D", "description": "d", "weight": 100}},
            },
            "os_trademark_approval": {
                "target_approval": "2099.01",
                "replaces": "2098.01",
                "releases": [],
                "status": "draft",
            },
        },
        "platforms": {"Bench": {"description": "all", "components": [{"name": "compute"}]}},
        "components": {
            "compute": {
                "capabilities": {
                    "required": names[: len(names) // 2],
                    "advisory": names[len(names) // 2 :],
                    "deprecated": [],
                    "removed": [],
                }
            }
        },
        "capabilities": {
            name: {
                "achievements": ["deployed"],
                "admin": False,
                "description": "benchmark capability",
                "project": "bench",
                "required_since": "2098.01",
                "tests": tests_of,
            }
            for name, tests_of in guideline_caps.items()
        },
        "test_repositories": {
            "pytest-interop": {"repository": "https://example.invalid", "versions": ">=0.1"}
        },
    }
    (directory / "guidelines" / "bench.01.json").write_text(json.dumps(document))
    (directory / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider -q\n")


def run_child(directory: Path, args: list[str], env_extra: dict[str, str]) -> dict:
    import os

    env = {**os.environ, **env_extra, "PYTHONPATH": str(directory)}
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, *args],
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    for line in proc.stdout.splitlines():
        if line.startswith("BENCH "):
            return json.loads(line[len("BENCH ") :])
    raise SystemExit(f"benchmark child failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")


def median_of(runs: list[dict]) -> dict:
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def guideline_load_time() -> tuple[int, float]:
    from pytest_interop.guideline.loading import available_guidelines, load_guideline

    start = time.perf_counter()
    paths = available_guidelines([ROOT / "pytest_interop" / "guidelines"])
    for path in paths.values():
        load_guideline(path)
    return len(paths), time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--capabilities", type=int, default=2000)
    parser.add_argument("--tests", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each side (median kept)")
    options = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="interop-bench-") as tmp:
        directory = Path(tmp)
        make_tree(directory, options.capabilities, options.tests)
        plains, plugins = [], []
        # Alternated, and the median of each figure kept: a shared machine's noise hits
        # both sides alike and no single slow run decides the ratio.
        for _ in range(options.repeat):
            plains.append(run_child(directory, ["-p", "no:interop", "tests"], {"BENCH_PLAIN": "1"}))
            plugins.append(
                run_child(
                    directory,
                    ["-p", "memory_cloud", "--guideline=bench.01", "--cloud=memory:ok", "tests"],
                    {},
                )
            )
        exits = {run["exit"] for run in plains + plugins}
        if exits != {0}:
            raise SystemExit(f"unexpected exit codes: {sorted(exits)}")
        plain, plugin = median_of(plains), median_of(plugins)
        pairs = [b["total_s"] / a["total_s"] for a, b in zip(plains, plugins, strict=True)]

    count, load_s = guideline_load_time()
    print(
        f"synthetic guideline: {options.capabilities} capabilities, {options.tests} tests; "
        f"median of {options.repeat} alternated runs each"
    )
    print(f"{'phase':<22}{'plain pytest':>14}{'with plugin':>14}{'ratio':>8}")
    for key, label in (
        ("collection_s", "collection (s)"),
        ("selection_s", "selection (s)"),
        ("run_s", "run (s)"),
        ("finish_s", "finish+report (s)"),
        ("total_s", "total (s)"),
        ("peak_rss_mb", "peak memory (MB)"),
    ):
        ratio = plugin[key] / plain[key] if plain[key] > 0.0005 else float("nan")
        print(f"{label:<22}{plain[key]:>14.3f}{plugin[key]:>14.3f}{ratio:>8.2f}")
    print(f"overhead ratio (total): {plugin['total_s'] / plain['total_s']:.3f}")
    print(f"each pair's total ratio: {', '.join(f'{r:.2f}' for r in pairs)}")
    print(f"load + validate {count} files in guidelines/: {load_s * 1000:.1f} ms")


if __name__ == "__main__":
    main()
