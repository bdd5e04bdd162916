"""The scoring rule on hand-made evidence: thresholds, removal, promotion, flags."""

from __future__ import annotations

import datetime as dt

import pytest

from pytest_interop import shipped
from pytest_interop.guideline.loading import load_guideline
from pytest_interop.guideline.score import all_statuses
from pytest_interop.results.scoring import Evidence, Rule, propose

TODAY = dt.date(2026, 12, 4)


def adoption(name: str, passed: int, total: int) -> dict:
    failing = [f"p{i}" for i in range(total - passed)]
    return {"capability": name, "overall": {"passed": passed, "total": total},
            "failing_products": failing, "by_kind": {}}  # fmt: skip


@pytest.fixture(scope="module")
def nxt():
    return load_guideline("next", [shipped.GUIDELINES_DIR])


@pytest.mark.idempotent_id("6f0b8f3e-4b7b-4f57-8d0c-5b1e6a7d2c11")
def test_threshold_decides_and_too_few_products_decide_nothing(nxt):
    evidence = Evidence([adoption("compute-images-create", 2, 4)], [], "test")
    assert [c["capability"] for c in propose(nxt, evidence, Rule(0.5), TODAY).changes] == [
        "compute-images-create"
    ]
    assert propose(nxt, evidence, Rule(0.75), TODAY).changes == []
    assert propose(nxt, evidence, Rule(0.5, min_products=5), TODAY).changes == []


@pytest.mark.idempotent_id("0a6f3c9d-7e1b-4f0e-8a2d-3c4b5d6e7f81")
def test_a_capability_the_data_contradicts_loses_deployed(nxt):
    name = "compute-servers-create-multiple"
    proposal = propose(nxt, Evidence([adoption(name, 1, 4)], [], "t"), Rule(0.5), TODAY)
    (change,) = proposal.changes
    assert change["change"] == "remove-achievement" and change["score"] == [85, 77]
    assert "deployed" not in proposal.data["capabilities"][name]["achievements"]


@pytest.mark.idempotent_id("9b2c4e6f-1a3d-4c5e-8f7a-2b4d6e8f0a13")
def test_an_advisory_capability_listed_before_is_promoted(nxt, tmp_path):
    # next follows 2018.02, which does not list compute-servers-create-multiple: a note only
    name = "compute-servers-create-multiple"
    proposal = propose(nxt, Evidence([adoption(name, 3, 3)], [], "t"), Rule(), TODAY)
    assert proposal.changes == [] and "stays advisory" in proposal.notes[0]["summary"]


@pytest.mark.idempotent_id("3d5f7a9b-2c4e-4a6b-9d8f-1e3a5c7e9b24")
def test_a_required_test_failing_on_most_products_becomes_a_flag_candidate(nxt):
    capability = nxt.capabilities["compute-servers-create"]
    test = capability.tests[0].name
    results = {"a": "failed", "b": "error", "c": "passed", "d": "not_applicable"}
    evidence = Evidence([], [{"name": test, "capability": capability.name, "results": results}],
                        "t")  # fmt: skip
    assert all_statuses(nxt)["compute-servers-create"] == "required"
    proposal = propose(nxt, evidence, Rule(flag_threshold=0.6), TODAY)
    (change,) = proposal.changes
    assert change["change"] == "flag" and change["evidence"]["failing_products"] == ["a", "b"]
    flag = proposal.data["capabilities"]["compute-servers-create"]["tests"][test]["flagged"]
    assert flag["date"] == "2026-12-04" and "fails on 2 of 3 products" in flag["reason"]
    assert propose(nxt, evidence, Rule(flag_threshold=0.7), TODAY).changes == []
