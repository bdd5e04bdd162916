from __future__ import annotations

from pathlib import Path

import pytest

from pytest_interop.report.json_report import write_report
from tests.functional.submission.sample_runs import (
    PRODUCT_YAML,
    make_report,
    write_guidelines,
    write_private_key,
)


@pytest.fixture(scope="session")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory of published guidelines (copies of guidelines/, every capability tested)."""
    return write_guidelines(tmp_path_factory.mktemp("published"))


@pytest.fixture(scope="session")
def report_file(published: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("run") / "report.json"
    write_report(path, make_report(published))
    return path


@pytest.fixture
def product_file(tmp_path: Path) -> Path:
    path = tmp_path / "product.yaml"
    path.write_text(PRODUCT_YAML, encoding="utf-8")
    return path


@pytest.fixture
def run_log(tmp_path: Path) -> Path:
    path = tmp_path / "run.log"
    path.write_text(
        "collected 282 items\nPOST /v3/auth/tokens password=s3cret-Passw0rd\n"
        "X-Subject-Token: gAAAAABlongtokenvalue\n282 passed\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    directory = tmp_path_factory.mktemp("keys")
    return {
        kind: write_private_key(directory / f"vendor_{kind}", kind)
        for kind in ("ed25519", "ecdsa", "rsa")
    }


@pytest.fixture(scope="session")
def intruder_key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_private_key(tmp_path_factory.mktemp("intruder") / "intruder", "ed25519")
