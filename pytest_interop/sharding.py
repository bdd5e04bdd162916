"""Deterministic shards of a guideline run: ``--interop-shard I/N`` runs the I-th of N parts.

A run is (cloud, test) pairs. They are cut into *units* that must stay together: every test of
a cloud that uses a session-wide resource of that cloud (its shared server) is one unit, a
module whose tests share a module- or class-scoped fixture is one unit per cloud, and any other
test is a unit of its own. Units go to shards by a cost model (longest first, each onto the
least loaded shard), the same one the scheduler uses: a test's last duration if a report of an
earlier run is given (``--interop-shard-durations REPORT.json``), else the estimate of what it
boots. The local cache of durations is deliberately not used: each shard may run on another
machine, and every shard must compute the same plan from the same inputs or tests would be run
twice or never.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pytest_interop.errors import ConfigurationError
from pytest_interop.scheduling import SHARED_SCOPES, estimated_cost, module_of

SHARD_PATTERN = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")
RUN_WIDE_SCOPES = ("session", "package")


@dataclass(frozen=True)
class Shard:
    """The ``index``-th (1-based, as ``1/4``) of ``count`` parts."""

    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(text: str, option: str = "--interop-shard") -> Shard:
    match = SHARD_PATTERN.match(text or "")
    if not match:
        raise ConfigurationError(
            f"{option} {text!r}: expected I/N, e.g. 1/4 for the first of four shards"
        )
    index, count = int(match.group(1)), int(match.group(2))
    if count < 1 or not 1 <= index <= count:
        raise ConfigurationError(
            f"{option} {text}: I must be between 1 and N (N >= 1); shards are 1/{max(count, 1)} "
            f"to {max(count, 1)}/{max(count, 1)}"
        )
    return Shard(index, count)


def load_durations(path: str | Path, option: str = "--interop-shard-durations") -> dict[str, float]:
    """Durations by node id from an earlier run's JSON report (the same file for every shard)."""
    try:
        report = json.loads(Path(path).read_text(encoding="utf-8"))
        return {o["nodeid"]: float(o["duration"]) for o in report["outcomes"]}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigurationError(
            f"{option} {path}: not a readable pytest-interop JSON report ({exc}); pass the "
            "interop-report.json of an earlier run, or leave the option out to use estimates"
        ) from None


def _cloud_of(item: Any) -> str | None:
    callspec = getattr(item, "callspec", None)
    return callspec.params.get("cloud") if callspec else None


def _definitions(item: Any) -> Mapping[str, Sequence[Any]]:
    info = getattr(item, "_fixtureinfo", None)
    return getattr(info, "name2fixturedefs", {}) or {}


def _uses_a_cloud_wide_resource(item: Any) -> bool:
    """Whether the item uses a run-wide fixture (other than ``cloud``) built on its cloud, as
    the shared server is: such tests of one cloud must share one process."""
    definitions = _definitions(item)
    on_cloud: set[str] = {"cloud"}
    changed = True
    while changed:  # fixtures requesting fixtures: follow the chain to the cloud
        changed = False
        for name, defs in definitions.items():
            if name in on_cloud or not defs:
                continue
            if on_cloud.intersection(defs[-1].argnames):
                on_cloud.add(name)
                changed = True
    return any(
        name != "cloud" and defs and defs[-1].scope in RUN_WIDE_SCOPES
        for name, defs in definitions.items()
        if name in on_cloud
    )


def _shares_a_module_fixture(item: Any) -> bool:
    return any(
        defs and defs[-1].scope in SHARED_SCOPES and defs[-1].argname != "cloud"
        for defs in _definitions(item).values()
    )


def unit_of(item: Any) -> tuple[str, str]:
    """The unit an item belongs to: (cloud, what keeps its tests together)."""
    cloud = _cloud_of(item) or ""
    if _uses_a_cloud_wide_resource(item):
        return (cloud, "cloud-wide resources")
    if _shares_a_module_fixture(item):
        return (cloud, module_of(item.nodeid))
    return (cloud, item.nodeid)


@dataclass(frozen=True)
class Plan:
    """Which unit goes to which shard, and what each shard costs by the model."""

    count: int
    assignment: dict[tuple[str, str], int]  # unit -> shard index (1-based)
    costs: list[float]  # by shard, index 0 = shard 1
    digest: str  # of the units and their shards: equal on every shard of one plan

    @property
    def balance(self) -> float:
        """The slowest shard over the mean (1.0 is perfect)."""
        mean = sum(self.costs) / len(self.costs) if self.costs else 0.0
        return max(self.costs) / mean if mean else 1.0


def make_plan(
    items: Sequence[Any], count: int, durations: Mapping[str, float] | None = None
) -> Plan:
    return _plan([(item, unit_of(item)) for item in items], count, durations or {})


def _plan(
    placed: Sequence[tuple[Any, tuple[str, str]]], count: int, durations: Mapping[str, float]
) -> Plan:
    unit_costs: dict[tuple[str, str], float] = {}
    for item, unit in placed:
        unit_costs[unit] = unit_costs.get(unit, 0.0) + estimated_cost(item, durations)
    # Longest processing time first; ties by unit name, so the plan is a function of its inputs.
    heap = [(0.0, index) for index in range(1, count + 1)]
    assignment: dict[tuple[str, str], int] = {}
    costs = [0.0] * count
    for unit in sorted(unit_costs, key=lambda u: (-unit_costs[u], u)):
        load, index = heapq.heappop(heap)
        assignment[unit] = index
        costs[index - 1] = load + unit_costs[unit]
        heapq.heappush(heap, (costs[index - 1], index))
    text = json.dumps(sorted([list(u), s] for u, s in assignment.items()))
    return Plan(count, assignment, costs, hashlib.sha256(text.encode()).hexdigest()[:16])


def split(
    items: Sequence[Any], shard: Shard, durations: Mapping[str, float] | None = None
) -> tuple[list[Any], list[Any], Plan]:
    """(kept, left to other shards, the plan) for one shard."""
    placed = [(item, unit_of(item)) for item in items]  # each item's unit, worked out once
    plan = _plan(placed, shard.count, durations or {})
    kept, others = [], []
    for item, unit in placed:
        (kept if plan.assignment[unit] == shard.index else others).append(item)
    return kept, others, plan


# -- the plugin's side: options, the stash, the report's record ------------------------

SHARD_STASH = pytest.StashKey[dict]()


def configure(config: Any) -> None:
    """Read ``--interop-shard`` / ini ``interop_shard`` (and the durations file) once per
    process; raises ConfigurationError naming the option."""
    text = config.getoption("interop_shard", None) or config.getini("interop_shard") or ""
    if not text:
        return
    shard = parse_shard(text)
    durations_path = config.getoption("interop_shard_durations", None)
    durations = load_durations(durations_path) if durations_path else {}
    config.stash[SHARD_STASH] = {"shard": shard, "durations": durations, "record": None}


def apply(config: Any, items: list[Any]) -> list[Any]:
    """Keep this shard's items in ``items``; return the ones left to other shards."""
    state = config.stash.get(SHARD_STASH, None)
    if state is None:
        return []
    kept, others, plan = split(items, state["shard"], state["durations"])
    items[:] = kept
    state["record"] = {
        "index": state["shard"].index,
        "count": state["shard"].count,
        "plan": plan.digest,
        "cost_model": "durations of an earlier report" if state["durations"] else "estimates",
        "estimated_seconds": round(plan.costs[state["shard"].index - 1], 1),
        "balance": round(plan.balance, 3),
    }
    return others


def record(config: Any) -> dict[str, Any] | None:
    """What the report says of this shard (None when the run is not sharded)."""
    state = config.stash.get(SHARD_STASH, None)
    if state is None:
        return None
    return state["record"] or {"index": state["shard"].index, "count": state["shard"].count}


def adopt(config: Any, worker_record: dict[str, Any] | None) -> None:
    """The controller takes the plan a worker computed (under xdist only workers collect)."""
    state = config.stash.get(SHARD_STASH, None)
    if state is not None and worker_record and state["record"] is None:
        state["record"] = worker_record
