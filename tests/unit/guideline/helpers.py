"""Shared test helpers: a small must-pass suite matching fixtures/ours.json, written to disk."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures"

SUITE_FILES = {
    "tests/interop/compute/test_servers.py": """
        import pytest
        from pytest import mark


        @pytest.mark.idempotent_id("0f2b1c3e-8d4a-4a57-9c2e-3b1d5e7f9a01")
        def test_server_create_is_active_and_reachable(cloud):
            pass


        @mark.idempotent_id("9c8b7a6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d")
        @pytest.mark.parametrize("hard", [True, False])
        async def test_reboot_changes_boot_id(cloud, hard):
            pass


        class TestServerInvalid:
            @pytest.mark.idempotent_id("6a1e2d3c-4b5f-4e78-8a9b-0c1d2e3f4a5b")
            def test_bad_flavor_is_refused(self, cloud):
                pass

            def test_unmarked(self):
                pass
    """,
    "tests/interop/identity/test_tokens.py": """
        import pytest


        @pytest.mark.idempotent_id("3d2c1b0a-9f8e-4d7c-8b6a-5f4e3d2c1b0a")
        def test_token_create(cloud):
            pass
    """,
}


def write_suite(root: Path, extra: dict[str, str] | None = None) -> Path:
    """Write the suite under ``root`` (a project root) and return ``root``."""
    for relative, source in {**SUITE_FILES, **(extra or {})}.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source).lstrip())
    return root


def fixture_data(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def write_json(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2))
    return path
