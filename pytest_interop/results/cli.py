"""``interop results serve | migrate | keys``: run the results service and manage its keys."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pytest_interop.errors import ConfigurationError

TOKEN_ENV = "INTEROP_RESULTS_REVIEWER_TOKEN"
DB_ENV = "INTEROP_RESULTS_DB"
EXTRA_HINT = "the results service needs its extra: pip install 'pytest-interop[results]'"


def _db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        default=os.environ.get(DB_ENV),
        metavar="URL|FILE",
        help=f"SQLite file (default interop-results.sqlite) or a database URL such as "
        f"postgresql://USER:PASSWORD@HOST/DB (or ${DB_ENV})",
    )


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "results",
        help="the results service: signed submissions in, history, adoption, status out",
        description="The results service (docs/results-service.md).",
    )
    commands = parser.add_subparsers(dest="results_command", metavar="ACTION", required=True)

    serve = commands.add_parser("serve", help="run the service over HTTP")
    _db_option(serve)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8640)
    serve.add_argument(
        "--max-upload-mb", type=float, default=16.0, metavar="MB", help="upload size limit"
    )
    serve.add_argument(
        "--reviewer-tokens",
        metavar="FILE",
        help=f"lines 'NAME TOKEN': the reviewers' bearer tokens (or one token in ${TOKEN_ENV})",
    )
    serve.add_argument(
        "--open-registration",
        action="store_true",
        help="register an unknown signing key on its first upload (trust on first use)",
    )
    serve.add_argument("--lifetime-days", type=int, default=365, metavar="DAYS")
    serve.add_argument("--expiring-days", type=int, default=30, metavar="DAYS")
    serve.add_argument(
        "--guideline-dir", action="append", default=[], metavar="DIR", dest="guideline_dirs",
        help="where the published guidelines are (default: the shipped ones)",
    )  # fmt: skip
    serve.set_defaults(func=run_serve)

    migrate = commands.add_parser("migrate", help="bring the database schema up to date")
    _db_option(migrate)
    migrate.set_defaults(func=run_migrate)

    keys = commands.add_parser("keys", help="the signing-key registry")
    key_commands = keys.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    add = key_commands.add_parser("add", help="register a vendor's public key")
    add.add_argument("public_key", metavar="KEY.pub")
    add.add_argument("--vendor", required=True, help="the vendor, as its product.yaml names it")
    _db_option(add)
    add.set_defaults(func=run_keys_add)
    listing = key_commands.add_parser("list", help="every key, its vendor and status")
    _db_option(listing)
    listing.set_defaults(func=run_keys_list)
    revoke = key_commands.add_parser("revoke", help="revoke a key and mark its submissions")
    revoke.add_argument("fingerprint", metavar="SHA256:...")
    revoke.add_argument("--reason", required=True)
    _db_option(revoke)
    revoke.set_defaults(func=run_keys_revoke)


def _imports():
    try:
        from pytest_interop.results import db
    except ImportError as exc:
        raise ConfigurationError(f"{EXTRA_HINT} ({exc.name} is missing)") from None
    return db


def read_reviewers(path: str | None) -> dict[str, str]:
    reviewers: dict[str, str] = {}
    if os.environ.get(TOKEN_ENV):
        reviewers["reviewer"] = os.environ[TOKEN_ENV]
    if path:
        try:
            lines = Path(path).read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise ConfigurationError(f"--reviewer-tokens {path}: cannot read it ({exc})") from None
        for number, line in enumerate(lines, start=1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            parts = line.split()
            if len(parts) != 2 or len(parts[1]) < 16:
                raise ConfigurationError(
                    f"--reviewer-tokens {path}:{number}: want 'NAME TOKEN', "
                    "a token of 16 characters or more"
                )
            reviewers[parts[0]] = parts[1]
    return reviewers


def run_serve(args: argparse.Namespace) -> int:
    db = _imports()
    from werkzeug.serving import make_server

    from pytest_interop.results.app import JsonFormatter, Settings, create_app, event

    url = db.database_url(args.db)
    settings = Settings(
        database_url=url,
        max_upload_bytes=int(args.max_upload_mb * 1024 * 1024),
        reviewers=read_reviewers(args.reviewer_tokens),
        open_registration=args.open_registration,
        lifetime_days=args.lifetime_days,
        expiring_days=args.expiring_days,
        guideline_dirs=tuple(args.guideline_dirs),
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    service_log = logging.getLogger("pytest_interop.results")
    service_log.addHandler(handler)
    service_log.setLevel(logging.INFO)
    service_log.propagate = False
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # our own request lines replace its
    app = create_app(settings)
    try:
        server = make_server(args.host, args.port, app, threaded=True)
    except OSError as exc:
        raise ConfigurationError(f"--port {args.port}: cannot listen ({exc})") from None
    host, port = server.server_address[:2]
    event("serving", url=f"http://{host}:{port}/", database=db.redacted(url),
          reviewers=len(settings.reviewers), max_upload_bytes=settings.max_upload_bytes,
          open_registration=settings.open_registration)  # fmt: skip
    print(f"results service on http://{host}:{port}/ (database {db.redacted(url)})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def run_migrate(args: argparse.Namespace) -> int:
    db = _imports()
    url = db.database_url(args.db)
    revision = db.upgrade(db.make_engine(url))
    print(f"{db.redacted(url)}: schema at revision {revision}")
    return 0


def _session(args: argparse.Namespace):
    db = _imports()
    return db.open_database(db.database_url(args.db))()


def run_keys_add(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import IntegrityError

    from pytest_interop.results.models import SigningKey
    from pytest_interop.submission.signing import PublicKey

    key = PublicKey.from_path(args.public_key)
    with _session(args) as session:
        session.add(SigningKey(fingerprint=key.fingerprint, public_key=key.openssh_line(),
                               vendor=args.vendor, registered_at=datetime.now(UTC)))  # fmt: skip
        try:
            session.commit()
        except IntegrityError:
            raise ConfigurationError(
                f"{args.public_key}: key {key.fingerprint} is registered already"
            ) from None
    print(f"registered {key.fingerprint} for vendor {args.vendor!r}")
    return 0


def run_keys_list(args: argparse.Namespace) -> int:
    from pytest_interop.results import queries

    with _session(args) as session:
        for key in queries.keys(session):
            state = f"revoked {key['revoked_at'][:10]}" if key["revoked_at"] else "active"
            print(
                f"{key['fingerprint']}  {key['vendor']}  {state}  {key['submissions']} submissions"
            )
    return 0


def run_keys_revoke(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from pytest_interop.results.models import SigningKey

    with _session(args) as session:
        key = session.scalar(select(SigningKey).where(SigningKey.fingerprint == args.fingerprint))
        if key is None:
            raise ConfigurationError(
                f"no registered key {args.fingerprint} (see `interop results keys list`)"
            )
        key.revoked_at = key.revoked_at or datetime.now(UTC)
        key.revoked_reason = args.reason
        for submission in key.submissions:
            submission.revoked = True
        session.commit()
        print(f"revoked {key.fingerprint}; {len(key.submissions)} submissions marked")
    return 0
