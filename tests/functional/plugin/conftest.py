"""A reference cloud served to an inner pytest as the clouds.yaml cloud 'outside'."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_interop.reference.cloud import ReferenceCloud


@contextlib.contextmanager
def outside_cloud(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **options: Any
) -> Iterator[ReferenceCloud]:
    """Serve a reference cloud (ReferenceCloud options) and point OS_CLIENT_CONFIG_FILE at it."""
    cloud = ReferenceCloud(profile="default", **options)
    cloud.start()
    try:
        config = tmp_path / "clouds.yaml"
        config.write_text(cloud.clouds_yaml("outside"))
        monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(config))
        yield cloud
    finally:
        cloud.stop()
