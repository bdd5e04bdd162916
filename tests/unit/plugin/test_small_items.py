"""The smaller items of issue 17: each refused or handled with one clear line."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from .conftest import IDS, NODE

USAGE = pytest.ExitCode.USAGE_ERROR


def _error_line(result) -> str:
    assert result.ret == USAGE, result.stdout.str() + result.stderr.str()
    errors = [line for line in result.stderr.lines if line.startswith("ERROR: ")]
    assert len(errors) == 1, result.stderr.str()
    assert "Traceback" not in result.stderr.str()
    return errors[0]


def test_a_duplicate_idempotent_id_in_a_guideline_stops_the_run(synth):
    path = synth.path / "guidelines" / "2099.01.json"
    guideline = json.loads(path.read_text())
    tests = guideline["capabilities"]["cap-lock"]["tests"]
    tests[NODE + "test_lock"]["idempotent_id"] = IDS["create"]  # test_create's id
    path.write_text(json.dumps(guideline))
    result = synth.runpytest_subprocess("--guideline=2099.01", "--cloud=memory:ok")
    line = _error_line(result)
    assert IDS["create"] in line and "test_lock" in line and "test_create" in line
    assert "2099.01.json" in line
    assert not (synth.path / "interop-report.json").exists()


@pytest.mark.parametrize("kind", ["directory", "fifo"])
def test_a_guideline_path_that_is_not_a_file_says_what_it_is(synth, kind):
    path = synth.path / "odd.json"
    if kind == "directory":
        path.mkdir()
    else:
        os.mkfifo(path)
    result = synth.runpytest_subprocess(f"--guideline={path}", "--cloud=memory:ok")
    line = _error_line(result)
    assert f"{path} is a {'directory' if kind == 'directory' else 'FIFO'}" in line
    assert "not found" not in line


def test_control_characters_in_an_echoed_option_are_escaped(synth):
    result = synth.runpytest_subprocess(
        "--guideline=2099.01", "--cloud=memory:ok", "--target=\x1b[31mred\x07"
    )
    line = _error_line(result)
    assert "\x1b" not in result.stderr.str() and "\x07" not in result.stderr.str()
    assert "--target=\\x1b[31mred\\x07" in line


def test_an_unknown_variant_of_the_embedded_aws_endpoint_is_refused(synth):
    result = synth.runpytest_subprocess("--guideline=2099.01", "--cloud=reference-aws:x")
    line = _error_line(result)
    assert "--cloud=reference-aws:x" in line and "no variants" in line


def test_a_run_removes_key_directories_that_killed_runs_left(synth, tmp_path, monkeypatch):
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = tmp_path / f"interop-run-keys-{dead.pid}-abc123"
    alive = tmp_path / f"interop-keys-{os.getpid()}-def456"
    foreign = tmp_path / "interop-run-keys-notapid"
    for directory in (stale, alive, foreign):
        directory.mkdir()
        (directory / "id_key").write_text("private")
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    result = synth.runpytest_subprocess("--guideline=2099.01", "--cloud=memory:ok")
    assert result.ret == 0, result.stdout.str()
    assert not stale.exists()
    assert alive.exists() and foreign.exists()


def test_a_foreign_server_fixture_is_pytests_fixture_not_found_outside_a_run(pytester):
    pytester.makepyfile("def test_x(server):\n    pass\n")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["*fixture 'server' not found*"])
    assert "needs a cloud" not in result.stdout.str()
