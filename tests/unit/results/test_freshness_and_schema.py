"""Result lifetimes (current / expiring / lapsed) and the migrations, on a SQLite file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import inspect

from pytest_interop.results import db, queries
from pytest_interop.results.models import CloudResult, Product, SigningKey, Submission

NOW = datetime(2026, 12, 4, 12, tzinfo=UTC)


def add_run(session, key, product, days_ago, verdict="compliant", verified=True, run="r"):
    finished = NOW - timedelta(days=days_ago)
    submission = Submission(
        manifest_sha256=f"{run:0>64}", run_id=run, product=product, key=key,
        received_at=finished, run_finished=finished, target="t", guidelines=["next"],
        declaration={}, manifest="", signature="", size_bytes=1, revoked=False,
        verified_at=finished if verified else None, verified_by="alice" if verified else None,
    )  # fmt: skip
    submission.clouds.append(CloudResult(cloud="c", kind="openstack", reference=False,
                                         verdict=verdict, required_passed=1, required_total=1,
                                         advisory_passed=0, advisory_total=0))  # fmt: skip
    session.add(submission)


@pytest.mark.idempotent_id("e0b8a8d2-5b0c-4d0e-9a57-2f6d0b8c1e31")
def test_status_follows_the_last_verified_compliant_run(tmp_path):
    sessions = db.open_database(db.database_url(tmp_path / "r.sqlite"))
    with sessions() as session:
        key = SigningKey(fingerprint="SHA256:x", public_key="k", vendor="V", registered_at=NOW)
        names = ["current", "expiring", "lapsed", "unverified", "failing"]
        products = {n: Product(vendor="V", name=n) for n in names}
        add_run(session, key, products["current"], 10, run="1")
        add_run(session, key, products["expiring"], 350, run="2")
        add_run(session, key, products["lapsed"], 400, run="3")
        add_run(session, key, products["lapsed"], 5, verified=False, run="4")  # not reviewed
        add_run(session, key, products["unverified"], 1, verified=False, run="5")
        add_run(session, key, products["failing"], 1, verdict="not compliant", run="6")
        session.commit()
        rows = {r["label"]: r for r in queries.freshness(session, 365, 30, now=NOW)}
    assert {label.split()[1]: r["status"] for label, r in rows.items()} == {
        "current": "current", "expiring": "expiring", "lapsed": "lapsed",
        "unverified": "unverified", "failing": "unverified",
    }  # fmt: skip
    assert rows["V expiring"]["days_left"] == 15


@pytest.mark.idempotent_id("4c1f0e9b-7a2d-4b3c-8e6f-5a9d1c3b7e42")
def test_migrations_create_every_table_and_go_down_and_up_again(tmp_path):
    engine = db.make_engine(db.database_url(tmp_path / "m.sqlite"))
    assert db.upgrade(engine) == db.head_revision() == "0001"
    tables = set(inspect(engine).get_table_names())
    assert {"submissions", "signing_keys", "products", "cloud_results", "capability_results",
            "test_results", "findings", "alembic_version"} <= tables  # fmt: skip
    command.downgrade(db.alembic_config(engine), "base")
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    assert db.upgrade(engine) == "0001"


@pytest.mark.idempotent_id("1b7e3d5f-9c2a-4e8b-a6d4-0f2c4e6a8b53")
def test_a_bad_database_url_is_one_clear_error_without_its_password():
    with pytest.raises(Exception) as caught:
        db.upgrade(db.make_engine("postgresql://u:hunter2@127.0.0.1:9/none"))
    assert "hunter2" not in str(caught.value) and "cannot open or migrate" in str(caught.value)
    assert db.redacted("postgresql://u:hunter2@h/d") == "postgresql://u:***@h/d"
