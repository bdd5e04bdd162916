"""Where a test's findings live while it runs: the plugin copies them into the report."""

from __future__ import annotations

from typing import Any

import pytest

FINDINGS_KEY = pytest.StashKey[dict[str, Any]]()
