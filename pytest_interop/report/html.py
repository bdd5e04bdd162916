"""The HTML compliance report: one self-contained page rendered from the JSON report.

The page has no external resource (inline CSS and JS, a Content-Security-Policy that forbids
fetching anything), so it can be mailed, attached to CI runs and opened offline.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from pytest_interop.partial import deselected_names
from pytest_interop.report.json_report import write_atomic
from pytest_interop.report.terminal import only_deselected, partial_lines
from pytest_interop.report.variance import (
    REASON_KEY,
    RESULT_KEY,
    STEP_KEY,
    VarianceTable,
    hybrid_variance,
)

# result -> (label in a matrix cell, short explanation)
RESULT_LABELS: dict[str, tuple[str, str]] = {
    "passed": ("pass", "every counted test passed"),
    "failed": ("FAIL", "a counted test failed"),
    "error": ("ERROR", "the cloud's infrastructure failed during a test"),
    "not_run": ("not run", "skipped or never reached"),
    "not_applicable": ("n/a", "the cloud lacks this facet"),
    "missing": ("missing", "the suite lacks a guideline test: counts as not passed"),
}
NOT_GOOD = frozenset({"failed", "error", "missing", "not_run"})
# Findings that are a hybrid step's answer, shown in the step table rather than as facts.
STEP_ANSWER_KEYS = frozenset({STEP_KEY, RESULT_KEY, REASON_KEY})
# hybrid step answer -> CSS class
STEP_CLASSES = {
    "YES": "passed",
    "NO": "failed",
    "PARTIAL": "partial",
    "N/A": "not_applicable",
    "ERROR": "error",
    "MISSING": "missing",
    "NOT RUN": "not_run",
}
# Keys the report schema leaves optional on a test result.
TEST_DEFAULTS: dict[str, Any] = {
    "message": "",
    "findings": {},
    "error_kind": None,
    "call": None,
    "idempotent_id": None,
}


@dataclass
class Cell:
    result: str
    label: str
    flagged: bool
    title: str
    anchor: str | None = None


@dataclass
class MatrixRow:
    guideline: str
    name: str
    status: str
    counted: bool
    cells: list[Cell | None]
    failing: bool


@dataclass
class Failure:
    anchor: str
    cloud: str
    capability: str
    status: str
    counted: bool
    test: Mapping[str, Any]
    findings: list[tuple[str, str]]


@dataclass
class VarianceRow:
    key: str
    values: list[str]
    differs: bool


@dataclass
class CloudCard:
    name: str
    verdict: str
    required: Mapping[str, int]
    advisory: Mapping[str, int]
    where: str  # provider and region, as the identity names them
    leaked: int


@dataclass
class View:
    report: Mapping[str, Any]
    clouds: list[CloudCard]
    rows: list[MatrixRow] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    variance: list[VarianceRow] = field(default_factory=list)
    steps: VarianceTable | None = None  # the hybrid add-on's node-allocation steps


def _value_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _cell_title(cloud: str, capability: Mapping[str, Any]) -> str:
    label = RESULT_LABELS.get(capability["result"], (capability["result"], ""))[1]
    lines = [f"{capability['name']} on {cloud}: {capability['result'].replace('_', ' ')} ({label})"]
    for test in capability["tests"]:
        flag = " [flagged: does not count]" if test.get("flagged") else ""
        lines.append(f"{test['result']}: {test['name']}{flag}")
    return "\n".join(lines)


def _card(cloud: Mapping[str, Any]) -> CloudCard:
    identity = cloud.get("identity") or {}
    region = identity.get("region_name") or identity.get("region")
    return CloudCard(
        name=cloud["name"],
        verdict=cloud["verdict"],
        required=cloud["required"],
        advisory=cloud["advisory"],
        where=" \u00b7 ".join(str(p) for p in (identity.get("provider"), region) if p),
        leaked=int((cloud.get("resources") or {}).get("leaked") or 0),
    )


def build_view(report: Mapping[str, Any]) -> View:
    clouds = list(report["clouds"])
    view = View(report=report, clouds=[_card(cloud) for cloud in clouds])
    left_out = deselected_names(report)
    rows: dict[tuple[str, str], MatrixRow] = {}
    for column, cloud in enumerate(clouds):
        for capability in cloud["capabilities"]:
            key = (capability["guideline"], capability["name"])
            row = rows.get(key)
            if row is None:
                row = MatrixRow(
                    guideline=capability["guideline"],
                    name=capability["name"],
                    status=capability["status"],
                    counted=capability["counted"],
                    cells=[None] * len(clouds),
                    failing=False,
                )
                rows[key] = row
            anchor = None
            deselected = left_out.get(cloud["name"], set())
            for test in capability["tests"]:
                if test["result"] in ("passed", "not_applicable"):
                    continue
                if test["result"] == "not_run" and test["name"] in deselected:
                    continue  # left out by the user: the banner says so, not a failure
                anchor = anchor or f"failure-{len(view.failures)}"
                view.failures.append(
                    Failure(
                        anchor=f"failure-{len(view.failures)}",
                        cloud=cloud["name"],
                        capability=capability["name"],
                        status=capability["status"],
                        counted=capability["counted"],
                        test={**TEST_DEFAULTS, **test},
                        findings=[
                            (k, _value_text(v))
                            for k, v in sorted((test.get("findings") or {}).items())
                        ],
                    )
                )
            result = capability["result"]
            label = RESULT_LABELS.get(result, (result, ""))[0]
            if result == "not_run" and only_deselected(capability, deselected):
                label = "deselected"
            row.cells[column] = Cell(
                result=result,
                label=label,
                flagged=any(t.get("flagged") for t in capability["tests"]),
                title=_cell_title(cloud["name"], capability),
                anchor=anchor,
            )
            row.failing = row.failing or result in NOT_GOOD
    view.rows = list(rows.values())
    view.variance = variance_rows(report)
    steps = hybrid_variance(report)
    view.steps = None if steps.empty else steps
    return view


def variance_rows(report: Mapping[str, Any]) -> list[VarianceRow]:
    """Finding key -> what each cloud observed (distinct values joined), and whether they differ."""
    names = [c["name"] for c in report["clouds"]]
    observed: dict[str, dict[str, list[str]]] = {}
    for outcome in report["outcomes"]:
        for key, value in (outcome.get("findings") or {}).items():
            if key in STEP_ANSWER_KEYS:
                continue
            values = observed.setdefault(key, {}).setdefault(outcome["cloud"], [])
            text = _value_text(value)
            if text not in values:
                values.append(text)
    rows = []
    for key in sorted(observed):
        per_cloud = [", ".join(observed[key].get(name, [])) for name in names]
        seen = {v for v in per_cloud if v}
        rows.append(VarianceRow(key, per_cloud, len(seen) > 1 or "" in per_cloud))
    return rows


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("pytest_interop.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(report: Mapping[str, Any]) -> str:
    """The whole page for a JSON report (as ``json_report.build_report`` makes it)."""
    view = build_view(report)
    template = _environment().get_template("report.html.j2")
    return template.render(
        view=view,
        report=report,
        labels=RESULT_LABELS,
        step_classes=STEP_CLASSES,
        partial_lines=partial_lines(report),
    )


def write_html(path: str | os.PathLike[str], report: Mapping[str, Any]) -> Path:
    return write_atomic(path, render_html(report))
