"""What the pages and the JSON API show, read from the database (no HTTP here).

"Latest" means a product's newest submission that is not revoked; adoption, the matrix and the
fleet's variance count each product once, by its latest submission that ran the guideline.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, defer, selectinload

from pytest_interop.report.variance import HYBRID_STEPS, capability_cell
from pytest_interop.results.models import (
    CapabilityResult,
    CloudResult,
    Finding,
    Product,
    SigningKey,
    Submission,
    TestResult,
)

PASSED = "passed"
COMPLIANT = "compliant"


def when(submission: Submission) -> datetime:
    """A submission's time: when its run finished, else when it was received."""
    moment = submission.run_finished or submission.received_at
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def product_label(product: Product) -> str:
    return f"{product.vendor} {product.name}"


def column_label(submission: Submission, cloud: CloudResult) -> str:
    label = product_label(submission.product)
    return label if len(submission.clouds) == 1 else f"{label} · {cloud.cloud}"


def submission_summary(submission: Submission) -> dict[str, Any]:
    return {
        "id": submission.id,
        "run_id": submission.run_id,
        "product": {"id": submission.product_id, "vendor": submission.product.vendor,
                    "name": submission.product.name},
        "product_version": submission.product_version,
        "signer": submission.key.fingerprint,
        "received_at": submission.received_at.isoformat(),
        "run_finished": when(submission).isoformat(),
        "guidelines": list(submission.guidelines),
        "target": submission.target,
        "verified_at": submission.verified_at.isoformat() if submission.verified_at else None,
        "verified_by": submission.verified_by,
        "revoked": submission.revoked,
        "clouds": [
            {
                "cloud": c.cloud,
                "kind": c.kind,
                "reference": c.reference,
                "verdict": c.verdict,
                "required": {"passed": c.required_passed, "total": c.required_total},
                "advisory": {"passed": c.advisory_passed, "total": c.advisory_total},
            }
            for c in submission.clouds
        ],
    }  # fmt: skip


def _submissions(session: Session, guideline: str | None = None) -> list[Submission]:
    """Every submission that is not revoked, oldest first, with what the pages need loaded."""
    query = (
        select(Submission)
        .where(Submission.revoked.is_(False))
        .options(selectinload(Submission.product), selectinload(Submission.clouds),
                 selectinload(Submission.key),
                 # the signed texts are large and no view needs them
                 defer(Submission.manifest), defer(Submission.signature),
                 defer(Submission.declaration))
    )  # fmt: skip
    rows = list(session.scalars(query))
    if guideline is not None:
        rows = [s for s in rows if guideline in s.guidelines]
    return sorted(rows, key=lambda s: (when(s), s.id))


def _light(session: Session) -> list[tuple[int, int, list[str], datetime]]:
    """(id, product id, guidelines, when) of every submission that is not revoked, oldest
    first: enough to choose the latest ones without loading them."""
    rows = session.execute(
        select(Submission.id, Submission.product_id, Submission.guidelines,
               Submission.run_finished, Submission.received_at)
        .where(Submission.revoked.is_(False))
    ).all()  # fmt: skip
    out = []
    for sid, product_id, names, finished, received in rows:
        moment = finished or received
        out.append(
            (sid, product_id, names, moment if moment.tzinfo else moment.replace(tzinfo=UTC))
        )
    return sorted(out, key=lambda r: (r[3], r[0]))


def latest(
    session: Session, guideline: str | None = None, light: Sequence[tuple] | None = None
) -> list[Submission]:
    """Each product's newest submission (that ran ``guideline``), by product label."""
    newest: dict[int, int] = {}
    for sid, product_id, names, _ in _light(session) if light is None else light:
        if guideline is None or guideline in names:
            newest[product_id] = sid
    if not newest:
        return []
    query = (
        select(Submission)
        .where(Submission.id.in_(list(newest.values())))
        .options(selectinload(Submission.product), selectinload(Submission.clouds),
                 selectinload(Submission.key), defer(Submission.manifest),
                 defer(Submission.signature), defer(Submission.declaration))
    )  # fmt: skip
    return sorted(session.scalars(query), key=lambda s: product_label(s.product))


def _capabilities(
    session: Session,
    cloud_ids: Iterable[int],
    guideline: str | None = None,
    capability: str | None = None,
):
    ids = list(cloud_ids)
    if not ids:
        return []
    # plain rows, not ORM objects: thousands of them per page
    query = select(
        CapabilityResult.cloud_result_id, CapabilityResult.guideline,
        CapabilityResult.capability, CapabilityResult.status, CapabilityResult.result,
    ).where(CapabilityResult.cloud_result_id.in_(ids))  # fmt: skip
    if capability is not None:
        query = query.where(CapabilityResult.capability == capability)
    # the guideline is filtered here: in SQL it would steer SQLite to the (guideline,
    # capability) index and a scan of every run's rows
    return [r for r in session.execute(query) if guideline is None or r.guideline == guideline]


# --------------------------------------------------------------------------- products


def products(session: Session) -> list[dict[str, Any]]:
    counts = dict(
        session.execute(
            select(Submission.product_id, func.count()).group_by(Submission.product_id)
        ).all()
    )
    newest = {s.product_id: s for s in latest(session)}
    out = []
    for product in session.scalars(select(Product).order_by(Product.vendor, Product.name)):
        last = newest.get(product.id)
        out.append({
            "id": product.id, "vendor": product.vendor, "name": product.name,
            "kind": product.kind, "submissions": counts.get(product.id, 0),
            "latest": submission_summary(last) if last else None,
        })  # fmt: skip
    return out


def changes(before: Sequence[CapabilityResult], after: Sequence[CapabilityResult]):
    """Capability results that differ between two runs: (guideline, capability, was, now)."""
    old = {(c.guideline, c.capability): c.result for c in before}
    new = {(c.guideline, c.capability): c.result for c in after}
    return [
        {"guideline": key[0], "capability": key[1], "before": old.get(key), "after": new.get(key)}
        for key in sorted(set(old) | set(new))
        if old.get(key) != new.get(key)
    ]


def product_history(session: Session, product_id: int) -> dict[str, Any] | None:
    """Every submission of a product, newest first, each with what changed since the one
    before it (same cloud name)."""
    product = session.get(Product, product_id)
    if product is None:
        return None
    query = (
        select(Submission)
        .where(Submission.product_id == product_id)
        .options(selectinload(Submission.clouds).selectinload(CloudResult.capabilities),
                 selectinload(Submission.key), selectinload(Submission.product))
    )  # fmt: skip
    runs = sorted(session.scalars(query), key=lambda s: (when(s), s.id))
    entries = []
    previous: list[CloudResult] = []  # the clouds of the last run that is not revoked
    for submission in runs:
        summary = submission_summary(submission)
        summary["changes"] = {}
        by_name = {c.cloud: c for c in previous}
        for cloud in submission.clouds:
            # the same cloud name; or, one cloud each, the product's one cloud
            before = by_name.get(cloud.cloud) or (
                previous[0] if len(previous) == 1 and len(submission.clouds) == 1 else None
            )
            if before is not None and not submission.revoked:
                shared = set(before.submission.guidelines) & set(submission.guidelines)
                summary["changes"][cloud.cloud] = changes(
                    [c for c in before.capabilities if c.guideline in shared],
                    [c for c in cloud.capabilities if c.guideline in shared],
                )
        if not submission.revoked:
            previous = list(submission.clouds)
        entries.append(summary)
    return {
        "product": {"id": product.id, "vendor": product.vendor, "name": product.name,
                    "kind": product.kind},
        "submissions": list(reversed(entries)),
    }  # fmt: skip


# --------------------------------------------------------------------------- guidelines


def guidelines(session: Session, light: Sequence[tuple] | None = None) -> list[str]:
    found: set[str] = set()
    for _, _, names, _ in _light(session) if light is None else light:
        found.update(names)
    return sorted(found)


@dataclass
class Matrix:
    guideline: str
    columns: list[dict[str, Any]]  # label, product id, submission id, cloud, kind, verdict
    rows: list[dict[str, Any]] = field(default_factory=list)  # capability, status, cells

    def as_dict(self) -> dict[str, Any]:
        return {"guideline": self.guideline, "columns": self.columns, "rows": self.rows}


def matrix(session: Session, guideline: str) -> Matrix:
    """Capability (rows) by product (columns): each product's latest run of the guideline."""
    columns = []
    cloud_ids = []
    for submission in latest(session, guideline):
        for cloud in submission.clouds:
            cloud_ids.append(cloud.id)
            columns.append({
                "label": column_label(submission, cloud), "product": submission.product_id,
                "submission": submission.id, "cloud": cloud.cloud, "kind": cloud.kind,
                "reference": cloud.reference, "verdict": cloud.verdict,
            })  # fmt: skip
    cells: dict[str, dict[int, str]] = defaultdict(dict)
    status: dict[str, str] = {}
    for capability in _capabilities(session, cloud_ids, guideline):
        cells[capability.capability][capability.cloud_result_id] = capability.result
        status.setdefault(capability.capability, capability.status)
    result = Matrix(guideline, columns)
    for name in sorted(cells, key=lambda n: (status[n] != "required", n)):
        row = [cells[name].get(cloud_id) for cloud_id in cloud_ids]
        passed = sum(1 for r in row if r == PASSED)
        result.rows.append({"capability": name, "status": status[name], "cells": row,
                            "passed": passed, "total": sum(1 for r in row if r)})  # fmt: skip
    return result


# --------------------------------------------------------------------------- adoption


def _share(results: Iterable[str | None]) -> dict[str, int]:
    ran = [r for r in results if r]
    return {"passed": sum(r == PASSED for r in ran), "total": len(ran)}


def adoption(session: Session, capability: str | None = None) -> list[dict[str, Any]]:
    """Per capability: passed on N of M products, by guideline version and by cloud kind.

    A product counts once per guideline (its latest run of it) and, across guidelines, by its
    latest result of the capability.
    """
    per_key: dict[tuple[str, str], dict[str, Any]] = {}
    light = _light(session)
    for guideline in guidelines(session, light):
        runs = latest(session, guideline, light)
        clouds = {c.id: (s, c) for s in runs for c in s.clouds}
        for row in _capabilities(session, clouds, guideline, capability):
            submission, cloud = clouds[row.cloud_result_id]
            entry = per_key.setdefault((row.capability, guideline), {"results": []})
            entry["results"].append((submission, cloud, row.result, row.status))
    out: dict[str, dict[str, Any]] = {}
    for (name, guideline), entry in sorted(per_key.items()):
        item = out.setdefault(name, {"capability": name, "by_guideline": {}, "products": {}})
        item["by_guideline"][guideline] = _share(r for _, _, r, _ in entry["results"])
        item["by_guideline"][guideline]["status"] = entry["results"][0][3]
        for submission, cloud, result, _ in entry["results"]:
            key = f"{product_label(submission.product)}|{cloud.cloud}"
            seen = item["products"].get(key)
            if seen is None or when(submission) >= seen["when"]:
                item["products"][key] = {"when": when(submission), "result": result,
                                         "kind": cloud.kind, "reference": cloud.reference,
                                         "product": product_label(submission.product)}  # fmt: skip
    for item in out.values():
        products = item.pop("products").values()
        item["overall"] = _share(p["result"] for p in products)
        by_kind: dict[str, list[str]] = defaultdict(list)
        for p in products:
            by_kind["reference" if p["reference"] else p["kind"]].append(p["result"])
        item["by_kind"] = {kind: _share(results) for kind, results in sorted(by_kind.items())}
        item["failing_products"] = sorted(
            p["product"] for p in products if p["result"] not in (PASSED, "not_applicable")
        )
    return sorted(out.values(), key=lambda i: i["capability"])


def adoption_trend(session: Session, capability: str) -> list[dict[str, Any]]:
    """The capability's adoption over time: after each run that tested it, the share of
    products whose latest result of it is a pass."""
    rows = session.execute(
        select(Submission, CloudResult.id, CapabilityResult.result)
        .join(CloudResult, CloudResult.submission_id == Submission.id)
        .join(CapabilityResult, CapabilityResult.cloud_result_id == CloudResult.id)
        .where(CapabilityResult.capability == capability, Submission.revoked.is_(False))
        .options(selectinload(Submission.product), defer(Submission.manifest),
                 defer(Submission.signature), defer(Submission.declaration))
    ).all()  # fmt: skip
    events = sorted(rows, key=lambda r: (when(r[0]), r[0].id))
    state: dict[tuple[int, str], str] = {}
    points = []
    for submission, cloud_id, result in events:
        state[(submission.product_id, str(cloud_id))] = result
        # one entry per product: its latest cloud result
        by_product: dict[int, str] = {}
        for (product_id, _), value in state.items():
            by_product[product_id] = value
        passed = sum(v == PASSED for v in by_product.values())
        points.append({"when": when(submission).isoformat(), "passed": passed,
                       "total": len(by_product)})  # fmt: skip
    return points


# --------------------------------------------------------------------------- fleet variance


def fleet_findings(session: Session, guideline: str | None = None) -> list[dict[str, Any]]:
    """Finding key -> the values products observed, each with the products that saw it."""
    runs = latest(session, guideline)
    clouds = {c.id: (s, c) for s in runs for c in s.clouds}
    if not clouds:
        return []
    found: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    numbers: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    query = select(Finding.cloud_result_id, Finding.key, Finding.value).where(
        Finding.cloud_result_id.in_(list(clouds))
    )
    labels = {cloud_id: column_label(s, c) for cloud_id, (s, c) in clouds.items()}
    for cloud_id, key, value in session.execute(query):
        if key in ("hybrid.step", "hybrid.result", "hybrid.reason"):
            continue
        label = labels[cloud_id]
        if isinstance(value, int | float) and not isinstance(value, bool):
            numbers[key][label].append(float(value))
        else:
            found[key][value if isinstance(value, str) else str(value)].add(label)
    for key, per_product in numbers.items():
        if key in found:  # mixed kinds: show the numbers as values
            for label, values in per_product.items():
                for number in values:
                    found[key][f"{number:g}"].add(label)
            continue
        for label, values in per_product.items():
            # a measurement (boot time) varies run to run: one summary per product
            ordered = sorted(values)
            median = ordered[len(ordered) // 2]
            text = f"median {median:g} (min {ordered[0]:g}, max {ordered[-1]:g}, n={len(values)})"
            found[key][text].add(label)
    out = []
    for key in sorted(found):
        values = [{"value": v, "products": sorted(p)} for v, p in sorted(found[key].items())]
        out.append({"key": key, "values": values, "varies": len(values) > 1})
    return out


def fleet_steps(session: Session) -> dict[str, Any]:
    """The hybrid add-on's eight steps across every product that ran it (latest run each)."""
    runs = [s for s in latest(session) if any(g.startswith("hybrid.") for g in s.guidelines)]
    columns = [(s, c) for s in runs for c in s.clouds]
    ids = [c.id for _, c in columns]
    steps = {step.capability for step in HYBRID_STEPS}
    capabilities = {
        (row.cloud_result_id, row.capability): row
        for row in _capabilities(session, ids)
        if row.capability in steps
    }
    tests: dict[tuple[int, str], list[dict[str, Any]]] = defaultdict(list)
    if ids:
        step_tests = session.execute(
            select(TestResult.cloud_result_id, TestResult.capability, TestResult.name,
                   TestResult.result, TestResult.flagged, TestResult.message)
            .where(TestResult.cloud_result_id.in_(ids), TestResult.capability.in_(steps))
        ).all()  # fmt: skip
        findings: dict[tuple[int, str], dict[str, Any]] = defaultdict(dict)
        names = {t.name for t in step_tests}
        for cloud_id, test, key, value in session.execute(
            select(Finding.cloud_result_id, Finding.test, Finding.key, Finding.value).where(
                Finding.cloud_result_id.in_(ids), Finding.test.in_(names)
            )
        ):
            findings[(cloud_id, test)][key] = value
        for test in step_tests:
            tests[(test.cloud_result_id, test.capability)].append({
                "result": test.result, "flagged": test.flagged, "message": test.message,
                "findings": findings.get((test.cloud_result_id, test.name), {}),
            })  # fmt: skip
    rows = []
    for step in HYBRID_STEPS:
        cells = []
        for _, cloud in columns:
            row = capabilities.get((cloud.id, step.capability))
            if row is None:
                cells.append({"result": "NOT RUN", "reason": "not in this run"})
                continue
            cell = capability_cell(
                {"result": row.result, "tests": tests.get((cloud.id, step.capability), [])}
            )
            cells.append({"result": cell.result, "reason": cell.reason})
        rows.append({"step": step.number, "title": step.title, "capability": step.capability,
                     "cells": cells})  # fmt: skip
    return {"columns": [column_label(s, c) for s, c in columns], "rows": rows}


# --------------------------------------------------------------------------- freshness


def freshness(
    session: Session, lifetime_days: int, expiring_days: int, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Per product: current / expiring / lapsed, from its last reviewer-verified run whose
    every cloud was compliant; "unverified" when it has none."""
    moment = now or datetime.now(UTC)
    best: dict[int, Submission] = {}
    for submission in _submissions(session):
        good = submission.verified_at is not None and all(
            c.verdict == COMPLIANT for c in submission.clouds
        )
        if good:
            best[submission.product_id] = submission
    out = []
    for product in session.scalars(select(Product).order_by(Product.vendor, Product.name)):
        last = best.get(product.id)
        entry: dict[str, Any] = {"product": product.id, "label": product_label(product)}
        if last is None:
            entry.update(status="unverified", last_verified_run=None, valid_until=None,
                         days_left=None)  # fmt: skip
        else:
            until = when(last) + timedelta(days=lifetime_days)
            left = (until - moment).total_seconds() / 86400
            status = "lapsed" if left < 0 else "expiring" if left <= expiring_days else "current"
            entry.update(status=status, last_verified_run=when(last).isoformat(),
                         valid_until=until.isoformat(), days_left=int(left // 1),
                         submission=last.id, guidelines=list(last.guidelines))  # fmt: skip
        out.append(entry)
    return out


def keys(session: Session) -> list[dict[str, Any]]:
    counts = dict(
        session.execute(select(Submission.key_id, func.count()).group_by(Submission.key_id)).all()
    )
    return [
        {"id": k.id, "fingerprint": k.fingerprint, "vendor": k.vendor,
         "registered_at": k.registered_at.isoformat(),
         "revoked_at": k.revoked_at.isoformat() if k.revoked_at else None,
         "revoked_reason": k.revoked_reason, "submissions": counts.get(k.id, 0)}
        for k in session.scalars(select(SigningKey).order_by(SigningKey.id))
    ]  # fmt: skip


def test_results(session: Session) -> list[dict[str, Any]]:
    """Per test (by name): how it ended on each product's latest run that ran it."""
    runs = latest(session)
    clouds = {c.id: (s, c) for s in runs for c in s.clouds}
    if not clouds:
        return []
    out: dict[str, dict[str, Any]] = {}
    query = select(TestResult).where(TestResult.cloud_result_id.in_(list(clouds)))
    for test in session.scalars(query):
        submission, cloud = clouds[test.cloud_result_id]
        entry = out.setdefault(
            test.name,
            {"name": test.name, "capability": test.capability,
             "idempotent_id": test.idempotent_id, "results": {}},
        )  # fmt: skip
        entry["results"][column_label(submission, cloud)] = test.result
    return sorted(out.values(), key=lambda t: t["name"])
