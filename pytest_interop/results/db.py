"""Opening the results database and bringing its schema up to date with Alembic."""

from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from pytest_interop.errors import ConfigurationError

DEFAULT_DATABASE = "interop-results.sqlite"
MIGRATIONS = "pytest_interop.results:migrations"


def database_url(value: str | os.PathLike[str] | None) -> str:
    """A SQLAlchemy URL from ``--db``: a URL as given, anything else a SQLite file path."""
    text = os.fspath(value) if value else DEFAULT_DATABASE
    if "://" in text:
        return text
    return f"sqlite:///{Path(text).resolve()}"


def redacted(url: str) -> str:
    """The URL without its password, for logs and error messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unparseable database URL)"


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # WAL lets pages be read while an upload writes.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for ``url``; ConfigurationError naming the URL (without password) if bad."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigurationError(
            f"--db {redacted(url)}: not a database URL; give a SQLite file path or "
            "postgresql+psycopg://USER:PASSWORD@HOST/DB"
        ) from None
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")  # the driver we depend on
    try:
        engine = create_engine(parsed, pool_pre_ping=True)
    except (ArgumentError, ImportError) as exc:
        raise ConfigurationError(f"--db {redacted(url)}: {exc}") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine) -> str:
    """Apply every migration; return the schema revision now in force."""
    try:
        command.upgrade(alembic_config(engine), "head")
        return current_revision(engine) or ""
    except SQLAlchemyError as exc:
        raise ConfigurationError(
            f"--db {redacted(str(engine.url))}: cannot open or migrate the database "
            f"({type(exc).__name__}: {str(exc).splitlines()[0]})"
        ) from None


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    return ScriptDirectory.from_config(
        alembic_config(create_engine("sqlite://"))
    ).get_current_head()


def open_database(url: str) -> sessionmaker[Session]:
    """Engine for ``url``, migrated to the newest schema, and a session factory over it."""
    engine = make_engine(url)
    upgrade(engine)
    return sessionmaker(engine, expire_on_commit=False)
