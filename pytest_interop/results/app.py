"""The Flask application: upload, reviewer actions, the JSON API, the pages, health, metrics."""

from __future__ import annotations

import hmac
import json
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, g, jsonify, request
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.exceptions import HTTPException

from pytest_interop.results import db, pages, queries
from pytest_interop.results.intake import IntakePolicy, Refused, take
from pytest_interop.results.models import SigningKey, Submission
from pytest_interop.submission import signing

DEFAULT_MAX_UPLOAD = 16 * 1024 * 1024
log = logging.getLogger("pytest_interop.results")


@dataclass(frozen=True)
class Settings:
    database_url: str
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD
    # reviewer name -> bearer token; reviewer actions are refused when empty
    reviewers: dict[str, str] = field(default_factory=dict)
    open_registration: bool = False
    lifetime_days: int = 365
    expiring_days: int = 30
    guideline_dirs: tuple[str, ...] = ()


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.accepted = Counter(
            "interop_submissions_accepted",
            "Submissions verified and stored",
            registry=self.registry,
        )
        self.refused = Counter(
            "interop_submissions_refused",
            "Uploads refused, by HTTP status",
            ["status"],
            registry=self.registry,
        )
        self.verification = Histogram(
            "interop_verification_seconds",
            "Time to unpack, verify and store one upload",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )
        self.requests = Histogram(
            "interop_http_request_seconds",
            "HTTP request latency by endpoint",
            ["endpoint", "method", "status"],
            registry=self.registry,
        )


class JsonFormatter(logging.Formatter):
    """One JSON object a line; only the fields the service chose to log (no headers)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "event": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info and record.exc_info[1] is not None:
            # the exception's type and first line only: a traceback's locals may hold secrets
            exc = record.exc_info[1]
            entry["exception"] = (
                f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            )
        return json.dumps(entry, default=str)


def event(name: str, level: int = logging.INFO, **fields: Any) -> None:
    log.log(level, name, extra={"fields": fields})


def error(status: int, message: str, details: list[str] | None = None) -> tuple[Response, int]:
    return jsonify({"error": message, "details": details or []}), status


def create_app(settings: Settings, sessions: sessionmaker[Session] | None = None) -> Flask:
    app = Flask(__name__)
    # Flask refuses a larger body with 413 before reading it.
    app.config["MAX_CONTENT_LENGTH"] = settings.max_upload_bytes
    sessions = sessions or db.open_database(settings.database_url)
    metrics = Metrics()
    policy = IntakePolicy(
        max_unpacked_bytes=settings.max_upload_bytes * 8,
        guideline_dirs=settings.guideline_dirs,
        open_registration=settings.open_registration,
    )
    app.extensions["interop_results"] = {"settings": settings, "sessions": sessions,
                                         "metrics": metrics}  # fmt: skip

    def session() -> Session:
        if "db" not in g:
            g.db = sessions()
        return g.db

    @app.teardown_appcontext
    def close_session(_exc: BaseException | None) -> None:
        opened = g.pop("db", None)
        if opened is not None:
            opened.close()

    @app.before_request
    def start_timer() -> None:
        g.started = time.perf_counter()

    @app.after_request
    def record(response: Response) -> Response:
        elapsed = time.perf_counter() - g.get("started", time.perf_counter())
        endpoint = request.url_rule.rule if request.url_rule else "unmatched"
        metrics.requests.labels(endpoint, request.method, str(response.status_code)).observe(
            elapsed
        )
        event("request", method=request.method, path=request.path, status=response.status_code,
              seconds=round(elapsed, 4), remote=request.remote_addr)  # fmt: skip
        return response

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if exc.code == 413 and request.path.startswith("/api/v1/submissions"):
            metrics.refused.labels("413").inc()
            return error(
                413, f"the upload is larger than the limit of {settings.max_upload_bytes} bytes"
            )
        if request.path.startswith("/api/") or request.path in ("/healthz", "/metrics"):
            return error(exc.code or 500, exc.description or exc.name)
        return exc

    def reviewer() -> str | None:
        """The reviewer named by the request's bearer token, or None."""
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        for name, expected in settings.reviewers.items():
            if hmac.compare_digest(token.encode(), expected.encode()):
                return name
        return None

    def require_reviewer() -> tuple[str | None, tuple[Response, int] | None]:
        if not settings.reviewers:
            return None, error(403, "reviewer actions are off: the service has no reviewer tokens")
        name = reviewer()
        if name is None:
            event("reviewer refused", logging.WARNING, path=request.path)
            return None, error(401, "a reviewer's bearer token is needed (Authorization header)")
        return name, None

    # ------------------------------------------------------------------ operations

    @app.get("/healthz")
    def healthz():
        try:
            session().execute(text("SELECT 1"))
            revision = db.current_revision(session().get_bind())
        except SQLAlchemyError as exc:
            return jsonify({"status": "unavailable", "database": type(exc).__name__}), 503
        return jsonify({"status": "ok", "database": "ok", "schema": revision})

    @app.get("/metrics")
    def prometheus():
        return Response(generate_latest(metrics.registry), mimetype=CONTENT_TYPE_LATEST)

    # ------------------------------------------------------------------ submissions

    @app.post("/api/v1/submissions")
    def upload():
        started = time.perf_counter()
        data = request.get_data(cache=False)  # 400 for a body cut short of its Content-Length
        try:
            submission = take(session(), data, policy)
        except Refused as refused:
            metrics.refused.labels(str(refused.status)).inc()
            event("submission refused", logging.WARNING, status=refused.status,
                  reason=refused.reason, bytes=len(data))  # fmt: skip
            return jsonify(refused.as_dict()), refused.status
        finally:
            metrics.verification.observe(time.perf_counter() - started)
        metrics.accepted.inc()
        event("submission accepted", submission=submission.id, run_id=submission.run_id,
              signer=submission.key.fingerprint, bytes=len(data))  # fmt: skip
        body = queries.submission_summary(submission)
        body["url"] = f"/api/v1/submissions/{submission.id}"
        return jsonify(body), 201

    @app.get("/api/v1/submissions")
    def list_submissions():
        rows = session().scalars(select(Submission).order_by(Submission.id.desc()).limit(500))
        return jsonify([queries.submission_summary(s) for s in rows])

    @app.get("/api/v1/submissions/<int:submission_id>")
    def get_submission(submission_id: int):
        submission = session().get(Submission, submission_id)
        if submission is None:
            return error(404, f"no submission {submission_id}")
        body = queries.submission_summary(submission)
        body["declaration"] = submission.declaration
        return jsonify(body)

    @app.post("/api/v1/submissions/<int:submission_id>/verified")
    def mark_verified(submission_id: int):
        name, refusal = require_reviewer()
        if refusal:
            return refusal
        submission = session().get(Submission, submission_id)
        if submission is None:
            return error(404, f"no submission {submission_id}")
        if submission.revoked:
            return error(409, f"submission {submission_id} is signed by a revoked key")
        submission.verified_at = datetime.now(UTC)
        submission.verified_by = name
        session().commit()
        event("submission marked verified", submission=submission_id, reviewer=name)
        return jsonify(queries.submission_summary(submission))

    # ------------------------------------------------------------------ keys

    @app.get("/api/v1/keys")
    def list_keys():
        return jsonify(queries.keys(session()))

    @app.post("/api/v1/keys")
    def register_key():
        name, refusal = require_reviewer()
        if refusal:
            return refusal
        body = request.get_json(silent=True) or {}
        vendor = str(body.get("vendor") or "").strip()
        if not vendor:
            return error(400, 'give the key\'s vendor: {"vendor": ..., "public_key": ...}')
        try:
            key = signing.PublicKey.parse(str(body.get("public_key") or ""), "public_key")
        except signing.SignatureError as exc:
            return error(400, str(exc))
        row = SigningKey(
            fingerprint=key.fingerprint,
            public_key=key.openssh_line(),
            vendor=vendor,
            registered_at=datetime.now(UTC),
        )
        session().add(row)
        try:
            session().commit()
        except IntegrityError:
            session().rollback()
            return error(409, f"key {key.fingerprint} is registered already")
        event("key registered", fingerprint=key.fingerprint, vendor=vendor, reviewer=name)
        return jsonify({"id": row.id, "fingerprint": row.fingerprint, "vendor": vendor}), 201

    @app.post("/api/v1/keys/<int:key_id>/revoke")
    def revoke_key(key_id: int):
        name, refusal = require_reviewer()
        if refusal:
            return refusal
        key = session().get(SigningKey, key_id)
        if key is None:
            return error(404, f"no key {key_id}")
        reason = str((request.get_json(silent=True) or {}).get("reason") or "revoked")
        key.revoked_at = key.revoked_at or datetime.now(UTC)
        key.revoked_reason = reason
        marked = 0
        for submission in key.submissions:
            marked += not submission.revoked
            submission.revoked = True
        session().commit()
        event("key revoked", fingerprint=key.fingerprint, reviewer=name, submissions=marked)
        return jsonify({"id": key.id, "fingerprint": key.fingerprint, "revoked_reason": reason,
                        "submissions_marked": marked})  # fmt: skip

    # ------------------------------------------------------------------ views as JSON

    @app.get("/api/v1/products")
    def api_products():
        return jsonify(queries.products(session()))

    @app.get("/api/v1/products/<int:product_id>/history")
    def api_history(product_id: int):
        history = queries.product_history(session(), product_id)
        return jsonify(history) if history else error(404, f"no product {product_id}")

    @app.get("/api/v1/guidelines")
    def api_guidelines():
        return jsonify(queries.guidelines(session()))

    @app.get("/api/v1/guidelines/<guideline>/matrix")
    def api_matrix(guideline: str):
        return jsonify(queries.matrix(session(), guideline).as_dict())

    @app.get("/api/v1/adoption")
    def api_adoption():
        return jsonify(queries.adoption(session(), request.args.get("capability")))

    @app.get("/api/v1/tests")
    def api_tests():
        return jsonify(queries.test_results(session()))

    @app.get("/api/v1/capabilities/<capability>/trend")
    def api_trend(capability: str):
        return jsonify(queries.adoption_trend(session(), capability))

    @app.get("/api/v1/variance")
    def api_variance():
        return jsonify({"findings": queries.fleet_findings(session()),
                        "hybrid_steps": queries.fleet_steps(session())})  # fmt: skip

    @app.get("/api/v1/status")
    def api_status():
        return jsonify(queries.freshness(session(), settings.lifetime_days, settings.expiring_days))

    pages.register(app, session, settings)
    return app


def from_environment() -> Flask:
    """The app for a WSGI server (``gunicorn 'pytest_interop.results.app:from_environment()'``),
    set up from ``$INTEROP_RESULTS_DB``, ``$INTEROP_RESULTS_REVIEWER_TOKEN``,
    ``$INTEROP_RESULTS_MAX_UPLOAD_MB`` and ``$INTEROP_RESULTS_LIFETIME_DAYS``."""
    import os

    from pytest_interop.results.cli import DB_ENV, TOKEN_ENV

    token = os.environ.get(TOKEN_ENV)
    megabytes = float(os.environ.get("INTEROP_RESULTS_MAX_UPLOAD_MB", "16"))
    return create_app(
        Settings(
            database_url=db.database_url(os.environ.get(DB_ENV)),
            max_upload_bytes=int(megabytes * 1024 * 1024),
            reviewers={"reviewer": token} if token else {},
            lifetime_days=int(os.environ.get("INTEROP_RESULTS_LIFETIME_DAYS", "365")),
        )
    )
