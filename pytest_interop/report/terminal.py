"""The terminal summary of a guideline run, rendered from the JSON report's data."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_interop.partial import deselected_names, left_out_count

RESULT_MARKS = {
    "passed": "PASS",
    "failed": "FAIL",
    "error": "ERR",
    "not_run": "-",
    "not_applicable": "n/a",
    "missing": "MISS",
}


def summary_lines(report: Mapping[str, Any]) -> list[str]:
    """One block per cloud; with several clouds, a capability-by-cloud matrix first."""
    guidelines = " + ".join(g["id"] for g in report["guidelines"])
    target = report["target"] or "all components"
    lines = [f"guideline {guidelines}, target {target!r}"]
    if report.get("interrupted"):
        lines.append("run INTERRUPTED: the results below are partial")
    shard = report.get("selection", {}).get("shard")
    if shard:
        lines.append(
            f"shard {shard['index']}/{shard['count']} (plan {shard.get('plan', '?')}): the other "
            "shards' tests are not run here; `interop report merge` joins the shards' reports"
        )
    lines.extend(partial_lines(report))
    left_out = deselected_names(report)
    clouds = report["clouds"]
    if len(clouds) > 1:
        lines.extend(matrix_lines(report))
    for cloud in clouds:
        lines.append("")
        required, advisory = cloud["required"], cloud["advisory"]
        verdict = cloud["verdict"].upper()
        lines.append(
            f"{cloud['name']}: {verdict}  required {required['passed']}/{required['total']} "
            f"passed, advisory {advisory['passed']}/{advisory['total']} passed"
        )
        skipped = 0
        for capability in cloud["capabilities"]:
            if not capability["counted"] or capability["result"] == "passed":
                continue
            if only_deselected(capability, left_out.get(cloud["name"], set())):
                skipped += 1
                continue
            first = next(
                (t for t in capability["tests"] if not t["flagged"] and t["result"] != "passed"),
                None,
            )
            why = ""
            if first is not None:
                reason = (first.get("message") or "").strip().splitlines()
                why = f": {first['name']}" + (f" - {reason[0][:160]}" if reason else "")
            lines.append(f"  {capability['result'].upper():<14} {capability['name']}{why}")
        if skipped:
            lines.append(f"  NOT RUN (deselected) {skipped} required or deprecated capabilities")
        if cloud["verdict"] == "inconclusive":
            lines.append(
                "  INCONCLUSIVE: every failure is an infrastructure error (the cloud failed, "
                "not a capability); run again when the cloud is healthy"
            )
        resources = cloud.get("resources") or {}
        if resources.get("leaked"):
            lines.append(f"  LEAKED {resources['leaked']} resources: run `interop cleanup`")
        if resources.get("unconfirmed"):
            lines.append(
                f"  UNCONFIRMED {resources['unconfirmed']} resources: the cloud could not be "
                "asked whether they are gone; run `interop cleanup --cloud "
                f"{cloud['name']} --run-id {report.get('run_id')}`"
            )
    missing = report["selection"]["missing"]
    if missing:
        lines.append("")
        lines.append(f"{len(missing)} guideline tests are missing from this suite")
    renamed = report["selection"]["renamed"]
    for old, new in renamed.items():
        lines.append(f"renamed: {old} -> {new}")
    return lines


def partial_lines(report: Mapping[str, Any]) -> list[str]:
    """What a partial or merged report must say first."""
    lines = []
    merged = report.get("merged_from") or []
    if merged:
        runs = ", ".join(f"{m['run_id']} ({m['outcomes']} outcomes)" for m in merged)
        lines.append(f"merged from {len(merged)} runs: {runs}")
    if report.get("partial"):
        selection = report["selection"]
        left_out = deselected_names(report)
        count = left_out_count(report)
        how = ", ".join(selection.get("narrowed_by") or []) or "a selection"
        on = f"{len(left_out)} clouds" if len(left_out) > 1 else next(iter(left_out), "")
        lines.append(
            f"PARTIAL run ({how}): {count} guideline tests not run (deselected) on {on}; the "
            "verdict is INCOMPLETE and certifies nothing: run the rest and combine the reports "
            "with `interop report merge`"
        )
    return lines


def only_deselected(capability: Mapping[str, Any], left_out: set[str]) -> bool:
    """A capability that is not passed only because the user left its tests out."""
    pending = [t for t in capability["tests"] if not t["flagged"] and t["result"] != "passed"]
    return bool(pending) and all(
        t["result"] == "not_run" and t["name"] in left_out for t in pending
    )


def matrix_lines(report: Mapping[str, Any]) -> list[str]:
    clouds = report["clouds"]
    names = [c["name"] for c in clouds]
    left_out = deselected_names(report)
    rows: dict[tuple[str, str], dict[str, str]] = {}
    for cloud in clouds:
        for capability in cloud["capabilities"]:
            key = (capability["name"], capability["status"])
            mark = RESULT_MARKS[capability["result"]]
            if only_deselected(capability, left_out.get(cloud["name"], set())):
                mark = "desel"
            rows.setdefault(key, {})[cloud["name"]] = mark
    width = max((len(name) for name, _ in rows), default=10)
    columns = [max(len(n), 4) for n in names]
    header = f"{'capability':<{width}}  {'status':<10} " + " ".join(
        f"{n:>{w}}" for n, w in zip(names, columns, strict=True)
    )
    lines = ["", header]
    for (name, status), cells in rows.items():
        marks = " ".join(f"{cells.get(n, ''):>{w}}" for n, w in zip(names, columns, strict=True))
        lines.append(f"{name:<{width}}  {status:<10} {marks}")
    return lines
