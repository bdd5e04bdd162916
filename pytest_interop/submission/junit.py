"""JUnit XML from a report's raw outcomes, for a bundle made without pytest's own file."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

from pytest_interop import compliance


def _classname_and_name(nodeid: str) -> tuple[str, str]:
    """``tests/interop/a/test_b.py::TestC::test_d[x]`` -> (``tests.interop.a.test_b.TestC``,
    ``test_d[x]``), as pytest's own junitxml names test cases."""
    path, _, rest = nodeid.partition("::")
    parts = rest.split("::") if rest else [nodeid]
    module = path.removesuffix(".py").replace("/", ".")
    return ".".join([module, *parts[:-1]]), parts[-1]


def junit_xml(report: Mapping[str, Any]) -> str:
    """One ``testsuite`` per cloud, one ``testcase`` per outcome."""
    root = ET.Element("testsuites", name="pytest-interop", run_id=str(report.get("run_id", "")))
    clouds = [c["name"] for c in report.get("clouds", [])]
    for outcome in report.get("outcomes", []):
        if outcome["cloud"] not in clouds:
            clouds.append(outcome["cloud"])
    for cloud in clouds:
        outcomes = [
            compliance.TestOutcome.from_dict(o)
            for o in report.get("outcomes", [])
            if o["cloud"] == cloud
        ]
        suite = ET.SubElement(root, "testsuite", name=f"interop[{cloud}]")
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        total_time = 0.0
        for outcome in outcomes:
            classname, name = _classname_and_name(outcome.nodeid)
            case = ET.SubElement(
                suite, "testcase", classname=classname, name=name, time=f"{outcome.duration:.3f}"
            )
            properties = ET.SubElement(case, "properties")
            ET.SubElement(properties, "property", name="cloud", value=cloud)
            if outcome.idempotent_id:
                ET.SubElement(
                    properties, "property", name="idempotent_id", value=outcome.idempotent_id
                )
            for key, value in sorted(outcome.findings.items()):
                ET.SubElement(properties, "property", name=f"finding:{key}", value=str(value))
            counts["tests"] += 1
            total_time += outcome.duration
            first_line = outcome.message.strip().splitlines()[0] if outcome.message else ""
            if outcome.outcome == compliance.FAILED:
                counts["failures"] += 1
                element = ET.SubElement(case, "failure", message=first_line)
                element.text = outcome.message
            elif outcome.outcome == compliance.ERROR:
                counts["errors"] += 1
                element = ET.SubElement(
                    case, "error", message=first_line, type=outcome.error_kind or "error"
                )
                element.text = outcome.message + (f"\ncall: {outcome.call}" if outcome.call else "")
            elif outcome.outcome in (compliance.SKIPPED, compliance.NOT_APPLICABLE):
                counts["skipped"] += 1
                ET.SubElement(
                    case,
                    "skipped",
                    type=outcome.outcome,
                    message=first_line or outcome.outcome.replace("_", " "),
                )
        suite.set("time", f"{total_time:.3f}")
        for key, value in counts.items():
            suite.set(key, str(value))
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
