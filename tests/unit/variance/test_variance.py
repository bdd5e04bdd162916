"""The hybrid variance table, from hand-built JSON reports and from one built the run's way."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from pytest_interop import compliance
from pytest_interop.guideline.loading import parse_guideline
from pytest_interop.report.json_report import build_report, validate_report
from pytest_interop.report.variance import (
    ERROR,
    HYBRID_STEPS,
    MISSING,
    NO,
    NOT_APPLICABLE,
    NOT_RUN,
    PARTIAL,
    REASON_KEY,
    RESULT_KEY,
    STEP_KEY,
    YES,
    Cell,
    capability_cell,
    hybrid_variance,
    variance_lines,
)

HYBRID = "hybrid.2017.01"
GUIDELINE_FILE = (
    Path(__file__).parents[3] / "pytest_interop" / "guidelines" / "add-ons" / "hybrid.2017.01.json"
)


def test(result: str, findings: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    entry = {
        "name": extra.pop("name", "tests/interop/hybrid/test_x.py::test_x"),
        "idempotent_id": None,
        "result": result,
        "flagged": extra.pop("flagged", None),
        "findings": findings or {},
    }
    entry.update(extra)
    return entry


test.__test__ = False  # a builder, not a test


def answer(result: str, reason: str, **facts: Any) -> dict[str, Any]:
    found = {RESULT_KEY: result, REASON_KEY: reason, STEP_KEY: "n step"}
    found.update({f"hybrid.{key}": value for key, value in facts.items()})
    return found


def capability(name: str, result: str, *tests: dict[str, Any], guideline: str = HYBRID):
    return {
        "guideline": guideline,
        "name": name,
        "status": "required",
        "counted": True,
        "result": result,
        "tests": list(tests),
    }


def report(clouds: dict[str, list[dict[str, Any]]], guidelines=(HYBRID,)) -> dict[str, Any]:
    """A report that matches the JSON report schema, with the given capabilities per cloud."""
    data = {
        "format": "pytest-interop/report/1",
        "tool": {"name": "pytest-interop", "version": "0.1"},
        "run_id": "20261125T120000-abcdef",
        "guidelines": [
            {"id": g, "schema": "2.0", "sha256": None, "add_on": g.startswith("hybrid")}
            for g in guidelines
        ],
        "target": None,
        "started": "2026-11-25T12:00:00+00:00",
        "finished": "2026-11-25T12:01:00+00:00",
        "duration_seconds": 60.0,
        "interrupted": False,
        "clouds": [
            {
                "name": name,
                "identity": {"name": name},
                "verdict": "not compliant",
                "required": {"passed": 0, "total": len(capabilities)},
                "advisory": {"passed": 0, "total": 0},
                "resources": {"created": 0, "deleted": 0, "leaked": 0},
                "capabilities": capabilities,
            }
            for name, capabilities in clouds.items()
        ],
        "selection": {"missing": [], "renamed": {}},
        "outcomes": [],
    }
    assert validate_report(data) == []
    return data


# -- no hybrid add-on ------------------------------------------------------------------------


def test_no_hybrid_guideline_gives_an_empty_table_and_no_lines():
    data = report(
        {"reference": [capability("compute-servers-create", "passed", guideline="2017.01")]},
        guidelines=("2017.01",),
    )
    table = hybrid_variance(data)
    assert table.empty
    assert table.guideline is None
    assert table.clouds == ("reference",)
    assert variance_lines(data) == []


def test_only_the_hybrid_guideline_capabilities_become_rows():
    data = report(
        {
            "reference": [
                capability("compute-servers-create", "failed", test("failed"), guideline="2017.01"),
                capability("hybrid-node-login", "passed", test("passed")),
            ]
        },
        guidelines=("2017.01", HYBRID),
    )
    table = hybrid_variance(data)
    assert [row.capability for row in table.rows] == ["hybrid-node-login"]
    assert table.guideline == HYBRID


# -- rows and columns --------------------------------------------------------------------------


def test_rows_follow_the_eight_steps_whatever_the_report_order():
    names = [step.capability for step in HYBRID_STEPS]
    shuffled = [*reversed(names), "hybrid-something-new"]
    data = report({"a": [capability(n, "passed", test("passed")) for n in shuffled]})
    table = hybrid_variance(data)
    assert [row.capability for row in table.rows] == [*names, "hybrid-something-new"]
    assert [row.step for row in table.rows] == [1, 2, 3, 4, 5, 6, 7, 8, None]
    assert table.rows[4].name == "get a public address, no extra steps"
    assert table.rows[-1].name == "hybrid-something-new"


def test_columns_are_the_clouds_in_report_order_and_a_cloud_without_the_step_is_not_run():
    data = report(
        {
            "zeta": [capability("hybrid-node-login", "passed", test("passed"))],
            "alpha": [],
        }
    )
    table = hybrid_variance(data)
    assert table.clouds == ("zeta", "alpha")
    assert table.cell("hybrid-node-login", "zeta").result == YES
    assert table.cell("hybrid-node-login", "alpha").result == NOT_RUN
    with pytest.raises(KeyError):
        table.cell("hybrid-keypair-add", "zeta")


# -- cells ---------------------------------------------------------------------------------------


def test_a_passed_step_without_a_claim_is_yes():
    cell = capability_cell(capability("hybrid-keypair-add", "passed", test("passed")))
    assert cell == Cell(YES, "", {})


def test_a_passed_step_keeps_its_reason_and_facts():
    found = answer(YES, "logged in as 'ubuntu'", login_user="ubuntu")
    cell = capability_cell(capability("hybrid-node-login", "passed", test("passed", found)))
    assert cell.result == YES
    assert cell.reason == "logged in as 'ubuntu'"
    assert cell.facts == {"login_user": "ubuntu"}


def test_a_passed_step_may_be_partial():
    found = answer(PARTIAL, "account guessed from os_distro")
    cell = capability_cell(capability("hybrid-node-login", "passed", test("passed", found)))
    assert cell == Cell(PARTIAL, "account guessed from os_distro", {})


def test_a_passed_step_is_never_no_whatever_its_findings_claim():
    found = answer(NO, "stale claim")
    cell = capability_cell(capability("hybrid-node-login", "passed", test("passed", found)))
    assert cell.result == YES


def test_a_failed_step_with_a_partial_claim_is_partial():
    found = answer(PARTIAL, "root login refused: PermitRootLogin no")
    cell = capability_cell(
        capability("hybrid-root-key-password-off", "failed", test("failed", found))
    )
    assert cell == Cell(PARTIAL, "root login refused: PermitRootLogin no", {})


def test_a_failed_step_is_never_yes_and_falls_back_to_the_message():
    claimed_yes = test("failed", {RESULT_KEY: "yes"}, message="AssertionError: boom\nmore")
    cell = capability_cell(capability("hybrid-node-request", "failed", claimed_yes))
    assert cell == Cell(NO, "AssertionError: boom", {})


def test_a_failed_step_takes_the_worst_of_its_failing_tests():
    partial = test("failed", answer(PARTIAL, "half"), name="t::a")
    no = test("failed", answer(NO, "none of it"), name="t::b")
    passed = test("passed", answer(YES, "fine"), name="t::c")
    cell = capability_cell(capability("hybrid-keypair-add", "failed", passed, partial, no))
    assert (cell.result, cell.reason) == (NO, "none of it")
    cell = capability_cell(capability("hybrid-keypair-add", "failed", passed, partial))
    assert (cell.result, cell.reason) == (PARTIAL, "half")


def test_a_claim_is_read_case_insensitively_and_unknown_words_are_ignored():
    cell = capability_cell(
        capability("hybrid-node-login", "passed", test("passed", {RESULT_KEY: "partial"}))
    )
    assert cell.result == PARTIAL
    cell = capability_cell(
        capability("hybrid-node-login", "failed", test("failed", {RESULT_KEY: "MAYBE"}))
    )
    assert cell.result == NO


def test_flagged_tests_do_not_decide_the_cell_when_counted_ones_exist():
    flag = {"reason": "ssh flaky", "action": "fix", "date": "2017-01"}
    flagged = test("failed", answer(NO, "flagged failure"), flagged=flag, name="t::f")
    counted = test("passed", answer(YES, "counted pass"), name="t::c")
    cell = capability_cell(capability("hybrid-node-login", "passed", flagged, counted))
    assert (cell.result, cell.reason) == (YES, "counted pass")


def test_a_multi_line_reason_is_shown_as_its_first_line():
    found = answer(PARTIAL, "\n  first line  \nsecond line")
    cell = capability_cell(capability("hybrid-node-login", "passed", test("passed", found)))
    assert cell.reason == "first line"


@pytest.mark.parametrize(
    ("result", "tests", "expected"),
    [
        (
            "error",
            [test("error", call="nova.servers.create", message="InfrastructureError: 503")],
            Cell(ERROR, "infrastructure error in nova.servers.create: InfrastructureError: 503"),
        ),
        ("error", [test("error", message="teardown broke")], Cell(ERROR, "error: teardown broke")),
        (
            "not_applicable",
            [test("not_applicable", message="aws has no floating IPs")],
            Cell(NOT_APPLICABLE, "aws has no floating IPs"),
        ),
        ("missing", [test("missing")], Cell(MISSING, "no test for this step in the suite")),
        ("missing", [], Cell(MISSING, "no test for this step in the suite")),
        ("not_run", [test("not_run")], Cell(NOT_RUN, "not run on this cloud")),
    ],
)
def test_steps_that_were_not_judged_say_why(result, tests, expected):
    assert capability_cell(capability("hybrid-node-request", result, *tests)) == expected


# -- the terminal rendering ----------------------------------------------------------------------


def test_lines_show_a_row_per_step_and_the_reasons_of_what_is_not_yes():
    long_reason = "no address reachable from outside at boot; " + "x" * 300
    data = report(
        {
            "reference": [
                capability("hybrid-node-public-address", "passed", test("passed")),
                capability("hybrid-node-login", "passed", test("passed", answer(YES, "ok"))),
            ],
            "reference:floating-ip": [
                capability(
                    "hybrid-node-public-address",
                    "failed",
                    test("failed", answer(NO, long_reason)),
                ),
                capability(
                    "hybrid-node-login", "passed", test("passed", answer(PARTIAL, "guessed"))
                ),
            ],
        }
    )
    lines = variance_lines(data)
    assert lines[0] == f"hybrid node allocation ({HYBRID}): each step by cloud"
    assert lines[1].split() == ["step", "reference", "reference:floating-ip"]
    assert lines[2].split()[-2:] == [YES, NO]
    assert lines[2].startswith("5 get a public address")
    assert lines[3].split()[-2:] == [YES, PARTIAL]
    assert lines[4] == "why:"
    why = lines[5:]
    assert len(why) == 2  # YES cells give no reason line
    assert why[0].startswith("  5 reference:floating-ip: NO - no address reachable")
    assert why[0].endswith("...") and len(why[0]) < 220
    assert why[1] == "  6 reference:floating-ip: PARTIAL - guessed"


def test_columns_line_up_under_long_cloud_names():
    data = report(
        {
            "a-very-long-cloud-name": [capability("hybrid-keypair-add", "passed", test("passed"))],
            "b": [capability("hybrid-keypair-add", "failed", test("failed", answer(NO, "n")))],
        }
    )
    header, row = variance_lines(data)[1:3]
    assert header.index("b") == row.index(NO)
    assert header.index("a-very-long-cloud-name") == row.index(YES)


def test_to_dict_is_json_ready():
    data = report(
        {"c": [capability("hybrid-node-login", "passed", test("passed", answer(YES, "r", u=1)))]}
    )
    as_dict = hybrid_variance(data).to_dict()
    assert json.loads(json.dumps(as_dict)) == as_dict
    assert as_dict["rows"][0]["cells"]["c"] == {"result": YES, "reason": "r", "facts": {"u": 1}}


# -- a report built the way a run builds it --------------------------------------------


def test_a_report_from_the_run_pipeline_gives_the_expected_table():
    """The hybrid guideline with one test per step, outcomes as the plugin records them."""
    raw = json.loads(GUIDELINE_FILE.read_text(encoding="utf-8"))
    document = copy.deepcopy(raw)
    names = {}
    for number, step in enumerate(HYBRID_STEPS, start=1):
        name = f"tests/interop/hybrid/test_steps.py::test_step_{number}"
        uuid = f"00000000-0000-4000-8000-{number:012d}"
        document["capabilities"][step.capability]["tests"] = {name: {"idempotent_id": uuid}}
        names[step.capability] = (name, uuid)
    guideline = parse_guideline(document, path=str(GUIDELINE_FILE), sha256="0" * 64)
    clouds = ["reference", "reference:floating-ip"]

    def outcome(capability: str, cloud: str, result: str, findings=None, message=""):
        name, uuid = names[capability]
        return compliance.TestOutcome(
            f"{name}[{cloud}]", cloud, result, uuid, 0.1, message, findings or {}
        )

    outcomes = [
        outcome(step.capability, cloud, "passed", answer(YES, f"step {step.number} fine"))
        for step in HYBRID_STEPS
        for cloud in clouds
        if (step.number, cloud) != (5, "reference:floating-ip")
        and (step.number, cloud) != (8, "reference")
    ]
    outcomes.append(
        outcome(
            "hybrid-node-public-address",
            "reference:floating-ip",
            "failed",
            answer(NO, "a floating IP was needed", reachable_via="floating-ip"),
            "Failed: NO: a floating IP was needed",
        )
    )
    verdicts = compliance.evaluate(compliance.select([guideline], None), clouds, outcomes)
    data = build_report(
        run_id="20261125T120000-abcdef",
        guidelines=[guideline],
        target=None,
        started="2026-11-25T12:00:00+00:00",
        finished="2026-11-25T12:01:00+00:00",
        duration_seconds=60.0,
        interrupted=False,
        verdicts=verdicts,
        identities={},
        resources_used={},
        outcomes=outcomes,
        missing=[],
        renamed={},
    )
    assert validate_report(data) == []
    table = hybrid_variance(data)
    assert [row.step for row in table.rows] == list(range(1, 9))
    public = table.cell("hybrid-node-public-address", "reference:floating-ip")
    assert public == Cell(NO, "a floating IP was needed", {"reachable_via": "floating-ip"})
    assert table.cell("hybrid-node-public-address", "reference").result == YES
    assert table.cell("hybrid-keypair-remove", "reference").result == NOT_RUN
    assert table.cell("hybrid-keypair-remove", "reference:floating-ip").reason == "step 8 fine"
