"""Four reference clouds in four shards, as four processes, merged: the verdicts and outcomes of
one unsharded run; without one shard's report the merged verdict is incomplete and names it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_interop.cli import main

CLOUDS = ["reference", "reference:floating-ip", "reference:rhel", "reference-aws"]
GUIDELINE = "hybrid.2017.01"


def _pytest(cwd: Path, *extra: str) -> subprocess.Popen[str]:
    argv = [sys.executable, "-m", "pytest", f"--guideline={GUIDELINE}"]
    argv += [f"--cloud={c}" for c in CLOUDS]
    argv += ["-p", "no:cacheprovider", "-q", *extra]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    return subprocess.Popen(
        argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def _wait(process: subprocess.Popen[str]) -> tuple[int, str]:
    out, _ = process.communicate(timeout=900)
    return process.returncode, out


def _summary(report: dict) -> tuple[dict, dict]:
    verdicts = {c["name"]: c["verdict"] for c in report["clouds"]}
    outcomes = {o["nodeid"]: o["outcome"] for o in report["outcomes"]}
    return verdicts, outcomes


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    """One unsharded run and four shards, all five processes at once (serial inside)."""
    where = tmp_path_factory.mktemp("fleet")
    processes = {"whole": _pytest(where, "--interop-report=whole.json")}
    for index in range(1, 5):
        processes[f"shard{index}"] = _pytest(
            where, f"--interop-shard={index}/4", f"--interop-report=shard-{index}.json"
        )
    results = {name: _wait(p) for name, p in processes.items()}
    code, out = results["whole"]
    assert code in (0, 1), out[-3000:]
    for index in range(1, 5):
        code, out = results[f"shard{index}"]
        assert code == 6, out[-3000:]  # a shard alone is a partial run: incomplete
    return where


def test_merged_shards_equal_the_unsharded_run(runs, capsys):
    shards = [str(runs / f"shard-{i}.json") for i in range(1, 5)]
    code = main(["report", "merge", *shards, "-o", str(runs / "merged.json")])
    capsys.readouterr()
    assert code in (0, 1)  # floating-ip is not compliant with hybrid step 5, sharded or not
    merged = json.loads((runs / "merged.json").read_text())
    whole = json.loads((runs / "whole.json").read_text())
    assert _summary(merged) == _summary(whole)
    assert merged["selection"]["shards"]["missing"] == []
    assert not merged.get("partial")
    plans = {json.loads(Path(s).read_text())["selection"]["shard"]["plan"] for s in shards}
    assert len(plans) == 1


def test_a_missing_shard_leaves_the_merge_incomplete_naming_it(runs, capsys):
    shards = [str(runs / f"shard-{i}.json") for i in (1, 2, 4)]
    code = main(["report", "merge", *shards, "-o", str(runs / "three.json")])
    out = capsys.readouterr().out
    merged = json.loads((runs / "three.json").read_text())
    assert merged["selection"]["shards"]["missing"] == [3]
    assert "shard 3/4 (no report)" in merged["selection"]["narrowed_by"]
    assert {c["verdict"] for c in merged["clouds"]} & {"incomplete"}
    assert "shard 3/4" in out
    assert code == 6


def test_one_shard_alone_merges_to_an_incomplete_report_naming_the_others(runs, capsys):
    code = main(["report", "merge", str(runs / "shard-2.json"), "-o", str(runs / "one.json")])
    capsys.readouterr()
    merged = json.loads((runs / "one.json").read_text())
    assert code == 6 and merged["selection"]["shards"]["missing"] == [1, 3, 4]
