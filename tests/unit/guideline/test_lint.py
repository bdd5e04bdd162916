"""Each lint check, shown catching its fault on a fixture that breaks exactly that rule."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pytest_interop.guideline.lint import lint_guideline
from pytest_interop.guideline.loading import load_guideline
from pytest_interop.guideline.suite import scan_suite

from .helpers import FIXTURES, fixture_data, write_json, write_suite

CREATE = "compute-servers-create"
CREATE_TEST = "tests/interop/compute/test_servers.py::test_server_create_is_active_and_reachable"
FLAGGED_TEST = (
    "tests/interop/compute/test_servers.py::TestServerInvalid::test_bad_flavor_is_refused"
)


def lint_data(
    tmp_path: Path, data: dict[str, Any], extra_suite: dict[str, str] | None = None, **kw
):
    guideline = load_guideline(write_json(tmp_path / "g.json", data))
    suite = scan_suite(write_suite(tmp_path / "project", extra_suite))
    previous = load_guideline(FIXTURES / "previous.json")
    return lint_guideline(guideline, suite=suite, previous=previous, **kw)


def test_clean_fixture_has_no_errors(tmp_path):
    report = lint_data(tmp_path, fixture_data("ours.json"))
    assert report.ok, [str(f) for f in report.findings]
    assert report.errors == [] and report.warnings == []


def _missing_test(d):
    tests = d["capabilities"][CREATE]["tests"]
    tests["tests/interop/compute/test_servers.py::test_not_written_yet"] = {
        "idempotent_id": "55555555-5555-4555-8555-555555555555"
    }


def _id_mismatch(d):
    d["capabilities"][CREATE]["tests"][CREATE_TEST]["idempotent_id"] = (
        "66666666-6666-4666-8666-666666666666"
    )


def _duplicate_in_guideline(d):
    d["capabilities"]["identity-tokens-create"]["tests"][
        "tests/interop/identity/test_tokens.py::test_token_create"
    ]["idempotent_id"] = "0f2b1c3e-8d4a-4a57-9c2e-3b1d5e7f9a01"


def _untested(d):
    d["capabilities"][CREATE]["tests"][CREATE_TEST]["flagged"] = {
        "reason": "r",
        "action": "a",
        "date": "2099-01-01",
    }


def _flag_incomplete(d):
    d["capabilities"][CREATE]["tests"][FLAGGED_TEST]["flagged"] = {"reason": "only a reason"}


def _below_cutoff(d):
    d["capabilities"][CREATE]["achievements"] = ["deployed"]  # 40 < 74
    d["capabilities"][CREATE]["required_since"] = "2099.01"


def _new_not_advisory(d):
    d["components"]["compute"]["capabilities"]["advisory"].remove("compute-servers-reboot")
    d["components"]["compute"]["capabilities"]["required"].append("compute-servers-reboot")
    d["capabilities"]["compute-servers-reboot"]["achievements"] = ["deployed", "future"]


def _conflicting_status(d):
    d["components"]["compute"]["capabilities"]["advisory"].append(CREATE)


def _undefined(d):
    d["components"]["compute"]["capabilities"]["advisory"].append("compute-typo")


def _bad_flag_date(d):
    d["capabilities"][CREATE]["tests"][FLAGGED_TEST]["flagged"]["date"] = "05/01/2099"


def _bad_since(d):
    d["capabilities"][CREATE]["required_since"] = "2017-13"


def _bad_guideline_id(d):
    d["metadata"]["id"] = "2017.1"


def _not_uuid4(d):
    d["capabilities"][CREATE]["tests"][CREATE_TEST]["idempotent_id"] = "id-0f2b1c3e"


def _unknown_criterion(d):
    d["capabilities"][CREATE]["achievements"].append("popular")


# case -> (the check that must fire, the change that breaks its rule)
CHECKS: dict[str, tuple[str, Callable[[dict], None]]] = {
    "missing-test": ("test-missing", _missing_test),
    "id-mismatch": ("idempotent-id-mismatch", _id_mismatch),
    "duplicate-id-in-guideline": ("duplicate-idempotent-id", _duplicate_in_guideline),
    "required-untested": ("required-untested", _untested),
    "flag-incomplete": ("flag-incomplete", _flag_incomplete),
    "below-cutoff": ("below-cutoff", _below_cutoff),
    "new-not-advisory": ("new-not-advisory", _new_not_advisory),
    "conflicting-status": ("conflicting-status", _conflicting_status),
    "undefined-capability": ("undefined-capability", _undefined),
    "flag-date": ("malformed-date", _bad_flag_date),
    "required-since": ("malformed-date", _bad_since),
    "guideline-id": ("malformed-id", _bad_guideline_id),
    "idempotent-id-format": ("malformed-id", _not_uuid4),
}


CHANGES_A_LISTED_ID = {"duplicate-id-in-guideline", "idempotent-id-format"}


@pytest.mark.parametrize("case", sorted(CHECKS))
def test_each_check_catches_its_fault(tmp_path, case):
    check, breaks = CHECKS[case]
    data = fixture_data("ours.json")
    breaks(data)
    report = lint_data(tmp_path, data)
    assert not report.ok
    # A wrong id on a listed test also means the suite's test carries another id.
    consequences = {"idempotent-id-mismatch"} if case in CHANGES_A_LISTED_ID else set()
    assert report.checks("error") == {check} | consequences, [str(f) for f in report.findings]


def test_unknown_criterion_is_a_warning(tmp_path):
    data = fixture_data("ours.json")
    _unknown_criterion(data)
    report = lint_data(tmp_path, data)
    assert report.ok
    assert report.checks("warning") == {"unknown-criterion"}


def test_duplicate_id_across_suite(tmp_path):
    extra = {
        "tests/interop/test_copy.py": """
        import pytest

        @pytest.mark.idempotent_id("3d2c1b0a-9f8e-4d7c-8b6a-5f4e3d2c1b0a")
        def test_copy():
            pass
    """
    }
    report = lint_data(tmp_path, fixture_data("ours.json"), extra)
    assert report.checks("error") == {"duplicate-idempotent-id"}
    assert "tests/interop/test_copy.py::test_copy" in report.errors[0].message


def test_suite_problem_is_reported(tmp_path):
    extra = {"tests/interop/test_broken.py": "def test_x(:\n"}
    report = lint_data(tmp_path, fixture_data("ours.json"), extra)
    assert report.checks("error") == {"suite-problem"}


def test_allow_untested_turns_untested_into_warning(tmp_path):
    data = fixture_data("ours.json")
    _untested(data)
    report = lint_data(tmp_path, data, allow_untested=True)
    assert report.ok
    assert report.checks("warning") == {"required-untested"}


def test_grandfathered_capability_below_cutoff_is_a_warning(tmp_path):
    data = fixture_data("ours.json")
    data["capabilities"][CREATE]["achievements"] = ["deployed"]  # required since 2098.01
    report = lint_data(tmp_path, data)
    assert report.ok
    assert report.checks("warning") == {"below-cutoff"}


def test_defcore_guideline_skips_suite_checks():
    g = load_guideline(FIXTURES / "defcore-1.6.json")
    report = lint_guideline(g)
    assert "check-skipped" in report.checks("info")
    assert "test-missing" not in report.checks()
    # 1.2 flags carry no action or date: lint says so.
    old = lint_guideline(load_guideline(FIXTURES / "defcore-1.2.json"))
    assert "flag-incomplete" in old.checks("error")


def test_missing_previous_guideline_skips_new_capability_check(tmp_path):
    guideline = load_guideline(FIXTURES / "ours.json")
    report = lint_guideline(guideline, suite=scan_suite(write_suite(tmp_path)))
    assert report.ok
    assert any(
        "2098.01 not found" in f.message for f in report.findings if f.check == "check-skipped"
    )


def test_repository_guidelines_lint_clean_except_untested():
    root = Path(__file__).resolve().parents[3]
    suite = scan_suite(root, ["pytest_interop/suite"])
    for gid in ("2017.01", "next", "hybrid.2017.01"):
        g = load_guideline(gid, [root / "pytest_interop" / "guidelines"])
        previous = (
            load_guideline(g.replaces, [root / "pytest_interop" / "guidelines"])
            if g.replaces == "2017.01"
            else None
        )
        report = lint_guideline(g, suite=suite, previous=previous, allow_untested=True)
        assert report.ok, (gid, [str(f) for f in report.errors])
