"""What the distribution ships beside the plugin: the guideline files and the must-pass suite.

Both live inside the package, so an installed ``pytest-interop`` runs a guideline from any
directory, and a checkout runs the very same files (an editable install points here too).
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
GUIDELINES_DIR = PACKAGE_DIR / "guidelines"
SUITE_DIR = PACKAGE_DIR / "suite"
# How guidelines name the shipped tests, wherever the package is installed: the node id a
# run from a checkout's root prints.
SUITE_NODE_PREFIX = "pytest_interop/suite"


def suite_module_nodeid(path: Path) -> str | None:
    """The stable node id of a shipped test module, or None for a file outside the suite."""
    try:
        relative = path.resolve().relative_to(SUITE_DIR)
    except ValueError:
        return None
    return f"{SUITE_NODE_PREFIX}/{relative.as_posix()}"
