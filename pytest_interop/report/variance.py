"""The variance table of the hybrid add-on: the eight node-allocation steps, per cloud.

Rendered from the JSON report (the canonical record), like every other view. A cell is the
step's answer on one cloud, YES / NO / PARTIAL with the reason, as the 2016 comparison of
OpenStack clouds put it. It comes from two sources:

- the capability's result (passed, failed, ...), which is authoritative for pass or fail;
- the findings its tests recorded under :data:`RESULT_KEY` and :data:`REASON_KEY`, which say
  *how* it passed or failed: a passed test may report PARTIAL (it worked, but only with a
  guess), a failed one PARTIAL (some of the step worked) rather than NO.

A claim that contradicts the result is not believed: a passed capability is never NO, a
failed one never YES. Capabilities that did not run show why (N/A, ERROR, MISSING, NOT RUN).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# Findings the hybrid tests record (see pytest_interop/suite/hybrid/).
FINDING_PREFIX = "hybrid."
STEP_KEY = "hybrid.step"
RESULT_KEY = "hybrid.result"
REASON_KEY = "hybrid.reason"

YES, NO, PARTIAL = "YES", "NO", "PARTIAL"
NOT_APPLICABLE, ERROR, MISSING, NOT_RUN = "N/A", "ERROR", "MISSING", "NOT RUN"
STEP_RESULTS = (YES, NO, PARTIAL)
_BADNESS = {YES: 0, PARTIAL: 1, NO: 2}

GUIDELINE_PREFIX = "hybrid."  # ids of the hybrid add-on guidelines: hybrid.2017.01, ...
REASON_WIDTH = 160  # characters of a reason shown on the terminal


@dataclass(frozen=True)
class Step:
    number: int
    capability: str
    title: str


HYBRID_STEPS: tuple[Step, ...] = (
    Step(1, "hybrid-keypair-add", "add a node-specific SSH key"),
    Step(2, "hybrid-discovery-read", "read networks, flavors and images"),
    Step(3, "hybrid-discovery-pick", "pick network, flavor and image"),
    Step(4, "hybrid-node-request", "request the node and wait for it"),
    Step(5, "hybrid-node-public-address", "get a public address, no extra steps"),
    Step(6, "hybrid-node-login", "log in with the node key"),
    Step(7, "hybrid-root-key-password-off", "add a root key, turn password login off"),
    Step(8, "hybrid-keypair-remove", "remove the node key, still log in as root"),
)
STEP_BY_CAPABILITY: Mapping[str, Step] = {step.capability: step for step in HYBRID_STEPS}


@dataclass(frozen=True)
class Cell:
    """One step on one cloud: YES / NO / PARTIAL (or N/A, ERROR, MISSING, NOT RUN), and why."""

    result: str
    reason: str = ""
    facts: Mapping[str, Any] = field(default_factory=dict)  # the tests' other hybrid.* findings


@dataclass(frozen=True)
class VarianceRow:
    step: int | None  # None for a capability of the add-on that is not one of the eight
    name: str
    capability: str
    cells: Mapping[str, Cell]  # cloud name -> cell


@dataclass(frozen=True)
class VarianceTable:
    guideline: str | None  # None when the report has no hybrid add-on
    clouds: tuple[str, ...]
    rows: tuple[VarianceRow, ...]

    @property
    def empty(self) -> bool:
        return not self.rows

    def cell(self, capability: str, cloud: str) -> Cell:
        for row in self.rows:
            if row.capability == capability:
                return row.cells[cloud]
        raise KeyError(capability)

    def to_dict(self) -> dict[str, Any]:
        return {
            "guideline": self.guideline,
            "clouds": list(self.clouds),
            "rows": [
                {
                    "step": row.step,
                    "name": row.name,
                    "capability": row.capability,
                    "cells": {
                        cloud: {"result": c.result, "reason": c.reason, "facts": dict(c.facts)}
                        for cloud, c in row.cells.items()
                    },
                }
                for row in self.rows
            ],
        }


def hybrid_guideline_id(report: Mapping[str, Any]) -> str | None:
    """The id of the report's hybrid add-on guideline, or None."""
    for guideline in report.get("guidelines") or ():
        if str(guideline.get("id", "")).startswith(GUIDELINE_PREFIX):
            return str(guideline["id"])
    return None


def _one_line(text: Any) -> str:
    lines = [line.strip() for line in str(text or "").strip().splitlines() if line.strip()]
    return lines[0] if lines else ""


def _claim(test: Mapping[str, Any]) -> str | None:
    value = (test.get("findings") or {}).get(RESULT_KEY)
    text = str(value).upper() if value is not None else None
    return text if text in STEP_RESULTS else None


def _reason(test: Mapping[str, Any]) -> str:
    findings = test.get("findings") or {}
    return _one_line(findings.get(REASON_KEY)) or _one_line(test.get("message"))


def _facts(tests: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    for test in tests:
        for key, value in (test.get("findings") or {}).items():
            if key.startswith(FINDING_PREFIX) and key not in (STEP_KEY, RESULT_KEY, REASON_KEY):
                facts.setdefault(key[len(FINDING_PREFIX) :], value)
    return facts


def _judged(tests: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The tests that count; all of them when every one is flagged."""
    counted = [t for t in tests if not t.get("flagged")]
    return counted or list(tests)


def capability_cell(capability: Mapping[str, Any]) -> Cell:
    """The cell of one capability result (a ``capabilities[]`` entry of a report cloud)."""
    result = capability.get("result")
    tests = _judged(capability.get("tests") or [])
    facts = _facts(tests)
    if result == "passed":
        claims = [(c, t) for t in tests if (c := _claim(t)) in (YES, PARTIAL)]
        if not claims:
            reason = next((r for t in tests if (r := _reason(t))), "")
            return Cell(YES, reason, facts)
        verdict, test = max(claims, key=lambda item: _BADNESS[item[0]])
        return Cell(verdict, _reason(test), facts)
    if result == "failed":
        failing = [t for t in tests if t.get("result") != "passed"] or tests
        # a failed test that claimed YES failed after its claim: it is a NO
        claims = [(_claim(t) if _claim(t) in (NO, PARTIAL) else NO, t) for t in failing]
        verdict, test = max(claims, key=lambda item: _BADNESS[item[0]])
        return Cell(verdict, _reason(test), facts)
    if result == "error":
        broken = next((t for t in tests if t.get("result") == "error"), tests[0] if tests else {})
        call = broken.get("call")
        where = f"infrastructure error in {call}" if call else "error"
        message = _one_line(broken.get("message"))
        return Cell(ERROR, f"{where}: {message}" if message else where, facts)
    if result == "not_applicable":
        message = next((m for t in tests if (m := _one_line(t.get("message")))), "")
        return Cell(NOT_APPLICABLE, message, facts)
    if result == "missing":
        return Cell(MISSING, "no test for this step in the suite", facts)
    return Cell(NOT_RUN, "not run on this cloud", facts)


def hybrid_variance(report: Mapping[str, Any]) -> VarianceTable:
    """The eight steps (rows, in order) by cloud (columns), from a JSON report dict.

    An empty table (``table.empty``) when the report has no hybrid add-on guideline.
    """
    guideline = hybrid_guideline_id(report)
    clouds = tuple(str(c["name"]) for c in report.get("clouds") or ())
    if guideline is None:
        return VarianceTable(None, clouds, ())
    by_cloud: dict[str, dict[str, Mapping[str, Any]]] = {}
    order: list[str] = []  # capabilities in report order, for those that are not known steps
    for cloud in report.get("clouds") or ():
        found = by_cloud.setdefault(str(cloud["name"]), {})
        for capability in cloud.get("capabilities") or ():
            if capability.get("guideline") != guideline:
                continue
            found[capability["name"]] = capability
            if capability["name"] not in order:
                order.append(capability["name"])
    known = [s.capability for s in HYBRID_STEPS if s.capability in order]
    extra = [name for name in order if name not in STEP_BY_CAPABILITY]
    rows = []
    for name in [*known, *extra]:
        step = STEP_BY_CAPABILITY.get(name)
        cells = {
            cloud: (
                capability_cell(by_cloud[cloud][name])
                if name in by_cloud.get(cloud, {})
                else Cell(NOT_RUN, "not part of this cloud's run")
            )
            for cloud in clouds
        }
        rows.append(
            VarianceRow(
                step=step.number if step else None,
                name=step.title if step else name,
                capability=name,
                cells=cells,
            )
        )
    return VarianceTable(guideline, clouds, tuple(rows))


def variance_lines(report: Mapping[str, Any]) -> list[str]:
    """The variance table for the terminal; an empty list when there is no hybrid add-on."""
    table = hybrid_variance(report)
    if table.empty:
        return []
    labels = [f"{row.step or '-'} {row.name}" for row in table.rows]
    width = max(len(label) for label in [*labels, "step"])
    columns = [max(len(cloud), len(PARTIAL), len(NOT_RUN)) for cloud in table.clouds]
    lines = [
        f"hybrid node allocation ({table.guideline}): each step by cloud",
        f"{'step':<{width}}  "
        + "  ".join(f"{c:<{w}}" for c, w in zip(table.clouds, columns, strict=True)),
    ]
    for label, row in zip(labels, table.rows, strict=True):
        marks = [row.cells[c].result for c in table.clouds]
        lines.append(
            f"{label:<{width}}  "
            + "  ".join(f"{m:<{w}}" for m, w in zip(marks, columns, strict=True)).rstrip()
        )
    notes = [
        (row, cloud, row.cells[cloud])
        for row in table.rows
        for cloud in table.clouds
        if row.cells[cloud].result != YES and row.cells[cloud].reason
    ]
    if notes:
        lines.append("why:")
        for row, cloud, cell in notes:
            reason = cell.reason
            if len(reason) > REASON_WIDTH:
                reason = reason[: REASON_WIDTH - 3] + "..."
            lines.append(f"  {row.step or '-'} {cloud}: {cell.result} - {reason}")
    return lines
