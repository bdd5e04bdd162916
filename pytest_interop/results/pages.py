"""The HTML pages: products and their history, the guideline matrix, adoption, the fleet's
variance, and the freshness status. Server-rendered with Jinja; no script on any page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time
from typing import Any

import jinja2
from flask import Flask, Response, abort, request
from markupsafe import Markup
from sqlalchemy.orm import Session

from pytest_interop.report.html import RESULT_LABELS, STEP_CLASSES
from pytest_interop.results import queries, svg

CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
STATUS_ORDER = {"lapsed": 0, "expiring": 1, "current": 2, "unverified": 3}

_environment = jinja2.Environment(
    loader=jinja2.PackageLoader("pytest_interop.results", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render(name: str, **context: Any) -> Response:
    html = _environment.get_template(name).render(
        labels=RESULT_LABELS, step_classes=STEP_CLASSES, **context
    )
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = CSP
    return response


def register(app: Flask, session: Callable[[], Session], settings: Any) -> None:
    @app.get("/")
    def index():
        return render(
            "index.html.j2",
            products=queries.products(session()),
            guidelines=queries.guidelines(session()),
        )

    @app.get("/products/<int:product_id>")
    def product_page(product_id: int):
        history = queries.product_history(session(), product_id)
        if history is None:
            abort(404)
        return render("product.html.j2", history=history)

    @app.get("/guidelines/<guideline>")
    def guideline_page(guideline: str):
        matrix = queries.matrix(session(), guideline)
        if not matrix.columns:
            abort(404)
        picture = svg.heatmap(
            [r["capability"] for r in matrix.rows],
            [c["label"] for c in matrix.columns],
            [r["cells"] for r in matrix.rows],
        )
        return render("matrix.html.j2", matrix=matrix, heatmap=Markup(picture))

    @app.get("/adoption")
    def adoption_page():
        return render("adoption.html.j2", rows=queries.adoption(session()))

    @app.get("/capabilities/<capability>")
    def capability_page(capability: str):
        rows = queries.adoption(session(), capability)
        if not rows:
            abort(404)
        points = queries.adoption_trend(session(), capability)
        return render(
            "capability.html.j2", item=rows[0], points=points, plot=Markup(svg.trend(points))
        )

    @app.get("/variance")
    def variance_page():
        return render(
            "variance.html.j2",
            findings=queries.fleet_findings(session(), request.args.get("guideline")),
            steps=queries.fleet_steps(session()),
        )

    @app.get("/status")
    def status_page():
        at = status_date()
        rows = queries.freshness(session(), settings.lifetime_days, settings.expiring_days, at)
        rows.sort(key=lambda r: (STATUS_ORDER[r["status"]], r["label"]))
        return render("status.html.j2", rows=rows, settings=settings, at=at)


def status_date() -> datetime | None:
    """``?at=YYYY-MM-DD``: the status as it will be (or was) on that day; 400 if malformed."""
    text = request.args.get("at")
    if not text:
        return None
    try:
        return datetime.combine(date.fromisoformat(text), time(12), UTC)
    except ValueError:
        abort(400, description=f"at={text}: give a date as YYYY-MM-DD")
