"""A guideline run end to end through pytester: selection, clouds, verdicts, report, exit."""

from __future__ import annotations

import pytest

from pytest_interop.report.json_report import validate_report

from .conftest import IDS, NODE, load_report


def capability_results(report: dict, cloud: str) -> dict[str, str]:
    (entry,) = [c for c in report["clouds"] if c["name"] == cloud]
    return {c["name"]: c["result"] for c in entry["capabilities"]}


def test_compliant_cloud_exits_zero_and_writes_a_valid_report(synth):
    result = synth.runpytest("--guideline=2099.01", "--cloud=memory:ok")
    assert result.ret == 0, result.stdout.str()
    report = load_report(synth)
    assert validate_report(report) == []
    assert capability_results(report, "memory:ok") == {
        "cap-create": "passed",
        "cap-renamed": "passed",
        "cap-advisory": "failed",
        "cap-missing": "missing",
        "cap-lock": "passed",
        "cap-infra": "passed",
    }
    (cloud,) = report["clouds"]
    assert cloud["verdict"] == "compliant"
    assert cloud["required"] == {"passed": 3, "total": 3}
    assert cloud["advisory"] == {"passed": 1, "total": 3}
    assert report["target"] == "Synthetic Platform"
    assert report["guidelines"][0]["id"] == "2099.01"
    assert len(report["guidelines"][0]["sha256"]) == 64
    assert report["selection"]["missing"] == [NODE + "test_gone"]
    assert report["selection"]["renamed"] == {NODE + "test_old_name": NODE + "test_new_name"}
    result.stdout.fnmatch_lines(["*interop compliance*", "memory:ok: COMPLIANT*required 3/3*"])


def test_selection_keeps_the_targets_tests_once_per_cloud(synth):
    result = synth.runpytest(
        "--guideline=2099.01", "--cloud=memory:ok", "--cloud=memory:nolock", "-v"
    )
    out = result.stdout.str()
    assert "test_create[memory:ok] PASSED" in out
    assert "test_create[memory:nolock] PASSED" in out
    assert "test_removed" not in out  # a removed capability does not run
    assert "test_not_in_any_guideline" not in out
    result.assert_outcomes(passed=7, failed=4, skipped=1, deselected=3)


def test_not_applicable_required_capability_makes_a_cloud_not_compliant(synth):
    result = synth.runpytest("--guideline=2099.01", "--cloud=memory:ok", "--cloud=memory:nolock")
    assert result.ret == 1
    report = load_report(synth)
    verdicts = {c["name"]: c["verdict"] for c in report["clouds"]}
    assert verdicts == {"memory:ok": "compliant", "memory:nolock": "not compliant"}
    assert capability_results(report, "memory:nolock")["cap-lock"] == "not_applicable"
    (outcome,) = [o for o in report["outcomes"] if o["nodeid"] == NODE + "test_lock[memory:nolock]"]
    assert outcome["outcome"] == "not_applicable"
    assert "has no server lock" in outcome["message"]
    result.stdout.fnmatch_lines(["memory:nolock: NOT COMPLIANT*", "*NOT_APPLICABLE*cap-lock*"])


def test_outcomes_carry_idempotent_id_cloud_and_findings(synth):
    synth.runpytest("--guideline=2099.01", "--cloud=memory:ok")
    report = load_report(synth)
    (outcome,) = [o for o in report["outcomes"] if o["nodeid"] == NODE + "test_create[memory:ok]"]
    assert outcome["idempotent_id"] == IDS["create"]
    assert outcome["cloud"] == "memory:ok"
    assert outcome["findings"] == {"server_status": "ACTIVE"}


def test_flagged_test_runs_and_is_reported_but_does_not_count(synth):
    synth.runpytest("--guideline=2099.01", "--cloud=memory:ok")
    report = load_report(synth)
    (create,) = [c for c in report["clouds"][0]["capabilities"] if c["name"] == "cap-create"]
    flagged = [t for t in create["tests"] if t["flagged"]]
    assert [t["result"] for t in flagged] == ["failed"]
    assert flagged[0]["flagged"]["reason"] == "known broken"
    assert create["result"] == "passed"


def test_infrastructure_errors_are_not_capability_failures(synth):
    result = synth.runpytest("--guideline=2099.01", "--cloud=memory:broken")
    assert result.ret == 7  # inconclusive: only infrastructure errors
    report = load_report(synth)
    results = capability_results(report, "memory:broken")
    assert results["cap-create"] == "error"
    (create,) = [c for c in report["clouds"][0]["capabilities"] if c["name"] == "cap-create"]
    first = create["tests"][0]
    assert first["error_kind"] == "infrastructure"
    assert first["call"] == "memory.servers.create"


def test_target_component_narrows_the_selection(synth):
    result = synth.runpytest("--guideline=2099.01", "--cloud=memory:ok", "--target=extra")
    assert result.ret == 0
    report = load_report(synth)
    assert set(capability_results(report, "memory:ok")) == {"cap-lock", "cap-infra"}
    result.assert_outcomes(passed=2, deselected=6)


def test_ini_options_set_the_defaults(synth):
    synth.makeini(
        "[pytest]\naddopts = -p memory_cloud -p no:cacheprovider\n"
        "interop_guideline = 2099.01\ninterop_clouds = memory:ok\n"
        "interop_report = out/report.json\n"
    )
    result = synth.runpytest()
    assert result.ret == 0
    assert load_report(synth, "out/report.json")["clouds"][0]["name"] == "memory:ok"


def test_secrets_of_cloud_settings_never_reach_the_report(synth):
    synth.runpytest("--guideline=2099.01", "--cloud=memory:broken", "--cloud=memory:ok")
    text = (synth.path / "interop-report.json").read_text()
    assert "s3cret-memory-pw" not in text


def test_report_is_replaced_whole(synth):
    (synth.path / "interop-report.json").write_text("old")
    synth.runpytest("--guideline=2099.01", "--cloud=memory:ok")
    assert load_report(synth)["format"] == "pytest-interop/report/1"
    assert not list(synth.path.glob(".interop-report.json.*"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--guideline=2042.01"], "*2042.01*2099.01*"),
        (["--guideline=2099.01", "--target=nowhere"], "*--target=nowhere*Synthetic Platform*"),
        (["--guideline=2099.01", "--cloud=no-such-cloud"], "*--cloud=no-such-cloud*clouds.yaml*"),
        (["--guideline=2099.01", "--cloud=reference:nope"], "*unknown reference profile*"),
    ],
)
def test_bad_input_is_a_usage_error_with_one_line(synth, args, message):
    result = synth.runpytest_subprocess(*args, "--cloud=memory:ok")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: {message}"])
    assert "Traceback" not in result.stderr.str()
    assert not (synth.path / "interop-report.json").exists()


def test_malformed_guideline_names_the_file(synth):
    (synth.path / "guidelines" / "2099.01.json").write_text('{"metadata": ')
    result = synth.runpytest_subprocess("--guideline=2099.01", "--cloud=memory:ok")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: *2099.01.json*"])
    assert not (synth.path / "interop-report.json").exists()


def test_dormant_without_guideline_or_cloud(synth):
    result = synth.runpytest("-k", "not_in_any")
    result.assert_outcomes(failed=1, deselected=7)
    assert not (synth.path / "interop-report.json").exists()


def _comparable(report: dict) -> dict:
    for key in ("run_id", "started", "finished", "duration_seconds"):
        report.pop(key)
    for outcome in report["outcomes"]:
        outcome.pop("duration")
    for cloud in report["clouds"]:
        for capability in cloud["capabilities"]:
            for test in capability["tests"]:
                test.pop("duration")
    return report


def test_parallel_report_equals_serial_report(synth):
    args = ["--guideline=2099.01", "--cloud=memory:ok", "--cloud=memory:nolock"]
    serial = synth.runpytest_subprocess(*args, "--interop-report=serial.json")
    parallel = synth.runpytest_subprocess(
        *args, "-n", "3", "--dist", "loadgroup", "--interop-report=parallel.json"
    )
    assert serial.ret == parallel.ret == 1
    serial_report = _comparable(load_report(synth, "serial.json"))
    parallel_report = _comparable(load_report(synth, "parallel.json"))
    assert parallel_report == serial_report
    assert serial_report["selection"]["missing"] == [NODE + "test_gone"]


def test_an_interrupted_run_writes_a_partial_report_marked_so(synth):
    suite = synth.path / "tests" / "interop" / "test_synth.py"
    suite.write_text(
        suite.read_text().replace(
            "def test_lock(cloud):\n", "def test_lock(cloud):\n    raise KeyboardInterrupt\n"
        )
    )
    # In a subprocess: an in-process KeyboardInterrupt would stop the outer run too.
    result = synth.runpytest_subprocess("--guideline=2099.01", "--cloud=memory:ok")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    report = load_report(synth)
    assert validate_report(report) == []
    assert report["interrupted"] is True
    assert capability_results(report, "memory:ok")["cap-create"] == "passed"
    result.stdout.fnmatch_lines(["*run INTERRUPTED*"])


def test_clouds_whose_names_share_a_prefix_are_told_apart(synth):
    result = synth.runpytest("--guideline=2099.01", "--cloud=memory:ok", "--cloud=memory:ok-2")
    assert result.ret == 0
    report = load_report(synth)
    for cloud in ("memory:ok", "memory:ok-2"):
        assert capability_results(report, cloud)["cap-create"] == "passed"
    clouds = {o["nodeid"].rsplit("[", 1)[1][:-1]: o["cloud"] for o in report["outcomes"]}
    assert clouds == {"memory:ok": "memory:ok", "memory:ok-2": "memory:ok-2"}


def test_a_guideline_run_without_paths_collects_only_the_suite(synth):
    (synth.path / "tests" / "unit").mkdir()
    (synth.path / "tests" / "unit" / "test_project.py").write_text(
        "raise ImportError('collected')\n"
    )
    synth.makeini(
        "[pytest]\naddopts = -p memory_cloud -p no:cacheprovider\n"
        "testpaths = tests\ninterop_suite = tests/interop\n"
    )
    guideline_run = synth.runpytest("--guideline=2099.01", "--cloud=memory:ok")
    assert "collected')" not in guideline_run.stdout.str()
    assert guideline_run.ret == 0
    # Paths on the command line are collected as pytest always does.
    explicit = synth.runpytest("--guideline=2099.01", "--cloud=memory:ok", "tests")
    assert explicit.ret == pytest.ExitCode.INTERRUPTED  # the collection error stops the run


def test_collect_only_lists_what_would_run_and_writes_no_report(synth):
    result = synth.runpytest("--guideline=2099.01", "--cloud=memory:ok", "--collect-only", "-q")
    assert result.ret == 0, result.stdout.str()
    assert not (synth.path / "interop-report.json").exists()
    result.stdout.fnmatch_lines(["*test_create[[]memory:ok[]]*", "*collected only, no report*"])
