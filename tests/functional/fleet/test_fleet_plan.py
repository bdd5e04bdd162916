"""`interop fleet plan`: the workflow and manifests it writes pass the engines' own validators
(actionlint, kubernetes-validate), deploy/ holds exactly what it writes, and a shard job's script
runs the shard its index names and succeeds on every verdict of a run that ran."""

from __future__ import annotations

import json
import os
import shlex
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pytest_interop.cli import main

ROOT = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent
DEPLOYED = [
    ROOT / "deploy" / "github" / "interop-fleet.yml",
    ROOT / "deploy" / "kubernetes" / "interop-fleet.yaml",
]


def plan(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["fleet", "plan", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("path", DEPLOYED, ids=lambda p: p.parent.name)
def test_deploy_holds_what_the_command_writes(path, capsys):
    header = path.read_text().splitlines()[1]
    assert header.startswith("# written by: interop fleet plan ")
    argv = shlex.split(header.removeprefix("# written by: interop fleet plan "))
    code, out, _ = plan(capsys, *argv)
    assert code == 0
    assert out == path.read_text(), f"{path} is stale: run {header[2:]!r} > {path}"


def test_the_workflow_passes_actionlint(tmp_path, capsys):
    code, out, _ = plan(capsys, "--shards", "3", "--guideline", "2017.01", "--cloud", "reference")
    assert code == 0
    workflow = tmp_path / "interop.yml"
    workflow.write_text(out)
    for path in (workflow, DEPLOYED[0]):
        done = subprocess.run([BIN / "actionlint", str(path)], capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
    jobs = yaml.safe_load(out)["jobs"]
    assert list(jobs) == ["plan", "shard", "merge"]
    assert jobs["merge"]["if"] == "always()"  # a failed shard still gets a merged verdict


def test_the_manifests_pass_kubernetes_validate(tmp_path, capsys):
    code, out, _ = plan(capsys, "--shards", "4", "--guideline", "2017.01", "--format", "kubernetes")
    assert code == 0
    manifest = tmp_path / "interop.yaml"
    manifest.write_text(out)
    for path in (manifest, DEPLOYED[1]):
        done = subprocess.run(
            [BIN / "kubernetes-validate", "--strict", str(path)], capture_output=True, text=True
        )
        assert done.returncode == 0, done.stdout + done.stderr
    kinds = [d["kind"] for d in yaml.safe_load_all(out)]
    assert kinds == ["PersistentVolumeClaim", "Job", "Job"]
    shards = list(yaml.safe_load_all(out))[1]["spec"]
    assert (shards["completionMode"], shards["completions"]) == ("Indexed", 4)


def test_the_matrix_names_every_shard(capsys):
    code, out, _ = plan(capsys, "--shards", "3", "--guideline", "2017.01", "--format", "matrix")
    assert code == 0 and json.loads(out) == {"shard": ["1/3", "2/3", "3/3"]}


@pytest.mark.parametrize("verdict, job", [(0, 0), (1, 0), (6, 0), (7, 0), (4, 4), (3, 3)])
def test_a_pods_script_runs_the_shard_of_its_index(verdict, job, tmp_path, capsys):
    """JOB_COMPLETION_INDEX 2 of 4 runs shard 3/4; verdicts end the job well, errors fail it.
    pytest is replaced by a recorder: what a Kubernetes pod would start cannot run here."""
    _, out, _ = plan(capsys, "--shards", "4", "--guideline", "2017.01", "--format", "kubernetes")
    pod = list(yaml.safe_load_all(out))[1]["spec"]["template"]["spec"]["containers"][0]
    script = pod["command"][2].replace("pip install", ": pip install")  # nothing to install
    fake = tmp_path / "pytest"
    fake.write_text(f'#!/bin/sh\necho "$@" > {tmp_path}/argv\nexit {verdict}\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    env = {**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}", "JOB_COMPLETION_INDEX": "2"}
    done = subprocess.run(["/bin/sh", "-c", script], env=env, capture_output=True, text=True)
    assert done.returncode == job
    argv = (tmp_path / "argv").read_text().split()
    assert "--interop-shard=3/4" in argv and "--interop-report=/reports/shard-3.json" in argv


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--shards", "0", "--guideline", "2017.01"], "--shards 0"),
        (["--shards", "2"], "--guideline"),
        (["--shards", "2", "--guideline", "1999.01"], "unknown guideline '1999.01'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(argv, message, capsys):
    code, out, err = plan(capsys, *argv)
    assert code == 2 and out == ""
    assert message in err and len(err.strip().splitlines()) == 1
