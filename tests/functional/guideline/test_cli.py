"""The ``interop guideline`` commands, through ``pytest_interop.cli.main`` and once as a process."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_interop import shipped
from pytest_interop.cli import main
from pytest_interop.guideline.loading import available_guidelines
from tests.unit.guideline.helpers import FIXTURES, fixture_data, write_json, write_suite

SHIPPED = list(available_guidelines([shipped.GUIDELINES_DIR]))

ROOT = Path(__file__).resolve().parents[3]
CREATE_TEST = "tests/interop/compute/test_servers.py::test_server_create_is_active_and_reachable"


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project root with guidelines/ (ours, its predecessor, a DefCore add-on) and a suite."""
    write_suite(tmp_path)
    (tmp_path / "guidelines").mkdir()
    shutil.copy(FIXTURES / "ours.json", tmp_path / "guidelines" / "2099.01.json")
    shutil.copy(FIXTURES / "previous.json", tmp_path / "guidelines" / "2098.01.json")
    (tmp_path / "guidelines" / "add-ons").mkdir()
    shutil.copy(
        FIXTURES / "defcore-2.0-addon.json",
        tmp_path / "guidelines" / "add-ons" / "dns.2019.06.json",
    )
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(capsys, *argv):
    if argv[0] in ("lint", "coverage") and "--suite-dir" not in argv:
        argv = (*argv, "--suite-dir", "tests/interop")  # the project's own suite
    code = main(["guideline", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_list(project, capsys):
    code, out, _ = run(capsys, "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "STATUS", "DATE", "SCHEMA"]
    assert any(line.split()[:3] == ["2099.01", "draft", "2099.01"] for line in lines)
    code, out, _ = run(capsys, "list", "--format", "json")
    rows = {row["id"]: row for row in json.loads(out)}
    assert rows["dns.2019.06"]["add_on"] is True
    assert rows["2098.01"]["status"] == "approved"


def test_list_marks_broken_files(project, capsys):
    (project / "guidelines" / "broken.json").write_text("{")
    code, out, _ = run(capsys, "list", "--format", "json")
    rows = {row["id"]: row for row in json.loads(out)}
    assert code == 0 and rows["broken"]["status"] == "invalid"
    assert "broken.json:1:2: invalid JSON" in rows["broken"]["error"]


def test_validate_ok_and_errors(project, capsys):
    code, out, _ = run(capsys, "validate")
    # The project's three files and the ones the package ships.
    assert code == 0 and f"{3 + len(SHIPPED)} file(s) checked, 0 invalid" in out
    data = fixture_data("ours.json")
    data["capabilities"]["compute-servers-create"]["admin"] = "no"
    data["test_repositories"] = {}
    bad = write_json(project / "bad.json", data)
    (project / "syntax.json").write_text('{"a": }')
    code, out, _ = run(capsys, "validate", str(bad), "syntax.json", "2099.01")
    assert code == 1
    assert (
        f"{bad}: $.capabilities[\"compute-servers-create\"].admin: 'no' is not of type 'boolean'"
        in out
    )
    assert f"{bad}: $.test_repositories: 'pytest-interop' is a required property" in out
    assert "syntax.json: $: syntax.json:1:7: invalid JSON" in out
    assert "3 file(s) checked, 2 invalid" in out
    code, out, _ = run(capsys, "validate", str(bad), "--format", "json")
    assert (
        code == 1
        and json.loads(out)["files"][0]["errors"][0]["path"]
        == '$.capabilities["compute-servers-create"].admin'
    )


@pytest.mark.parametrize(
    "fixture",
    [
        "defcore-1.2.json",
        "defcore-1.6.json",
        "defcore-2.0.json",
        "defcore-2.0-addon.json",
        "ours.json",
    ],
)
def test_every_command_reads_every_schema(project, capsys, fixture):
    path = str(FIXTURES / fixture)
    for argv in (
        ["validate", path],
        ["show", path],
        ["tests", path],
        ["score", path],
        ["diff", path, path],
        ["coverage", path],
    ):
        code, out, err = run(capsys, *argv, "--format", "json")
        assert code == 0, (argv, err)
        json.loads(out)
    code, _, err = run(capsys, "lint", path, "--allow-untested")
    assert err == ""
    assert code in (0, 1)  # findings depend on the fixture; usage never fails


def test_show_by_target(project, capsys):
    code, out, _ = run(capsys, "show", "2099.01", "--target", "Small Compute")
    assert code == 0
    assert "target Small Compute: 2 capabilities" in out
    assert "compute-servers-create  [2 tests, 1 flagged]" in out
    assert "identity" not in out.split("targets:")[1].split("\n", 1)[1]


def test_unknown_target_is_a_usage_error(project, capsys):
    code, out, err = run(capsys, "show", "2099.01", "--target", "Big Platform")
    assert code == 2 and out == ""
    assert err.count("\n") == 1
    assert (
        "--target 'Big Platform' is not a platform, add-on or component of guideline 2099.01" in err
    )
    assert "Small Platform, Small Compute, compute, identity" in err


def test_tests_lists_must_pass(project, capsys):
    code, out, _ = run(capsys, "tests", "2099.01")
    assert code == 0
    assert out.splitlines() == [
        CREATE_TEST,
        "tests/interop/compute/test_servers.py::TestServerInvalid::test_bad_flavor_is_refused",
        "tests/interop/identity/test_tokens.py::test_token_create",
    ]
    _, out, _ = run(
        capsys, "tests", "2099.01", "--include-advisory", "--exclude-flagged", "--target", "compute"
    )
    assert out.splitlines() == [
        CREATE_TEST,
        "tests/interop/compute/test_servers.py::test_reboot_changes_boot_id",
    ]
    _, out, _ = run(capsys, "tests", str(FIXTURES / "defcore-1.6.json"), "--target", "object")
    assert out.splitlines() == [
        "tempest.api.object_storage.test_object_services.ObjectTest.test_create_object[id-5b4ce26f-3545-46c9-a2ba-5754358a4c62]",
        "tempest.api.identity.v3.test_tokens.TokensV3Test.test_create_token[id-6f8e4436-fc96-4282-8122-e41df57197a9]",
    ]


def test_diff(project, capsys):
    code, out, _ = run(capsys, "diff", "2098.01", "2099.01")
    assert code == 0
    assert "capabilities added (1):\n  + compute-servers-reboot" in out
    code, out, _ = run(capsys, "diff", "2098.01", "2099.01", "--format", "json")
    assert json.loads(out)["capabilities_added"] == ["compute-servers-reboot"]


def test_score(project, capsys):
    code, out, _ = run(capsys, "score", "2099.01", "compute-servers-reboot")
    assert code == 0
    assert (
        "compute-servers-reboot" in out and "BELOW CUTOFF" in out and "misses:   future, doc" in out
    )
    code, _, err = run(capsys, "score", "2099.01", "nope")
    assert code == 2 and "capability 'nope' is not defined in guideline 2099.01" in err


def test_coverage(project, capsys):
    code, out, _ = run(capsys, "coverage", "2099.01")
    assert code == 0 and "required: 2/2 capabilities" in out
    code, out, _ = run(capsys, "coverage", str(FIXTURES / "defcore-2.0.json"), "--format", "json")
    assert json.loads(out)["reports"][0]["matched_by"] == "capability name"


def test_lint_exit_codes(project, capsys):
    code, out, _ = run(capsys, "lint", "2099.01")
    assert code == 0 and "ok (0 errors, 0 warnings)" in out
    data = fixture_data("ours.json")
    data["capabilities"]["compute-servers-create"]["tests"][CREATE_TEST]["idempotent_id"] = (
        "88888888-8888-4888-8888-888888888888"
    )
    write_json(project / "guidelines" / "2099.01.json", data)
    code, out, _ = run(capsys, "lint", "2099.01")
    assert code == 1 and "[idempotent-id-mismatch]" in out and "FAILED (1 errors" in out
    code, out, _ = run(capsys, "lint", "2099.01", "--format", "json")
    report = json.loads(out)["reports"][0]
    assert code == 1 and report["findings"][0]["check"] == "idempotent-id-mismatch"


def test_lint_allow_untested(project, capsys):
    data = fixture_data("ours.json")
    data["capabilities"]["identity-tokens-create"]["tests"] = {}
    path = write_json(project / "untested.json", data)
    assert run(capsys, "lint", str(path))[0] == 1
    code, out, _ = run(capsys, "lint", str(path), "--allow-untested")
    assert code == 0 and "warning: [required-untested] identity-tokens-create" in out


def test_usage_errors_are_one_line_exit_2(project, capsys):
    cases = [
        (
            ["show", "2017.13"],
            "unknown guideline '2017.13': available ids are 2017.01, 2017.09, 2018.02, "
            "2018.11, 2019.06, 2019.11, 2020.06, 2098.01, 2099.01, dns.2019.06, dns.2020.06, "
            "hybrid.2017.01, hybrid.2020.06, next",
        ),
        (["show", "missing.json"], "guideline file missing.json not found"),
        (["lint", "2099.01", "--suite-dir", "nowhere"], "--suite-dir nowhere: not found"),
        (["list", "--guideline-dir", "nowhere"], "--guideline-dir nowhere: no such directory"),
    ]
    for argv, expected in cases:
        code, out, err = run(capsys, *argv)
        assert code == 2 and out == "", argv
        assert err.startswith("interop: error: ") and err.count("\n") == 1
        assert expected in err


def test_schema_invalid_guideline_is_a_usage_error(project, capsys):
    data = fixture_data("ours.json")
    del data["metadata"]["scoring"]
    write_json(project / "guidelines" / "2099.01.json", data)
    code, _, err = run(capsys, "show", "2099.01")
    assert code == 2
    assert (
        "does not match schema pytest-interop/1: $.metadata: 'scoring' is a required property"
        in err
    )


def test_repository_guidelines_validate_and_lint(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # the shipped guidelines and suite, from any directory
    code, out, _ = run(capsys, "validate")
    assert code == 0 and "0 invalid" in out
    code, out, _ = run(capsys, "lint", "--allow-untested", "--suite-dir", str(tmp_path))
    assert code == 0, out


def test_installed_command_runs_as_a_process(project):
    script = ROOT / ".venv" / "bin" / "interop"
    argv = [str(script)] if script.exists() else [sys.executable, "-m", "pytest_interop.cli"]
    # Until the package is installed (pip install -e .), the checkout must be importable.
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    done = subprocess.run(
        [*argv, "guideline", "lint", "2099.01", "--format", "json", "--suite-dir", "tests/interop"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["failed"] == 0
    done = subprocess.run(
        [*argv, "guideline", "show", "nope"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )
    assert done.returncode == 2 and "unknown guideline 'nope'" in done.stderr


def test_a_reader_that_stops_early_ends_the_command_quietly(project):
    """`interop guideline tests ID | head -3`: no BrokenPipeError traceback, SIGPIPE's status.

    The reader's end is closed before the command starts, so the first write fails every time
    (with a live `head` the command may win the race and fill the pipe buffer first)."""
    script = ROOT / ".venv" / "bin" / "interop"
    argv = [str(script)] if script.exists() else [sys.executable, "-m", "pytest_interop.cli"]
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            [*argv, "guideline", "tests", "2017.01"],
            cwd=project,
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
    finally:
        os.close(write_end)
    assert done.stderr == ""
    assert done.returncode == 141


def test_guideline_dir_option_replaces_the_local_default(project, capsys, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("shared")
    shutil.copy(FIXTURES / "defcore-2.0.json", elsewhere / "2018.02.json")
    code, out, _ = run(capsys, "list", "--guideline-dir", str(elsewhere), "--format", "json")
    listed = [row["id"] for row in json.loads(out)]
    # ./guidelines is left out, the shipped guidelines stay
    assert code == 0 and listed == ["2018.02", *(i for i in SHIPPED if i != "2018.02")]
    code, out, _ = run(
        capsys,
        "show",
        "2018.02",
        "--guideline-dir",
        str(elsewhere),
        "--guideline-dir",
        "guidelines",
    )
    assert code == 0 and out.startswith("guideline 2018.02 (schema 2.0)")
    code, _, err = run(capsys, "show", "2099.01", "--guideline-dir", str(elsewhere))
    assert code == 2 and f"searched {elsewhere}" in err


def test_coverage_check_fails_on_a_capability_without_a_suite_test(project, capsys):
    code, out, _ = run(capsys, "coverage", "2099.01", "--check")
    assert code == 0 and "uncovered: 0" in out
    data = fixture_data("ours.json")
    data["capabilities"]["compute-servers-create"]["tests"][CREATE_TEST]["idempotent_id"] = (
        "88888888-8888-4888-8888-888888888888"
    )
    write_json(project / "guidelines" / "2099.01.json", data)
    code, out, _ = run(capsys, "coverage", "2099.01", "--check")
    assert code == 1 and "uncovered: 1 (compute-servers-create)" in out
    code, out, _ = run(capsys, "coverage", "2099.01")  # without --check: a report only
    assert code == 0


def test_coverage_of_every_shipped_guideline_leaves_nothing_uncovered(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    code = main(["guideline", "coverage", "--check", "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and set(report["uncovered"]) == set(SHIPPED)
    assert not any(report["uncovered"].values())
