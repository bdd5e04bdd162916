"""Partial runs: the guideline tests a user left out, and the *incomplete* verdict.

A guideline test that ``-k``, ``-m``, ``--deselect``, ``--lf``, ``--sw`` or node ids on the
command line left out exists in the suite: it is *not run (deselected)*, never *missing*
(the word stays for tests the suite truly lacks, which count as not passed, as RefStack
counted them). A cloud with any such test is judged *incomplete* (exit status 6): a partial
run certifies nothing until ``interop report merge`` combines it with runs of the rest.

Deselections are kept per cloud as node ids: an item's (``file::test[cloud]``), or a test's
without parameters (``file::test``) for a test that was never collected (node ids on the
command line, files ``--lf`` skipped), which stands for every item of that test.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_interop import compliance, shipped
from pytest_interop.selection import item_idempotent_id, item_test_name

if TYPE_CHECKING:
    from pytest_interop.run import InteropRun

EXIT_INCOMPLETE = 6  # documented in README: 0 compliant, 1 not compliant, 6 incomplete


# -- verdicts (pure) ----------------------------------------------------------------------


def still_left_out(
    deselected: Mapping[str, Iterable[str]], outcomes: Iterable[compliance.TestOutcome]
) -> dict[str, list[str]]:
    """Per cloud, the deselected node ids no outcome covers (a bare test name is covered by
    any outcome of that test on that cloud); clouds with none are left out."""
    ran: set[tuple[str, str]] = set()
    for outcome in outcomes:
        ran.add((outcome.cloud, outcome.nodeid))
        ran.add((outcome.cloud, outcome.test_name))
    left: dict[str, list[str]] = {}
    for cloud, entries in deselected.items():
        remaining = sorted({e for e in entries if (cloud, e) not in ran})
        if remaining:
            left[cloud] = remaining
    return left


def evaluate(
    selections: Sequence[compliance.Selection],
    clouds: Sequence[str],
    outcomes: Iterable[compliance.TestOutcome],
    missing: Iterable[str] = (),
    deselected: Mapping[str, Iterable[str]] | None = None,
) -> list[compliance.CloudVerdict]:
    """:func:`compliance.evaluate`, then *incomplete* for every cloud on which a test the
    user left out has no outcome: a partial run judges nothing, whatever it saw."""
    outcomes = list(outcomes)
    verdicts = compliance.evaluate(selections, clouds, outcomes, missing)
    left = still_left_out(deselected or {}, outcomes)
    return [
        dataclasses.replace(v, verdict=compliance.INCOMPLETE) if left.get(v.cloud) else v
        for v in verdicts
    ]


def exit_status(verdicts: Sequence[compliance.CloudVerdict]) -> int | None:
    """6 when any cloud's verdict is incomplete, else None (the verdict decides)."""
    if any(v.verdict == compliance.INCOMPLETE for v in verdicts):
        return EXIT_INCOMPLETE
    return None


def deselected_names(report: Mapping[str, Any]) -> dict[str, set[str]]:
    """Per cloud, the test names (without parameters) a report says were left out, under
    the guideline's name too when the suite renamed a test."""
    selection = report.get("selection") or {}
    old_names: dict[str, list[str]] = {}
    for old, new in (selection.get("renamed") or {}).items():
        old_names.setdefault(new, []).append(old)
    names: dict[str, set[str]] = {}
    for cloud, entries in (selection.get("deselected") or {}).items():
        mine = names[cloud] = {entry.split("[", 1)[0] for entry in entries}
        for name in list(mine):
            mine.update(old_names.get(name, ()))
    return names


def left_out_count(report: Mapping[str, Any]) -> int:
    """How many guideline tests (on any cloud) a report says were left out."""
    entries = ((report.get("selection") or {}).get("deselected") or {}).values()
    return len({entry.split("[", 1)[0] for cloud_entries in entries for entry in cloud_entries})


def partial_refusal(report: Mapping[str, Any], where: str) -> str | None:
    """The one line that refuses a certification from a partial report, or None."""
    if not report.get("partial"):
        return None
    left = left_out_count(report)
    how = ", ".join((report.get("selection") or {}).get("narrowed_by") or []) or "a selection"
    return (
        f"{where} is a partial run ({how} left out {left} guideline tests; verdict "
        "incomplete): a submission needs a complete run; run the rest and combine the "
        "reports with `interop report merge A.json B.json -o C.json`"
    )


# -- during a run ---------------------------------------------------------------------------


class SelectionWatcher:
    """Records, in the controller and in each xdist worker, the guideline items that other
    plugins deselected (``-k``, ``-m``, ``--deselect``, ``--lf``, ``--sw``) and, once
    collection is over, moves the guideline tests the suite has but the collection left out
    from *missing* to the run's ``deselected``."""

    def __init__(self, run: InteropRun) -> None:
        self.run = run
        self.wanted_ids: set[str] = set()
        self.wanted_names: set[str] = set()
        for selection in run.selections:
            for test in selection.tests_to_run():
                if test.idempotent_id:
                    self.wanted_ids.add(test.idempotent_id.lower())
                self.wanted_names.update((test.name, *test.aliases))
        self.items: list[tuple[str, str, str | None, str | None]] = []

    def _cloud(self, item: pytest.Item) -> str | None:
        callspec = getattr(item, "callspec", None)
        return None if callspec is None else callspec.params.get("cloud")

    def pytest_deselected(self, items: Sequence[pytest.Item]) -> None:
        for item in items:
            test_id = item_idempotent_id(item)
            name = item_test_name(item)
            if (test_id or "") in self.wanted_ids or name in self.wanted_names:
                self.items.append((item.nodeid, name, test_id, self._cloud(item)))

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        settle(self.run, session.config, self.items)


def settle(
    run: InteropRun,
    config: pytest.Config,
    items: Sequence[tuple[str, str, str | None, str | None]],
) -> None:
    """Fill ``run.deselected`` and ``run.narrowed_by``; take left-out tests off ``missing``."""
    clouds = run.cloud_names
    tests = {test.name: test for selection in run.selections for test in selection.tests_to_run()}
    by_id = {t.idempotent_id.lower(): t.name for t in tests.values() if t.idempotent_id}
    by_alias = {alias: t.name for t in tests.values() for alias in (t.name, *t.aliases)}
    for nodeid, name, test_id, cloud in items:
        listed = by_id.get(test_id or "") or by_alias.get(name)
        if listed is not None:
            run.missing.discard(listed)
            if listed != name:
                run.renamed[listed] = name  # as selection reports it for kept items
        for one in [cloud] if cloud else clouds:
            run.deselected.setdefault(one, set()).add(nodeid)
    if run.missing and _collection_narrowed(config):
        for name, found in _present_in_suite(config, run, run.missing).items():
            run.missing.discard(name)
            if found != name:
                run.renamed[name] = found
            for cloud in clouds:
                run.deselected.setdefault(cloud, set()).add(found)
    if run.deselected:
        run.narrowed_by = narrowed_by(config)


def _lf_active(config: pytest.Config) -> bool:
    plugin = config.pluginmanager.get_plugin("lfplugin")
    lf = config.getoption("lf", False)
    return bool(lf and plugin is not None and getattr(plugin, "lastfailed", None))


def _collection_narrowed(config: pytest.Config) -> bool:
    """Whether the user's arguments (or ``--lf``'s skipped files) kept pytest from
    collecting part of the suite, so that an uncollected test may still exist."""
    return config.args_source == pytest.Config.ArgsSource.ARGS or _lf_active(config)


def _full_run_roots(config: pytest.Config) -> list[tuple[Path, Path]]:
    """(root, directory) pairs a guideline run without paths collects: the shipped suite,
    the local suites, and pytest's own default (testpaths, else the invocation dir)."""
    roots = [(shipped.PACKAGE_DIR.parent, shipped.SUITE_DIR)]
    local = [Path(p).resolve() for p in config.option.interop_suite]
    local += [Path(p) for p in config.getini("interop_suite")]
    testpaths = [config.rootpath / p for p in config.getini("testpaths")]
    for directory in local or testpaths or [config.invocation_params.dir]:
        roots.append((config.rootpath, Path(directory)))
    return roots


def _covered_by_args(config: pytest.Config, path: Path) -> bool:
    """True when a whole-file or directory argument would have collected ``path``."""
    if config.args_source != pytest.Config.ArgsSource.ARGS:
        return False
    for arg in config.args:
        if "::" in arg:
            continue
        given = Path(config.invocation_params.dir, arg).resolve()
        if path == given or given in path.parents:
            return True
    return False


def _present_in_suite(config: pytest.Config, run: InteropRun, names: set[str]) -> dict[str, str]:
    """Of the guideline tests ``names``, those the suite's source holds although the
    collection never saw them: guideline name -> the node id found (read with ``ast``)."""
    from pytest_interop.guideline.suite import scan_suite

    tests = {test.name: test for selection in run.selections for test in selection.tests_to_run()}
    found: dict[str, str] = {}
    for root, directory in _full_run_roots(config):
        if not directory.is_dir() or not names - set(found):
            continue
        index = scan_suite(root, [directory])
        by_id = index.by_idempotent_id()
        for name in sorted(names - set(found)):
            test = tests.get(name)
            hits = by_id.get((test.idempotent_id or "") if test else "", [])
            hit = hits[0] if hits else index.tests.get(name)
            if hit is None or _covered_by_args(config, Path(index.root, hit.path)):
                continue
            found[name] = hit.node_id
    return found


def narrowed_by(config: pytest.Config) -> list[str]:
    """How the user narrowed the run, for the report and the summary."""
    option = config.option
    how = []
    if getattr(option, "keyword", ""):
        how.append(f"-k {option.keyword}")
    if getattr(option, "markexpr", ""):
        how.append(f"-m {option.markexpr}")
    if getattr(option, "deselect", None):
        how.append(f"--deselect ({len(option.deselect)})")
    if _lf_active(config):
        how.append("--lf")
    if getattr(option, "stepwise", False) or getattr(option, "stepwise_skip", False):
        how.append("--sw")
    shard = getattr(option, "interop_shard", None) or config.getini("interop_shard")
    if shard:
        how.append(f"--interop-shard {shard}")
    if config.args_source == pytest.Config.ArgsSource.ARGS:
        shown = ", ".join(config.args[:3]) + (", ..." if len(config.args) > 3 else "")
        how.append(f"paths {shown}")
    return how or ["a plugin's deselection"]
