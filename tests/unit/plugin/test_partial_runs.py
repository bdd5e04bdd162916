"""Partial runs through pytester: what the user left out is deselected, never missing; the
verdict is incomplete (exit 6) and no submission is made from it."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pytest_interop.cli import main as interop
from pytest_interop.report.json_report import validate_report
from pytest_interop.submission.product import PRODUCT_TEMPLATE

from .conftest import NODE, load_report

EXIT_INCOMPLETE = 6
GUIDELINE_TESTS = 6  # the synthetic target's tests the suite has (test_gone it lacks)


def _verdicts(report: dict) -> dict[str, str]:
    return {c["name"]: c["verdict"] for c in report["clouds"]}


def _results(report: dict, cloud: str) -> dict[str, str]:
    (entry,) = [c for c in report["clouds"] if c["name"] == cloud]
    return {c["name"]: c["result"] for c in entry["capabilities"]}


def _assert_partial(report: dict, narrowed_by: list[str]) -> None:
    assert validate_report(report) == []
    assert report["partial"] is True
    assert report["selection"]["narrowed_by"] == narrowed_by
    # The one test the suite truly lacks stays missing; nothing deselected becomes missing.
    assert report["selection"]["missing"] == [NODE + "test_gone"]


def test_k_leaves_tests_out_and_the_verdict_is_incomplete(synth):
    result = synth.runpytest(
        "--guideline=2099.01", "--cloud=memory:ok", "-k", "test_create", "--interop-html=r.html"
    )
    assert result.ret == EXIT_INCOMPLETE, result.stdout.str()
    report = load_report(synth)
    _assert_partial(report, ["-k test_create"])
    page = (synth.path / "r.html").read_text()
    assert "PARTIAL run (-k test_create)" in page
    assert ">deselected</span>" in page
    assert _verdicts(report) == {"memory:ok": "incomplete"}
    deselected = report["selection"]["deselected"]["memory:ok"]
    assert NODE + "test_lock[memory:ok]" in deselected
    assert len(deselected) == GUIDELINE_TESTS - 1  # all but test_create
    results = _results(report, "memory:ok")
    assert results["cap-lock"] == "not_run"
    assert results["cap-missing"] == "missing"
    result.stdout.fnmatch_lines(
        [
            "*PARTIAL run (-k test_create): 5 guideline tests not run (deselected) on memory:ok*",
            "memory:ok: INCOMPLETE*",
            "  NOT RUN (deselected) 2 required or deprecated capabilities",
        ]
    )
    assert "MISSING" not in result.stdout.str().split("interop compliance")[1]


def test_m_leaves_a_marked_test_out(synth):
    suite = synth.path / "tests" / "interop" / "test_synth.py"
    suite.write_text(
        suite.read_text().replace("def test_lock(", "@pytest.mark.slow\ndef test_lock(")
    )
    result = synth.runpytest("--guideline=2099.01", "--cloud=memory:ok", "-m", "not slow")
    assert result.ret == EXIT_INCOMPLETE, result.stdout.str()
    report = load_report(synth)
    _assert_partial(report, ["-m not slow"])
    assert report["selection"]["deselected"] == {"memory:ok": [NODE + "test_lock[memory:ok]"]}
    assert _results(report, "memory:ok")["cap-lock"] == "not_run"


def test_deselect_on_one_cloud_makes_only_that_cloud_incomplete(synth):
    result = synth.runpytest(
        "--guideline=2099.01",
        "--cloud=memory:ok",
        "--cloud=memory:nolock",
        "--deselect",
        NODE + "test_lock[memory:ok]",
    )
    assert result.ret == EXIT_INCOMPLETE, result.stdout.str()
    report = load_report(synth)
    _assert_partial(report, ["--deselect (1)"])
    assert report["selection"]["deselected"] == {"memory:ok": [NODE + "test_lock[memory:ok]"]}
    # memory:nolock ran everything and lacks the lock facet: judged as in a full run.
    assert _verdicts(report) == {"memory:ok": "incomplete", "memory:nolock": "not compliant"}
    result.stdout.fnmatch_lines(["*PARTIAL run (--deselect (1)): 1 guideline tests*memory:ok*"])


def test_node_ids_on_the_command_line_leave_the_rest_out(synth):
    result = synth.runpytest(
        "--guideline=2099.01", "--cloud=memory:ok", NODE + "test_create", NODE + "test_lock"
    )
    assert result.ret == EXIT_INCOMPLETE, result.stdout.str()
    report = load_report(synth)
    # Never collected: the suite's source shows they exist, so they are not missing.
    _assert_partial(report, [f"paths {NODE}test_create, {NODE}test_lock"])
    assert sorted(report["selection"]["deselected"]["memory:ok"]) == sorted(
        NODE + name
        for name in (
            "test_flagged_but_broken",
            "test_new_name",
            "test_advisory_fails",
            "test_infra",
        )
    )
    results = _results(report, "memory:ok")
    assert results["cap-create"] == results["cap-lock"] == "passed"


def test_workers_bring_what_they_left_out_to_the_controller(synth):
    """Under xdist only workers collect: their deselections reach the controller's report."""
    args = ["--guideline=2099.01", "--cloud=memory:ok", "--cloud=memory:nolock"]
    narrow = ["-k", "test_create or test_lock", NODE + "test_create", NODE + "test_lock"]
    serial = synth.runpytest_subprocess(*args, *narrow, "--interop-report=serial.json")
    parallel = synth.runpytest_subprocess(*args, *narrow, "-n", "2", "--interop-report=par.json")
    assert serial.ret == parallel.ret == EXIT_INCOMPLETE
    serial_report, parallel_report = (
        load_report(synth, "serial.json"),
        load_report(synth, "par.json"),
    )
    for report in (serial_report, parallel_report):
        _assert_partial(
            report, ["-k test_create or test_lock", f"paths {NODE}test_create, {NODE}test_lock"]
        )
    assert parallel_report["selection"] == serial_report["selection"]
    assert len(parallel_report["selection"]["deselected"]["memory:nolock"]) == 4
    assert _verdicts(parallel_report) == _verdicts(serial_report)


def test_a_whole_suite_path_is_not_partial(synth):
    result = synth.runpytest("--guideline=2099.01", "--cloud=memory:ok", "tests/interop")
    assert result.ret == 0, result.stdout.str()
    report = load_report(synth)
    assert report["partial"] is False
    assert report["selection"]["deselected"] == {}
    assert report["selection"]["missing"] == [NODE + "test_gone"]


def _break_lock(synth: pytest.Pytester) -> None:
    """test_lock fails while a file ``broken-lock`` exists in the run's directory."""
    suite = synth.path / "tests" / "interop" / "test_synth.py"
    suite.write_text(
        suite.read_text().replace(
            'cloud.lock_server("srv")',
            'cloud.lock_server("srv")\n'
            '    assert not __import__("os").path.exists("broken-lock"), "lock broke"',
        )
    )
    (synth.path / "broken-lock").write_text("")


def with_cache(synth: pytest.Pytester) -> pytest.Pytester:
    synth.makeini("[pytest]\naddopts = -p memory_cloud\n")  # --lf needs pytest's cache
    return synth


def test_last_failed_reruns_only_failures_and_is_partial(synth):
    with_cache(synth)
    _break_lock(synth)
    first = synth.runpytest("--guideline=2099.01", "--cloud=memory:ok")
    assert first.ret == 1
    assert _verdicts(load_report(synth)) == {"memory:ok": "not compliant"}
    result = synth.runpytest("--guideline=2099.01", "--cloud=memory:ok", "--lf")
    assert result.ret == EXIT_INCOMPLETE, result.stdout.str()
    report = load_report(synth)
    _assert_partial(report, ["--lf"])
    ran = sorted(o["nodeid"] for o in report["outcomes"])
    # The failures: test_lock, and the advisory and flagged tests that fail by design.
    assert ran == sorted(
        NODE + f"{name}[memory:ok]"
        for name in ("test_lock", "test_advisory_fails", "test_flagged_but_broken")
    )
    # pytest collects only the failed items: the others are known from the suite's source.
    assert report["selection"]["deselected"] == {
        "memory:ok": [NODE + name for name in ("test_create", "test_infra", "test_new_name")]
    }
    result.stdout.fnmatch_lines(["  NOT RUN (deselected) 2 required or deprecated capabilities"])


def test_stepwise_leaves_the_tests_before_the_last_failure_out(synth):
    with_cache(synth)
    first = synth.runpytest("--guideline=2099.01", "--cloud=memory:ok", "--sw")
    # Stepwise stops at the first failure (the flagged test): an interrupted run's exit.
    assert first.ret == pytest.ExitCode.INTERRUPTED
    result = synth.runpytest("--guideline=2099.01", "--cloud=memory:ok", "--sw")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    report = load_report(synth)
    _assert_partial(report, ["--sw"])
    assert _verdicts(report) == {"memory:ok": "incomplete"}
    assert report["selection"]["deselected"] == {"memory:ok": [NODE + "test_create[memory:ok]"]}


def _vendor_key(tmp_path) -> str:
    key = Ed25519PrivateKey.generate()
    path = tmp_path / "vendor_ed25519"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.OpenSSH,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)
    return str(path)


def test_no_submission_from_a_partial_run(synth, tmp_path, capsys):
    product = tmp_path / "product.yaml"
    product.write_text(PRODUCT_TEMPLATE)
    key = _vendor_key(tmp_path)
    result = synth.runpytest(
        "--guideline=2099.01",
        "--cloud=memory:ok",
        "-k",
        "not test_infra",
        "--submission=bundle",
        f"--submission-key={key}",
        f"--submission-product={product}",
    )
    assert result.ret == EXIT_INCOMPLETE
    result.stdout.fnmatch_lines(["submission: not written, the run was partial"])
    assert not (synth.path / "bundle").exists()

    capsys.readouterr()
    code = interop(
        [
            "submission",
            "create",
            str(synth.path / "interop-report.json"),
            "--out",
            str(tmp_path / "bundle"),
            "--key",
            key,
            "--product",
            str(product),
            "--guideline-dir",
            str(synth.path / "guidelines"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert "is a partial run (-k not test_infra left out 1 guideline tests" in err
    assert "interop report merge" in err
    assert not (tmp_path / "bundle").exists()
