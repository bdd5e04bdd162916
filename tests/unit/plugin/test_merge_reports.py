"""``interop report merge`` over real runs (pytester): a failed run and its ``--lf`` re-run
merge to the verdict a full re-run gives; mismatched runs are refused with one line; a
bundle from a merged report verifies and says where its outcomes came from."""

from __future__ import annotations

import json

import pytest

from pytest_interop.cli import main as interop
from pytest_interop.report.json_report import validate_report
from pytest_interop.submission.product import PRODUCT_TEMPLATE
from pytest_interop.submission.verify import verify_submission

from .conftest import NODE, load_report, synthetic_guideline
from .test_partial_runs import EXIT_INCOMPLETE, _break_lock, _vendor_key, with_cache


def _run(synth: pytest.Pytester, report: str, *args: str) -> int:
    return synth.runpytest(
        "--guideline=2099.01", "--cloud=memory:ok", f"--interop-report={report}", *args
    ).ret


def _merge(synth: pytest.Pytester, capsys, *names: str, out: str = "merged.json") -> tuple:
    capsys.readouterr()
    code = interop(
        [
            "report",
            "merge",
            *(str(synth.path / n) for n in names),
            "-o",
            str(synth.path / out),
            "--guideline-dir",
            str(synth.path / "guidelines"),
        ]
    )
    return code, capsys.readouterr()


def _judgement(report: dict) -> list:
    """What a verdict consists of: per cloud, verdict, tallies and capability results."""
    return [
        (
            c["name"],
            c["verdict"],
            c["required"],
            c["advisory"],
            [(cap["name"], cap["result"]) for cap in c["capabilities"]],
        )
        for c in report["clouds"]
    ]


@pytest.fixture
def failed_then_last_failed(synth):
    """Run 1 fails test_lock; the lock is fixed; run 2 is ``--lf``."""
    with_cache(synth)
    _break_lock(synth)
    assert _run(synth, "a.json") == 1
    (synth.path / "broken-lock").unlink()
    assert _run(synth, "b.json", "--lf") == EXIT_INCOMPLETE
    return synth


def test_failed_run_and_lf_rerun_merge_to_the_full_rerun_verdict(failed_then_last_failed, capsys):
    synth = failed_then_last_failed
    code, out = _merge(synth, capsys, "a.json", "b.json")
    assert code == 0, out.err
    merged = load_report(synth, "merged.json")
    assert validate_report(merged) == []
    assert merged["partial"] is False
    assert merged["selection"]["deselected"] == {}
    assert merged["selection"]["missing"] == [NODE + "test_gone"]
    assert "memory:ok: COMPLIANT" in out.out

    assert _run(synth, "full.json") == 0  # the full re-run, lock fixed
    full = load_report(synth, "full.json")
    assert _judgement(merged) == _judgement(full)

    a, b = load_report(synth, "a.json"), load_report(synth, "b.json")
    runs = merged["merged_from"]
    assert [r["run_id"] for r in runs] == [a["run_id"], b["run_id"]]
    assert [r["file"] for r in runs] == ["a.json", "b.json"]
    assert [r["partial"] for r in runs] == [False, True]
    by_node = {o["nodeid"]: o for o in merged["outcomes"]}
    lock = by_node[NODE + "test_lock[memory:ok]"]
    assert (lock["run_id"], lock["outcome"]) == (b["run_id"], "passed")  # the later wins
    assert by_node[NODE + "test_create[memory:ok]"]["run_id"] == a["run_id"]
    assert [r["outcomes"] for r in runs] == [len(a["outcomes"]) - 3, 3]


def test_merge_order_is_by_run_start_not_by_argument(failed_then_last_failed, capsys):
    synth = failed_then_last_failed
    code, _ = _merge(synth, capsys, "b.json", "a.json")
    assert code == 0
    merged = load_report(synth, "merged.json")
    assert merged["clouds"][0]["verdict"] == "compliant"


def test_merging_partial_runs_that_leave_tests_out_stays_incomplete(synth, capsys):
    assert _run(synth, "a.json", "-k", "test_create") == EXIT_INCOMPLETE
    assert _run(synth, "b.json", "-k", "test_lock") == EXIT_INCOMPLETE
    code, out = _merge(synth, capsys, "a.json", "b.json")
    assert code == EXIT_INCOMPLETE
    merged = load_report(synth, "merged.json")
    assert merged["partial"] is True
    assert merged["clouds"][0]["verdict"] == "incomplete"
    left = merged["selection"]["deselected"]["memory:ok"]
    assert NODE + "test_lock[memory:ok]" not in left  # b ran it
    assert NODE + "test_infra[memory:ok]" in left  # neither did
    assert "PARTIAL run" in out.out
    # The rest, by a third run: now complete.
    assert _run(synth, "c.json", "-k", "not test_create and not test_lock") == EXIT_INCOMPLETE
    code, _ = _merge(synth, capsys, "a.json", "b.json", "c.json", out="all.json")
    assert code == 0
    merged = load_report(synth, "all.json")
    assert merged["partial"] is False
    assert merged["clouds"][0]["verdict"] == "compliant"


def test_runs_on_other_clouds_are_refused_with_one_line(synth, capsys):
    assert _run(synth, "a.json") == 0
    assert (
        synth.runpytest(
            "--guideline=2099.01", "--cloud=memory:nolock", "--interop-report=b.json"
        ).ret
        == 1
    )
    code, out = _merge(synth, capsys, "a.json", "b.json")
    assert code == 2
    assert out.err.strip().splitlines() == [
        "interop: error: b.json ran on clouds memory:nolock, a.json on memory:ok: only runs "
        "on the same clouds merge"
    ]
    assert not (synth.path / "merged.json").exists()


def test_runs_of_another_guideline_are_refused_with_one_line(synth, capsys):
    other = synthetic_guideline()
    other["metadata"]["id"] = "2099.02"
    (synth.path / "guidelines" / "2099.02.json").write_text(json.dumps(other))
    assert _run(synth, "a.json") == 0
    ret = synth.runpytest("--guideline=2099.02", "--cloud=memory:ok", "--interop-report=b.json")
    assert ret.ret == 0
    code, out = _merge(synth, capsys, "a.json", "b.json")
    assert code == 2
    (line,) = out.err.strip().splitlines()
    assert "b.json ran guideline 2099.02, a.json ran 2099.01" in line
    assert not (synth.path / "merged.json").exists()


def test_a_changed_guideline_file_is_refused(synth, capsys):
    assert _run(synth, "a.json") == 0
    path = synth.path / "guidelines" / "2099.01.json"
    path.write_text(path.read_text() + "\n")
    assert _run(synth, "b.json") == 0
    code, out = _merge(synth, capsys, "a.json", "b.json")
    assert code == 2
    assert "guideline 2099.01 differs between a.json (sha256" in out.err


def test_one_report_is_not_a_merge(synth, capsys):
    assert _run(synth, "a.json") == 0
    code, out = _merge(synth, capsys, "a.json")
    assert code == 2
    assert "two or more reports" in out.err


def test_a_bundle_from_a_merged_report_verifies_and_names_its_runs(
    failed_then_last_failed, capsys, tmp_path
):
    synth = failed_then_last_failed
    assert _merge(synth, capsys, "a.json", "b.json")[0] == 0
    product = tmp_path / "product.yaml"
    product.write_text(PRODUCT_TEMPLATE)
    key = _vendor_key(tmp_path)
    guidelines = str(synth.path / "guidelines")

    def create(report: str, out: str) -> int:
        return interop(
            [
                "submission",
                "create",
                str(synth.path / report),
                "--out",
                str(tmp_path / out),
                "--key",
                key,
                "--product",
                str(product),
                "--guideline-dir",
                guidelines,
            ]
        )

    capsys.readouterr()
    assert create("b.json", "partial-bundle") == 2  # the --lf run alone: refused
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "/b.json is a partial run (--lf left out 3 guideline tests" in line
    assert create("merged.json", "bundle") == 0
    capsys.readouterr()

    code = interop(
        ["submission", "verify", str(tmp_path / "bundle"), "--guideline-dir", guidelines]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    a, b = load_report(synth, "a.json"), load_report(synth, "b.json")
    assert "merged from 2 runs" in out
    assert f"run {a['run_id']} (a.json," in out
    assert f"run {b['run_id']} (b.json," in out and "partial): 3 outcomes kept" in out
    assert "memory:ok: compliant (recomputed from the raw outcomes)" in out


def test_verify_catches_an_outcome_moved_to_another_run(failed_then_last_failed, capsys, tmp_path):
    synth = failed_then_last_failed
    assert _merge(synth, capsys, "a.json", "b.json")[0] == 0
    merged = load_report(synth, "merged.json")
    merged["outcomes"][0]["run_id"] = "someone-else"
    (synth.path / "edited.json").write_text(json.dumps(merged))
    product = tmp_path / "product.yaml"
    product.write_text(PRODUCT_TEMPLATE)
    key = _vendor_key(tmp_path)
    args = [
        "--key",
        key,
        "--product",
        str(product),
        "--guideline-dir",
        str(synth.path / "guidelines"),
    ]
    assert (
        interop(
            [
                "submission",
                "create",
                str(synth.path / "edited.json"),
                "--out",
                str(tmp_path / "b"),
                *args,
            ]
        )
        == 0
    )
    result = verify_submission(tmp_path / "b", guideline_dirs=[synth.path / "guidelines"])
    assert not result.ok
    (report_check,) = [c for c in result.checks if c.name == "report"]
    assert any("someone-else, which merged_from does not list" in d for d in report_check.details)


def _with_auth_url(synth: pytest.Pytester, name: str, url: str) -> None:
    report = load_report(synth, name)
    report["clouds"][0]["identity"]["auth_url"] = url
    (synth.path / name).write_text(json.dumps(report))


def test_an_embedded_clouds_new_port_is_the_same_cloud_another_endpoint_is_not(synth, capsys):
    assert _run(synth, "a.json") == 0
    assert _run(synth, "b.json", "-k", "test_lock") == EXIT_INCOMPLETE
    _with_auth_url(synth, "a.json", "http://127.0.0.1:41001/identity/v3")
    _with_auth_url(synth, "b.json", "http://127.0.0.1:41999/identity/v3")
    assert _merge(synth, capsys, "a.json", "b.json")[0] == 0
    _with_auth_url(synth, "b.json", "https://keystone.example.invalid/v3")
    code, out = _merge(synth, capsys, "a.json", "b.json", out="other.json")
    assert code == 2
    (line,) = out.err.strip().splitlines()
    assert "cloud memory:ok is not the same cloud in a.json (auth_url None)" in line
    assert "b.json (auth_url 'https://keystone.example.invalid/v3')" in line
