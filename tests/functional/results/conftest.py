"""Fixtures of the results-service tests: real bundles, and the service as a real process."""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.functional.results.real_runs import REPO, RealBundle, make_bundles

pytest.importorskip("flask", reason="the results extra is not installed: pip install -e '.[dev]'")


@pytest.fixture(scope="session")
def real_bundles(all_real_bundles: list[RealBundle]) -> list[RealBundle]:
    """The three products' runs: reference, reference:floating-ip, reference-aws."""
    return all_real_bundles[:3]


@pytest.fixture(scope="session")
def follow_up_bundle(all_real_bundles: list[RealBundle]) -> RealBundle:
    """A later run of the floating-IP product, on the default profile, hybrid add-on only."""
    return all_real_bundles[3]


@pytest.fixture(scope="session")
def all_real_bundles(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> list[RealBundle]:
    """The three real runs, made once per test session: xdist workers share them through a
    directory beside their own temporary directories, the first one to lock it makes them."""
    if worker_id == "master":
        return make_bundles(tmp_path_factory.mktemp("real-runs"))
    shared = tmp_path_factory.getbasetemp().parent / "results-real-runs"
    shared.mkdir(exist_ok=True)
    with (shared / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = shared / "bundles.json"
        if done.is_file():
            return [RealBundle.from_dict(entry) for entry in json.loads(done.read_text())]
        bundles = make_bundles(shared / "runs")
        done.write_text(json.dumps([b.as_dict() for b in bundles]))
        return bundles


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Service:
    """``interop results serve`` in a subprocess, and an HTTP client for it."""

    url: str
    token: str
    database: str
    process: subprocess.Popen
    log_path: Path
    extra: dict[str, Any] = field(default_factory=dict)

    def request(
        self,
        method: str,
        path: str,
        body: bytes | dict | None = None,
        token: str | None = None,
        content_type: str = "application/json",
    ) -> tuple[int, Any]:
        data = json.dumps(body).encode() if isinstance(body, dict) else body
        headers = {"Content-Type": content_type}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers=headers)  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                raw, status, kind = response.read(), response.status, response.headers
        except urllib.error.HTTPError as exc:
            raw, status, kind = exc.read(), exc.code, exc.headers
        if "json" in (kind.get("Content-Type") or ""):
            return status, json.loads(raw)
        return status, raw.decode("utf-8", "replace")

    def get(self, path: str) -> Any:
        status, body = self.request("GET", path)
        assert status == 200, (path, status, body)
        return body

    def register(self, public_key: Path, vendor: str) -> dict[str, Any]:
        status, body = self.request(
            "POST", "/api/v1/keys",
            {"vendor": vendor, "public_key": public_key.read_text(encoding="utf-8")},
            token=self.token,
        )  # fmt: skip
        assert status == 201, body
        return body

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8")


def start_service(workdir: Path, database: str, *extra_args: str) -> Service:
    token = secrets.token_urlsafe(24)
    tokens = workdir / "reviewers"
    tokens.write_text(f"alice {token}\n", encoding="utf-8")
    port = free_port()
    log_path = workdir / "service.log"
    command = [
        sys.executable, "-m", "pytest_interop.cli", "results", "serve", "--db", database,
        "--port", str(port), "--reviewer-tokens", str(tokens), *extra_args,
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "INTEROP_RESULTS_REVIEWER_TOKEN"}
    with log_path.open("w") as log:
        process = subprocess.Popen(command, cwd=workdir, stdout=log, stderr=subprocess.STDOUT,
                                   env=env)  # fmt: skip
    service = Service(f"http://127.0.0.1:{port}", token, database, process, log_path)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, service.log()
        try:
            if service.request("GET", "/healthz")[0] == 200:
                return service
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    process.kill()
    raise AssertionError(f"the service did not answer /healthz: {service.log()}")


def stop_service(service: Service) -> None:
    service.process.terminate()
    try:
        service.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        service.process.kill()
        service.process.wait()


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    """A fresh service over its own SQLite file (max upload 16 MiB)."""
    running = start_service(tmp_path, str(tmp_path / "results.sqlite"), "--max-upload-mb", "16")
    yield running
    stop_service(running)


def upload_cli(bundle: Path, url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest_interop.cli", "submission", "upload", str(bundle),
         "--to", url],
        capture_output=True, text=True, timeout=300, cwd=REPO, check=False,
    )  # fmt: skip
