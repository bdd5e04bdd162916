"""Uploading real bundles to a running service: what is stored, and what is refused."""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import socket
import tarfile
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from pytest_interop.results import db, models
from pytest_interop.submission.upload import pack
from pytest_interop.submission.verify import verify_submission
from tests.functional.results.conftest import Service, upload_cli
from tests.functional.results.real_runs import RealBundle

TABLES = (models.Submission, models.CloudResult, models.CapabilityResult, models.TestResult,
          models.Finding, models.Product)  # fmt: skip


def stored(service: Service) -> dict[str, int]:
    """Rows in every table the upload writes, read straight from the database."""
    engine = db.make_engine(db.database_url(service.database))
    with engine.connect() as connection:
        counts = {t.__tablename__: connection.scalar(select(func.count()).select_from(t))
                  for t in TABLES}  # fmt: skip
    engine.dispose()
    return counts


def register_all(service: Service, bundles: list[RealBundle]) -> None:
    for vendor in sorted({b.product.vendor for b in bundles}):
        key = next(b.key for b in bundles if b.product.vendor == vendor)
        service.register(Path(f"{key}.pub"), vendor)


def upload_bytes(service: Service, data: bytes) -> tuple[int, dict]:
    return service.request("POST", "/api/v1/submissions", data, content_type="application/gzip")


@pytest.mark.idempotent_id("8f949767-4b25-472f-a0d6-b41e0dcb580f")
def test_three_real_bundles_upload_verify_and_show(service, real_bundles):
    register_all(service, real_bundles)
    for real in real_bundles:
        done = upload_cli(real.bundle, service.url)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "stored" in done.stdout
    products = service.get("/api/v1/products")
    assert sorted(p["name"] for p in products) == sorted(b.product.name for b in real_bundles)
    # the verdict stored is the one `interop submission verify` recomputes from the bundle
    for real in real_bundles:
        expected = verify_submission(real.bundle).verdicts
        (entry,) = [p for p in products if p["name"] == real.product.name]
        assert {c["cloud"]: c["verdict"] for c in entry["latest"]["clouds"]} == expected
    floating = next(p for p in products if p["name"] == "Floating IP Cloud")
    assert floating["latest"]["clouds"][0]["verdict"] == "not compliant"
    matrix = service.get("/api/v1/guidelines/hybrid.2020.06/matrix")
    assert len(matrix["columns"]) == 3
    row = next(r for r in matrix["rows"] if r["capability"] == "hybrid-node-public-address")
    by_column = dict(zip((c["cloud"] for c in matrix["columns"]), row["cells"], strict=True))
    assert by_column == {"reference": "passed", "reference:floating-ip": "failed",
                         "reference-aws": "passed"}  # fmt: skip
    adoption = {a["capability"]: a for a in service.get("/api/v1/adoption")}
    assert adoption["hybrid-node-public-address"]["overall"] == {"passed": 2, "total": 3}
    assert adoption["hybrid-node-public-address"]["failing_products"] == [
        "Reference Project Floating IP Cloud"
    ]
    assert set(adoption["hybrid-node-login"]["by_kind"]) == {"reference"}
    history = service.get(f"/api/v1/products/{floating['id']}/history")
    assert len(history["submissions"]) == 1
    assert stored(service)["submissions"] == 3


@pytest.mark.idempotent_id("d14bc184-20d6-4147-b66f-f9492e9b9ef7")
def test_replayed_tampered_unsigned_and_broken_uploads_are_refused_and_store_nothing(
    service, real_bundles, tmp_path
):
    register_all(service, real_bundles)
    first = real_bundles[0]
    assert upload_bytes(service, pack(first.bundle))[0] == 201
    before = stored(service)

    status, body = upload_bytes(service, pack(first.bundle))
    assert status == 409 and "replayed" in body["error"]

    tampered = tmp_path / "tampered"
    shutil.copytree(real_bundles[1].bundle, tampered)
    report = json.loads((tampered / "report.json").read_text())
    report["clouds"][0]["verdict"] = "compliant"
    (tampered / "report.json").write_text(json.dumps(report))
    status, body = upload_bytes(service, pack(tampered))
    assert status == 422, body
    assert "report.json: sha256 differs from MANIFEST" in body["error"]

    unsigned = tmp_path / "unsigned"
    shutil.copytree(real_bundles[1].bundle, unsigned)
    (unsigned / "MANIFEST.sig").unlink()
    status, body = upload_bytes(service, pack(unsigned))
    assert status == 422 and "not signed" in body["error"], body

    whole = pack(real_bundles[2].bundle)
    status, body = upload_bytes(service, whole[: len(whole) // 2])
    assert status == 400 and "truncated" in body["error"], body

    not_a_bundle = io.BytesIO()
    with tarfile.open(fileobj=not_a_bundle, mode="w:gz") as archive:
        info = tarfile.TarInfo("notes.txt")
        info.size = 5
        archive.addfile(info, io.BytesIO(b"hello"))
    status, body = upload_bytes(service, not_a_bundle.getvalue())
    assert status == 422 and "MANIFEST: missing" in body["error"], body
    status, body = upload_bytes(service, b"this is not an archive")
    assert status == 400, body
    status, body = upload_bytes(service, gzip.compress(b"x" * 1000))
    assert status == 400, body

    assert stored(service) == before
    metrics = service.request("GET", "/metrics")[1]
    assert "interop_submissions_accepted_total 1.0" in metrics
    assert 'interop_submissions_refused_total{status="422"} 3.0' in metrics


@pytest.mark.idempotent_id("b3acee86-f42d-443a-9189-ba4b4d0bf48f")
def test_a_50_mb_junk_upload_gets_413_before_it_is_read(service):
    status, body = upload_bytes(service, os.urandom(50 * 1024 * 1024))
    assert status == 413, body
    assert "larger than the limit" in body["error"]
    assert stored(service)["submissions"] == 0


@pytest.mark.idempotent_id("154af46a-f316-4d1e-9113-dfe17ee053b9")
def test_a_body_cut_short_of_its_content_length_is_refused(service, real_bundles):
    register_all(service, real_bundles)
    data = pack(real_bundles[0].bundle)
    where = urlsplit(service.url)
    with socket.create_connection((where.hostname, where.port), timeout=60) as connection:
        connection.sendall(
            b"POST /api/v1/submissions HTTP/1.1\r\nHost: x\r\nContent-Type: application/gzip\r\n"
            + f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n".encode()
            + data[: len(data) // 3]
        )
        connection.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    assert answer.split(b"\r\n", 1)[0].split()[1] == b"400", answer[:300]
    assert stored(service)["submissions"] == 0


@pytest.mark.idempotent_id("c534b932-2c2d-47b9-a778-c6c481e91f42")
def test_unregistered_revoked_and_misattributed_keys_are_refused(service, real_bundles, tmp_path):
    first, second = real_bundles[0], real_bundles[2]  # different vendors
    status, body = upload_bytes(service, pack(first.bundle))
    assert status == 403 and "is not registered" in body["error"]

    # the second vendor's key registered under the first vendor's name: not its bundle
    service.register(Path(f"{second.key}.pub"), first.product.vendor)
    status, body = upload_bytes(service, pack(second.bundle))
    assert status == 403 and "registered to vendor 'Reference Project'" in body["error"]

    key = service.register(Path(f"{first.key}.pub"), first.product.vendor)
    assert upload_bytes(service, pack(first.bundle))[0] == 201
    status, body = service.request("POST", f"/api/v1/keys/{key['id']}/revoke",
                                   {"reason": "key leaked"}, token=service.token)  # fmt: skip
    assert status == 200 and body["submissions_marked"] == 1
    # the same run, re-signed by the revoked key: refused for the key, not as a replay
    status, body = upload_bytes(service, pack(first.bundle))
    assert status == 403 and "was revoked: key leaked" in body["error"]
    assert service.get("/api/v1/products")[0]["latest"] is None  # revoked runs stop counting
    (submission,) = service.get("/api/v1/submissions")
    assert submission["revoked"] is True
    assert stored(service)["submissions"] == 1


@pytest.mark.idempotent_id("e35cdd42-5d5b-4ce0-918d-d1b573beb8b0")
def test_reviewer_actions_need_the_token_and_tokens_never_reach_the_log(service, real_bundles):
    public = Path(f"{real_bundles[0].key}.pub").read_text()
    vendor = {"vendor": real_bundles[0].product.vendor, "public_key": public}
    assert service.request("POST", "/api/v1/keys", vendor)[0] == 401
    assert service.request("POST", "/api/v1/keys", vendor, token="not-the-token")[0] == 401
    assert service.request("POST", "/api/v1/keys", vendor, token=service.token)[0] == 201
    assert upload_bytes(service, pack(real_bundles[0].bundle))[0] == 201
    (submission,) = service.get("/api/v1/submissions")
    path = f"/api/v1/submissions/{submission['id']}/verified"
    assert service.request("POST", path, {})[0] == 401
    status, body = service.request("POST", path, {}, token=service.token)
    assert status == 200 and body["verified_by"] == "alice"
    (status_row,) = service.get("/api/v1/status")
    assert status_row["status"] == "current" and status_row["days_left"] >= 364
    assert service.get("/healthz")["schema"] == "0001"
    log = service.log()
    assert service.token not in log
    events = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert {"submission accepted", "key registered", "reviewer refused"} <= {
        e["event"] for e in events
    }
