"""Checks of a run's guidelines that lint also makes, but a run must refuse outright.

A selection matches outcomes to guideline tests by idempotent id first: one id on two
different tests makes that match ambiguous (either test's outcome could prove either), so
a run stops before collection with one line rather than judge by a guess.
"""

from __future__ import annotations

from collections.abc import Sequence

from pytest_interop.errors import ConfigurationError
from pytest_interop.guideline.model import Guideline


def check_unique_ids(guidelines: Sequence[Guideline]) -> None:
    """ConfigurationError naming the file, the id and both tests, for the first id that two
    different tests of the run's guidelines share."""
    seen: dict[str, tuple[str, Guideline]] = {}
    for guideline in guidelines:
        for capability in guideline.capabilities.values():
            for test in capability.tests:
                if not test.idempotent_id:
                    continue
                key = test.idempotent_id.lower()
                first = seen.setdefault(key, (test.name, guideline))
                if first[0] != test.name:
                    where = (
                        guideline.path
                        if first[1] is guideline
                        else (f"{first[1].path} and {guideline.path}")
                    )
                    raise ConfigurationError(
                        f"{where}: idempotent id {test.idempotent_id} names two tests "
                        f"({first[0]} and {test.name}), so a run cannot tell their results "
                        "apart; give each test its own id (`interop guideline lint` lists all)"
                    )
