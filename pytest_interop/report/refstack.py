"""The upload format RefStack's server accepted, made from a report.

refstack-client posted ``{"cpid": ..., "duration_seconds": <int>, "results": [{"name": ...,
"uuid": ...}]}`` with the *passed* tests only; the server counted every required test absent
from the list as failed. ``cpid`` was the cloud's Keystone identity service id.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pytest_interop import compliance
from pytest_interop.errors import ConfigurationError
from pytest_interop.report.json_report import write_atomic


def _choose_cloud(report: Mapping[str, Any], cloud: str | None) -> Mapping[str, Any]:
    names = [c["name"] for c in report["clouds"]]
    if cloud is None:
        if len(names) != 1:
            raise ConfigurationError(
                f"the report has {len(names)} clouds ({', '.join(names) or 'none'}); "
                "choose one with --cloud NAME"
            )
        return report["clouds"][0]
    for entry in report["clouds"]:
        if entry["name"] == cloud:
            return entry
    raise ConfigurationError(f"--cloud {cloud}: not in the report (it has {', '.join(names)})")


def cloud_provider_id(identity: Mapping[str, Any]) -> str | None:
    """The cloud's own id when the report knows it, else an md5 of its identity endpoint
    (what refstack-client fell back to when the catalog had no identity service id)."""
    if identity.get("cpid"):
        return str(identity["cpid"])
    endpoint = identity.get("auth_url") or identity.get("endpoint_url")
    if endpoint:
        return hashlib.md5(str(endpoint).encode(), usedforsecurity=False).hexdigest()
    return None


def passed_tests(report: Mapping[str, Any], cloud: str) -> list[dict[str, str]]:
    """One entry per test that passed on ``cloud`` (every parametrized item of it passed)."""
    by_test: dict[str, list[compliance.TestOutcome]] = {}
    for raw in report["outcomes"]:
        outcome = compliance.TestOutcome.from_dict(raw)
        if outcome.cloud == cloud:
            by_test.setdefault(outcome.test_name, []).append(outcome)
    results = []
    for name, outcomes in sorted(by_test.items()):
        if all(o.outcome == compliance.PASSED for o in outcomes):
            entry = {"name": name}
            uuid = next((o.idempotent_id for o in outcomes if o.idempotent_id), None)
            if uuid:
                entry["uuid"] = uuid
            results.append(entry)
    return results


def refstack_upload(
    report: Mapping[str, Any], cloud: str | None = None, cpid: str | None = None
) -> dict[str, Any]:
    """RefStack's upload document for one cloud of ``report``."""
    chosen = _choose_cloud(report, cloud)
    provider_id = cpid or cloud_provider_id(chosen.get("identity") or {})
    if not provider_id:
        raise ConfigurationError(
            f"cloud {chosen['name']}: the report has no auth_url to derive a cloud provider id "
            "from; pass --cpid (RefStack used the Keystone identity service id)"
        )
    return {
        "cpid": provider_id,
        "duration_seconds": int(report["duration_seconds"]),
        "results": passed_tests(report, chosen["name"]),
    }


def write_refstack(
    path: str | os.PathLike[str],
    report: Mapping[str, Any],
    cloud: str | None = None,
    cpid: str | None = None,
) -> Path:
    return write_atomic(path, json.dumps(refstack_upload(report, cloud, cpid), indent=4) + "\n")
