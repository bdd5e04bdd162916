"""The service on PostgreSQL (a cluster the test starts): the same uploads, the same refusals,
the same views and the same proposal as on SQLite."""

from __future__ import annotations

import json

import pytest

from pytest_interop.submission.upload import pack
from tests.functional.results import postgres
from tests.functional.results.conftest import start_service, stop_service, upload_cli
from tests.functional.results.test_scoring import interop
from tests.functional.results.test_upload import register_all, stored, upload_bytes

pytestmark = pytest.mark.skipif(postgres.why_not() is not None, reason=str(postgres.why_not()))


@pytest.fixture
def pg_service(tmp_path):
    with postgres.cluster() as url:
        running = start_service(tmp_path, url)
        yield running
        stop_service(running)


@pytest.mark.idempotent_id("f3a1c5e7-9b2d-4f6a-8c0e-2d4f6a8c0e15")
def test_real_bundles_on_postgresql(pg_service, real_bundles, tmp_path):
    service = pg_service
    assert service.get("/healthz")["schema"] == "0001"
    register_all(service, real_bundles)
    for real in real_bundles:
        done = upload_cli(real.bundle, service.url)
        assert done.returncode == 0, done.stdout + done.stderr
    before = stored(service)
    assert before["submissions"] == 3
    assert upload_bytes(service, pack(real_bundles[0].bundle))[0] == 409
    assert upload_bytes(service, pack(real_bundles[0].bundle)[:1000])[0] == 400
    assert stored(service) == before
    matrix = service.get("/api/v1/guidelines/hybrid.2020.06/matrix")
    assert len(matrix["columns"]) == 3
    assert service.request("GET", "/guidelines/hybrid.2020.06")[0] == 200

    out = tmp_path / "next.json"
    done = interop("guideline", "score", "next", "--results", service.database, "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "compute-images-create: adds 'deployed'" in done.stdout
    assert (
        "deployed"
        in json.loads(out.read_text())["capabilities"]["compute-images-create"]["achievements"]
    )
