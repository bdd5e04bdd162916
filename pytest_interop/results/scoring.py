"""Scoring from data: ``interop guideline score GUIDELINE --results URL|DB --out FILE``.

The "widely deployed" criterion (``deployed``) of each capability is filled from stored
results: a capability is widely deployed when at least ``min_products`` products ran it and
at least ``threshold`` of them passed it (each product counted once, by its latest run; a
product that lacks the facet, *not applicable*, counts as not deploying it). The proposal is a
copy of the guideline with

- ``deployed`` added to capabilities that earn it, and taken from those the data contradicts;
- advisory capabilities that now reach the cutoff moved to required, when the guideline they
  follow already listed them (a new capability enters as advisory: lint's rule);
- required tests that fail on at least ``flag_threshold`` of the products that ran them
  flagged, with the evidence in the flag's reason, as candidates for the committee.

Every change comes with its evidence; the file passes ``interop guideline lint``.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_interop.errors import ConfigurationError
from pytest_interop.guideline.loading import load_guideline
from pytest_interop.guideline.model import Guideline
from pytest_interop.guideline.score import all_statuses

DEPLOYED = "deployed"
FAILED = frozenset({"failed", "error"})


@dataclass(frozen=True)
class Rule:
    threshold: float = 0.5
    min_products: int = 2
    flag_threshold: float = 0.5

    def describe(self) -> str:
        return (
            f"widely deployed = passed on at least {self.threshold:.0%} of the products that ran "
            f"it (not applicable counts as not deployed), with at least {self.min_products} "
            f"products; a required test is a flag candidate when it fails on at least "
            f"{self.flag_threshold:.0%} of the products that ran it (at least "
            f"{self.min_products})"
        )


@dataclass
class Evidence:
    adoption: list[dict[str, Any]]
    tests: list[dict[str, Any]]
    source: str


@dataclass
class Proposal:
    rule: Rule
    data: dict[str, Any]
    changes: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)  # qualifies, but not changed


def _get_json(url: str) -> Any:
    try:
        with urllib.request.urlopen(url, timeout=120) as response:
            return json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise ConfigurationError(f"--results {url}: cannot read it ({exc})") from None


def fetch(source: str) -> Evidence:
    """Adoption and test results from a running service (URL) or its database (file or URL)."""
    if source.startswith(("http://", "https://")):
        base = source.rstrip("/")
        return Evidence(_get_json(base + "/api/v1/adoption"), _get_json(base + "/api/v1/tests"),
                        base)  # fmt: skip
    try:
        from pytest_interop.results import db, queries
    except ImportError as exc:
        raise ConfigurationError(
            f"--results {source}: reading a database needs the results extra "
            f"(pip install 'pytest-interop[results]'; {exc.name} is missing)"
        ) from None
    url = db.database_url(source)
    if "://" not in source and not Path(source).is_file():
        raise ConfigurationError(f"--results {source}: no such database file or URL")
    with db.open_database(url)() as session:
        return Evidence(queries.adoption(session), queries.test_results(session), db.redacted(url))


def _share(passed: int, total: int) -> str:
    return f"{passed} of {total}"


def propose(guideline: Guideline, evidence: Evidence, rule: Rule, today: dt.date) -> Proposal:
    if guideline.path is None:
        raise ConfigurationError(f"guideline {guideline.id}: no file to base a proposal on")
    data = json.loads(Path(guideline.path).read_text(encoding="utf-8"))
    proposal = Proposal(rule, copy.deepcopy(data))
    capabilities = proposal.data["capabilities"]
    criteria = guideline.criteria
    weight = {name: int(c.get("weight", 0)) for name, c in criteria.items()}
    statuses = all_statuses(guideline)
    previous = _previous_statuses(guideline)
    adoption = {a["capability"]: a for a in evidence.adoption}

    for name, capability in capabilities.items():
        seen = adoption.get(name)
        if seen is None or DEPLOYED not in criteria:
            continue
        passed, total = seen["overall"]["passed"], seen["overall"]["total"]
        if total < rule.min_products:
            continue
        deployed = passed / total >= rule.threshold
        achievements = list(capability.get("achievements", []))
        had = DEPLOYED in achievements
        before = sum(weight.get(a, 0) for a in achievements)
        if deployed and not had:
            achievements.append(DEPLOYED)
        elif had and not deployed:
            achievements.remove(DEPLOYED)
        after = sum(weight.get(a, 0) for a in achievements)
        why = {"passed": passed, "total": total, "failing_products": seen["failing_products"],
               "by_kind": seen["by_kind"]}  # fmt: skip
        if had != deployed:
            capability["achievements"] = achievements
            proposal.changes.append({
                "change": "add-achievement" if deployed else "remove-achievement",
                "capability": name, "criterion": DEPLOYED, "score": [before, after],
                "evidence": why,
                "summary": f"{name}: {'adds' if deployed else 'loses'} '{DEPLOYED}' (passed on "
                           f"{_share(passed, total)} products); score {before} -> {after}",
            })  # fmt: skip
        if statuses.get(name) == "advisory" and deployed and guideline.cutoff_score is not None:
            if after < guideline.cutoff_score:
                continue
            if name in previous:
                _promote(proposal.data, name)
                proposal.changes.append({
                    "change": "promote", "capability": name, "score": [before, after],
                    "evidence": why,
                    "summary": f"{name}: advisory -> required (score {after} >= cutoff "
                               f"{guideline.cutoff_score}, passed on {_share(passed, total)})",
                })  # fmt: skip
            else:
                proposal.notes.append({
                    "capability": name, "evidence": why,
                    "summary": f"{name}: qualifies for required (score {after}, passed on "
                               f"{_share(passed, total)}) but is new since "
                               f"{guideline.replaces}: it stays advisory in this guideline",
                })  # fmt: skip
    _flag_failing_tests(proposal, guideline, evidence, statuses, today)
    return proposal


def _previous_statuses(guideline: Guideline) -> dict[str, str]:
    if not guideline.replaces:
        return {}
    dirs = [Path(guideline.path).parent] if guideline.path else []
    try:
        return all_statuses(load_guideline(guideline.replaces, dirs))
    except ConfigurationError:
        return {}


def _promote(data: dict[str, Any], name: str) -> None:
    for component in data["components"].values():
        lists = component["capabilities"]
        if name in lists.get("advisory", []):
            lists["advisory"].remove(name)
            lists.setdefault("required", []).append(name)


def _flag_failing_tests(
    proposal: Proposal,
    guideline: Guideline,
    evidence: Evidence,
    statuses: Mapping[str, str],
    today: dt.date,
) -> None:
    rule = proposal.rule
    by_name = {t["name"]: t for t in evidence.tests}
    for name, capability in proposal.data["capabilities"].items():
        if statuses.get(name) not in ("required", "deprecated"):
            continue
        for test_name, entry in capability.get("tests", {}).items():
            if entry.get("flagged"):
                continue
            seen = by_name.get(test_name)
            if seen is None:
                continue
            ran = {p: r for p, r in seen["results"].items() if r != "not_applicable"}
            failing = sorted(p for p, r in ran.items() if r in FAILED)
            if len(ran) < rule.min_products or len(failing) / len(ran) < rule.flag_threshold:
                continue
            entry["flagged"] = {
                "reason": f"fails on {len(failing)} of {len(ran)} products in the results "
                f"service ({', '.join(failing)})",
                "action": "review the test against these products; unflag it if the test is "
                "right, or fix it",
                "date": today.isoformat(),
            }
            proposal.changes.append({
                "change": "flag", "capability": name, "test": test_name,
                "evidence": {"failing_products": failing, "ran": len(ran)},
                "summary": f"{test_name}: flag candidate, fails on {_share(len(failing), len(ran))}"
                           " products",
            })  # fmt: skip


def write_proposal(proposal: Proposal, out: str | os.PathLike[str]) -> tuple[Path, Path]:
    """The proposed guideline at ``out`` and its evidence beside it (``.evidence.json``)."""
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(proposal.data, indent=2) + "\n", encoding="utf-8")
    evidence = path.with_suffix(".evidence.json")
    evidence.write_text(json.dumps(summary(proposal), indent=2) + "\n", encoding="utf-8")
    return path, evidence


def summary(proposal: Proposal) -> dict[str, Any]:
    return {"rule": proposal.rule.describe(), "changes": proposal.changes,
            "notes": proposal.notes}  # fmt: skip


def lines(proposal: Proposal, source: str, out: Sequence[Path]) -> list[str]:
    text = [f"from {source}: {proposal.rule.describe()}"]
    if not proposal.changes:
        text.append("no change proposed: the data agrees with the guideline")
    text.extend(f"  change  {c['summary']}" for c in proposal.changes)
    text.extend(f"  note    {n['summary']}" for n in proposal.notes)
    text.append(f"proposal written to {out[0]} (evidence: {out[1]}); "
                f"check it with `interop guideline lint {out[0]}`")  # fmt: skip
    return text
