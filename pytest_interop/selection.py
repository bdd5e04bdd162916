"""Matching collected test items to the guideline tests a target needs.

An item matches a guideline test by idempotent id first and node id second (aliases
included); a match by id under another node id is a *rename*, which the report shows so a
rename never silently drops a test. Guideline tests no item matches are *missing*.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest

from pytest_interop.compliance import Selection

ID_MARKER = "idempotent_id"
_IDEMPOTENT_ID_KEY = pytest.StashKey["str | None"]()
_UNKNOWN = object()


def item_idempotent_id(item: pytest.Item) -> str | None:
    """The item's idempotent id, lower-case; looked up once per item, because selection
    and every test's outcome need it and the marker lookup walks the node chain."""
    found = item.stash.get(_IDEMPOTENT_ID_KEY, _UNKNOWN)
    if found is not _UNKNOWN:
        return found  # type: ignore[return-value]
    # The item's own markers first, as get_closest_marker does, without its generators.
    marker = next((m for m in item.own_markers if m.name == ID_MARKER), None)
    if marker is None:
        marker = item.get_closest_marker(ID_MARKER)
    test_id = None if marker is None or not marker.args else str(marker.args[0]).lower()
    item.stash[_IDEMPOTENT_ID_KEY] = test_id
    return test_id


def item_test_name(item: pytest.Item) -> str:
    """The node id a guideline names: the item's, without parameters."""
    return item.nodeid.split("[", 1)[0]


@dataclass
class SelectionResult:
    kept: list[pytest.Item] = field(default_factory=list)
    deselected: list[pytest.Item] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # guideline test names
    renamed: dict[str, str] = field(default_factory=dict)  # guideline name -> node id found


def select_items(items: Sequence[pytest.Item], selections: Sequence[Selection]) -> SelectionResult:
    wanted_ids: dict[str, str] = {}  # idempotent id -> guideline test name
    wanted_names: dict[str, str] = {}  # node id or alias -> guideline test name
    for selection in selections:
        for test in selection.tests_to_run():
            if test.idempotent_id:
                wanted_ids[test.idempotent_id.lower()] = test.name
            for name in (test.name, *test.aliases):
                wanted_names[name] = test.name

    result = SelectionResult()
    found: set[str] = set()
    for item in items:
        test_id = item_idempotent_id(item)
        name = item_test_name(item)
        listed = wanted_ids.get(test_id or "")
        if listed is None:
            listed = wanted_names.get(name)
        if listed is None:
            result.deselected.append(item)
            continue
        result.kept.append(item)
        found.add(listed)
        if listed != name:
            result.renamed[listed] = name
    result.missing = sorted({*wanted_ids.values(), *wanted_names.values()} - found)
    return result
