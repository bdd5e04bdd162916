"""Hooks other plugins implement to extend pytest-interop (added with ``addhooks``)."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.hookspec(firstresult=True)
def pytest_interop_resolve_cloud(config: pytest.Config, name: str) -> Any:
    """Return a ``CloudSpec`` for ``name`` if this plugin provides that cloud, else None.

    Called in the controller before the built-in resolution (reference, aws:, clouds.yaml).
    """


@pytest.hookspec(firstresult=True)
def pytest_interop_make_cloud(spec: Any, ledger: Any) -> Any:
    """Return a connected ``Cloud`` adapter for a spec of this plugin's provider, else None."""
