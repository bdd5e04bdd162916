from pytest_interop.guideline.coverage import guideline_coverage
from pytest_interop.guideline.loading import load_guideline
from pytest_interop.guideline.suite import scan_suite

from .helpers import FIXTURES, write_suite


def test_ours_matched_by_test(tmp_path):
    suite = scan_suite(write_suite(tmp_path))
    del suite.tests["tests/interop/identity/test_tokens.py::test_token_create"]
    report = guideline_coverage(load_guideline(FIXTURES / "ours.json"), suite)
    by_name = {c.name: c for c in report.capabilities}
    assert report.matched_by == "test"
    assert by_name["compute-servers-create"].implemented
    assert len(by_name["compute-servers-create"].tests_implemented) == 2
    assert not by_name["identity-tokens-create"].implemented
    assert by_name["identity-tokens-create"].tests_missing == (
        "tests/interop/identity/test_tokens.py::test_token_create",
    )
    assert report.summary() == {
        "required": {"capabilities": 2, "implemented": 1},
        "advisory": {"capabilities": 1, "implemented": 1},
    }


def test_defcore_matched_by_capability_name(tmp_path):
    suite = scan_suite(write_suite(tmp_path))
    ours = load_guideline(FIXTURES / "ours.json")
    published = load_guideline(FIXTURES / "defcore-2.0.json")
    report = guideline_coverage(published, suite, [ours])
    by_name = {c.name: c for c in report.capabilities}
    assert report.matched_by == "capability name"
    assert by_name["compute-servers-create"].implemented
    assert not by_name["identity-v3-tokens-create"].implemented  # ours names it differently
    assert report.as_dict()["summary"]["required"] == {"capabilities": 3, "implemented": 1}
