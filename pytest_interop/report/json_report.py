"""The JSON report: the canonical record every other rendering is made from."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import IO, Any

import jsonschema
import pytest

from pytest_interop import __version__, compliance
from pytest_interop.documents import loads_json
from pytest_interop.guideline.model import Guideline
from pytest_interop.outputs import refuse_non_regular

REPORT_FORMAT = "pytest-interop/report/1"


@cache
def report_schema() -> dict[str, Any]:
    text = resources.files("pytest_interop.report").joinpath("schemas/report.schema.json")
    return json.loads(text.read_text(encoding="utf-8"))


def validate_report(data: Mapping[str, Any]) -> list[str]:
    """Every schema error as ``path: message``; empty when the report is valid."""
    validator = jsonschema.Draft202012Validator(report_schema())
    return [
        f"{'/'.join(str(p) for p in error.absolute_path) or '(root)'}: {error.message}"
        for error in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    ]


def _test_dict(test: compliance.TestResult) -> dict[str, Any]:
    return {
        "name": test.name,
        "idempotent_id": test.idempotent_id,
        "result": test.result,
        "flagged": dict(test.flagged) if test.flagged else None,
        "nodeids": list(test.nodeids),
        "duration": round(test.duration, 3),
        "message": test.message,
        "findings": dict(test.findings),
        "error_kind": test.error_kind,
        "call": test.call,
    }


def _cloud_dict(
    verdict: compliance.CloudVerdict,
    identity: Mapping[str, Any],
    resources_used: Mapping[str, int],
) -> dict[str, Any]:
    required_passed, required_total = verdict.tally(counted=True)
    advisory_passed, advisory_total = verdict.tally(counted=False)
    return {
        "name": verdict.cloud,
        "identity": dict(identity),
        "verdict": verdict.verdict,
        "required": {"passed": required_passed, "total": required_total},
        "advisory": {"passed": advisory_passed, "total": advisory_total},
        "resources": dict(resources_used),
        "capabilities": [
            {
                "guideline": c.guideline,
                "name": c.name,
                "status": c.status,
                "counted": c.counted,
                "result": c.result,
                "tests": [_test_dict(t) for t in c.tests],
            }
            for c in verdict.capabilities
        ],
    }


def build_report(
    *,
    run_id: str,
    guidelines: Sequence[Guideline],
    target: str | None,
    started: str,
    finished: str,
    duration_seconds: float,
    interrupted: bool,
    verdicts: Sequence[compliance.CloudVerdict],
    identities: Mapping[str, Mapping[str, Any]],
    resources_used: Mapping[str, Mapping[str, int]],
    outcomes: Sequence[compliance.TestOutcome],
    missing: Sequence[str],
    renamed: Mapping[str, str],
    deselected: Mapping[str, Sequence[str]] | None = None,
    narrowed_by: Sequence[str] = (),
) -> dict[str, Any]:
    """``deselected``: per cloud, the guideline tests the user left out that never ran
    (pytest_interop.partial); any makes the report ``partial``."""
    deselected = {cloud: sorted(ids) for cloud, ids in sorted((deselected or {}).items()) if ids}
    return {
        "format": REPORT_FORMAT,
        "tool": {"name": "pytest-interop", "version": __version__, "pytest": pytest.__version__},
        "run_id": run_id,
        "guidelines": [
            {
                "id": g.id,
                "schema": g.schema,
                "status": g.status,
                "sha256": g.sha256,
                "file": Path(g.path).name if g.path else None,
                "add_on": g.is_add_on,
            }
            for g in guidelines
        ],
        "target": target,
        "started": started,
        "finished": finished,
        "duration_seconds": round(duration_seconds, 3),
        "interrupted": interrupted,
        "partial": bool(deselected),
        "clouds": [
            _cloud_dict(
                v,
                identities.get(v.cloud, {"name": v.cloud}),
                resources_used.get(v.cloud, {"created": 0, "deleted": 0, "leaked": 0}),
            )
            for v in verdicts
        ],
        "selection": {
            "missing": sorted(missing),
            "renamed": dict(sorted(renamed.items())),
            "deselected": deselected,
            "narrowed_by": list(narrowed_by) if deselected else [],
        },
        "outcomes": [o.to_dict() for o in sorted(outcomes, key=lambda o: o.nodeid)],
    }


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike[str]) -> Iterator[IO[str]]:
    """A text handle whose content replaces ``path`` whole when the block ends cleanly.

    Readers see the old file or the whole new one, never half; on error nothing changes.
    """
    target = Path(path)
    refuse_non_regular(target)  # a rename over a device node or FIFO would replace it
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_atomic(path: str | os.PathLike[str], text: str) -> Path:
    with atomic_writer(path) as handle:
        handle.write(text)
    return Path(path)


def write_report(path: str | os.PathLike[str], data: Mapping[str, Any]) -> Path:
    # Compact: only then does json use its C encoder (7x faster on a 20,000-test report).
    # People read the terminal summary or the HTML page; `python -m json.tool` pretty-prints.
    return write_atomic(path, json.dumps(data) + "\n")


def load_report(path: str | os.PathLike[str]) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        return loads_json(handle.read())  # NestingError (a ValueError) if absurdly deep
