"""How a parallel guideline run hands tests to xdist workers: costly tests first, and the
tests that share a module-scoped fixture (a server booted once for a module) together.

xdist's default ``load`` scheduling hands tests out in collection order, in chunks. A test that
boots a server and comes last keeps one worker busy while the others are done; and a module
whose tests share one server, spread over several workers, boots that server on each of them.
For a guideline run under ``--dist load`` (what ``-n`` means by default) the plugin therefore:

- orders each worker's collection costliest first: a test's cost is how long it took in the
  last run (kept in pytest's cache), or, for a test not seen yet, an estimate (a server of its
  own costs a boot); every worker computes the same order, as xdist requires;
- schedules with :class:`CostScheduling`, xdist's scope scheduling where a *scope* is the
  module for tests that use a module- or class-scoped fixture and the test itself otherwise.
  Workers tell the controller which modules those are through a file in a directory the
  controller made (workers of a popen run share the machine, as the run's journals do).

Other ``--dist`` modes are left as the user chose them, and a serial run keeps the file order.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from xdist.scheduler import LoadScopeScheduling

DURATIONS_KEY = "interop/durations"
DIST_KEY = "interop_dist"  # workerinput: the controller's --dist (a worker's own says "no")
GROUPS_DIR_KEY = "interop_groups_dir"  # workerinput: where workers write the grouped modules
# Estimates in seconds, for tests the cache has not seen: what a boot and reaching the new
# server over SSH take on a typical cloud, against a few API calls.
OWN_SERVER_FIXTURES = frozenset({"server", "node", "keypair"})  # a key pair of its own: to boot
BOOT_ESTIMATE_S = 60.0
API_ESTIMATE_S = 1.0
SHARED_SCOPES = ("module", "class")


def estimated_cost(item: pytest.Item, durations: Mapping[str, float]) -> float:
    known = durations.get(item.nodeid)
    if known is not None:
        return known
    fixtures = getattr(item, "fixturenames", ())
    return BOOT_ESTIMATE_S if OWN_SERVER_FIXTURES.intersection(fixtures) else API_ESTIMATE_S


def costliest_first(
    items: Sequence[Any], durations: Mapping[str, float], in_file_order: Iterable[str] = ()
) -> list[Any]:
    """The items, costliest first within each cloud's block; equal costs keep their collection
    order. pytest groups a run's items by cloud so that a cloud's session fixtures (its shared
    server) are set up once; sorting across clouds would tear them down at every switch.

    The tests of the modules ``in_file_order`` (those sharing a module-scoped server, which
    go to one worker together) keep their file order among themselves, in the places their
    module's tests take in the costliest-first order: one worker runs them one after another
    whatever their order, and a module may put last the test that uses its server up (the
    delete test)."""
    keep = frozenset(in_file_order)
    blocks: dict[Any, list[Any]] = {}
    for item in items:
        callspec = getattr(item, "callspec", None)
        blocks.setdefault(callspec.params.get("cloud") if callspec else None, []).append(item)
    ordered: list[Any] = []
    for block in blocks.values():
        in_order: dict[str, deque[Any]] = defaultdict(deque)
        for item in block:
            if module_of(item.nodeid) in keep:
                in_order[module_of(item.nodeid)].append(item)
        for item in sorted(block, key=lambda item: -estimated_cost(item, durations)):
            module = module_of(item.nodeid)
            ordered.append(in_order[module].popleft() if module in keep else item)
    return ordered


def module_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def modules_sharing_fixtures(items: Sequence[pytest.Item]) -> list[str]:
    """The modules of items that use a module- or class-scoped fixture."""
    grouped: set[str] = set()
    for item in items:
        info = getattr(item, "_fixtureinfo", None)
        definitions = getattr(info, "name2fixturedefs", {})
        if any(d.scope in SHARED_SCOPES for defs in definitions.values() for d in defs):
            grouped.add(module_of(item.nodeid))
    return sorted(grouped)


def enable(config: pytest.Config, durations: Callable[[], Mapping[str, float]]) -> None:
    """Register the ordering and scheduling for this guideline run (controller or worker);
    ``durations()`` gives the run's test durations at its end, to keep for the next order."""
    config.pluginmanager.register(CostOrder(config, durations), "interop-cost-order")


class CostOrder:
    """The plugin object behind the module docstring, one per process."""

    def __init__(self, config: pytest.Config, durations: Callable[[], Mapping[str, float]]) -> None:
        self.durations = durations
        self.workerinput: dict[str, Any] | None = getattr(config, "workerinput", None)
        self.groups_dir: Path | None = None
        if self.workerinput is None and config.getoption("dist", "no") == "load":
            self.groups_dir = Path(tempfile.mkdtemp(prefix="interop-groups-"))
            config.add_cleanup(lambda: shutil.rmtree(self.groups_dir, ignore_errors=True))

    # -- controller --------------------------------------------------------------------
    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput[DIST_KEY] = node.config.getoption("dist")
        if self.groups_dir is not None:
            node.workerinput[GROUPS_DIR_KEY] = str(self.groups_dir)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_make_scheduler(self, config: pytest.Config, log: Any) -> Any:
        if self.groups_dir is None:
            return None
        return CostScheduling(config, log, groups_dir=self.groups_dir)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        # The controller records every test; without pytest's cache there is nowhere to keep.
        if self.workerinput is None and getattr(session.config, "cache", None) is not None:
            store_durations(session.config, self.durations())

    # -- worker ------------------------------------------------------------------------
    @pytest.hookimpl(trylast=True)  # after selection has deselected what the run leaves out
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]):
        if self.workerinput is None or self.workerinput.get(DIST_KEY) != "load":
            return
        grouped = modules_sharing_fixtures(items)
        items[:] = costliest_first(items, cached_durations(config), grouped)
        groups_dir = self.workerinput.get(GROUPS_DIR_KEY)
        if groups_dir:
            target = Path(groups_dir) / f"{self.workerinput['workerid']}.json"
            partial = target.with_suffix(".part")
            partial.write_text(json.dumps(grouped))
            os.replace(partial, target)


class CostScheduling(LoadScopeScheduling):
    """xdist's scope scheduling, where a scope is a module whose tests share a module- or
    class-scoped fixture, or else a single test. Scopes go out largest first, then in the
    workers' (costliest first) order."""

    def __init__(self, config: pytest.Config, log: Any = None, *, groups_dir: Path) -> None:
        super().__init__(config, log)
        self.groups_dir = groups_dir
        self.grouped_modules: frozenset[str] = frozenset()

    def schedule(self) -> None:
        if self.collection is None:
            # Every worker has collected (and so written its file) before this first call.
            for written in sorted(self.groups_dir.glob("*.json")):
                self.grouped_modules = frozenset(json.loads(written.read_text()))
                break
        super().schedule()

    def _split_scope(self, nodeid: str) -> str:
        module = module_of(nodeid)
        return module if module in self.grouped_modules else nodeid


def cached_durations(config: pytest.Config) -> dict[str, float]:
    cache = getattr(config, "cache", None)
    if cache is None:
        return {}
    stored = cache.get(DURATIONS_KEY, {})
    return stored if isinstance(stored, dict) else {}


def store_durations(config: pytest.Config, durations: Mapping[str, float]) -> None:
    """Merge this run's test durations into the cache, for the next run's order."""
    cache = getattr(config, "cache", None)
    if cache is None or not durations:
        return
    merged = {**cached_durations(config), **{k: round(v, 3) for k, v in durations.items()}}
    cache.set(DURATIONS_KEY, merged)
