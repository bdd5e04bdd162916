"""``interop report merge``: several runs of the same guidelines on the same clouds, one report.

A failed run and a ``pytest --lf`` re-run, or runs split by ``-k``, merge into the report a
single full run would have written: the later outcome of a test wins (runs are ordered by
their start), each outcome keeps the run it came from (``run_id``), and every verdict is
recomputed from the merged outcomes and the guideline files (looked up by the sha256 each
report records), never copied from a source. Reports of other guidelines, another target or
other clouds are refused with one line naming the difference.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import os
import secrets
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pytest_interop import compliance, partial, shipped
from pytest_interop.errors import ConfigurationError, GuidelineError
from pytest_interop.guideline.loading import available_guidelines, load_guideline
from pytest_interop.guideline.model import Guideline
from pytest_interop.report.json_report import (
    build_report,
    load_report,
    validate_report,
    write_report,
)

# Embedded clouds listen on a new loopback port every run: their address names no cloud.
LOOPBACK_HOSTS = ("127.", "localhost", "::1", "[::1]")
ADDRESS_KEYS = ("auth_url", "endpoint_url")


class Source:
    """One report given to merge, and where it came from."""

    def __init__(self, path: Path, report: dict[str, Any]) -> None:
        self.path = path
        self.report = report
        self.name = path.name

    @property
    def run_id(self) -> str:
        return self.report["run_id"]

    def runs(self) -> list[dict[str, Any]]:
        """The runs this report stands for: itself, or those it was merged from."""
        merged = self.report.get("merged_from")
        if merged:
            return [dict(run) for run in merged]
        return [
            {
                "run_id": self.run_id,
                "file": self.name,
                "started": self.report["started"],
                "finished": self.report["finished"],
                "partial": bool(self.report.get("partial")),
                "interrupted": bool(self.report.get("interrupted")),
            }
        ]


def _read(path: Path) -> Source:
    try:
        report = load_report(path)
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"{path}: cannot read the report ({exc})") from None
    problems = validate_report(report)
    if problems:
        raise ConfigurationError(f"{path} is not a valid report: {problems[0]}")
    return Source(path, report)


def _stable_identity(identity: Mapping[str, Any]) -> dict[str, Any]:
    """What names a cloud across runs: its identity without an embedded cloud's address."""
    stable = {}
    for key, value in identity.items():
        if key in ADDRESS_KEYS and isinstance(value, str):
            host = urlsplit(value).hostname or ""
            if host.startswith(LOOPBACK_HOSTS) or host in LOOPBACK_HOSTS:
                continue
        stable[key] = value
    return stable


def check_compatible(first: Source, other: Source) -> None:
    """Raise ConfigurationError (one line naming the difference) unless ``other`` ran the
    same guidelines, target and clouds as ``first``."""
    a, b = first.report, other.report
    ids_a = [g["id"] for g in a["guidelines"]]
    ids_b = [g["id"] for g in b["guidelines"]]
    if sorted(ids_a) != sorted(ids_b):
        raise ConfigurationError(
            f"{other.name} ran guideline {' + '.join(ids_b)}, {first.name} ran "
            f"{' + '.join(ids_a)}: only runs of the same guidelines merge"
        )
    sha_a = {g["id"]: g["sha256"] for g in a["guidelines"]}
    for entry in b["guidelines"]:
        if entry["sha256"] != sha_a[entry["id"]]:
            raise ConfigurationError(
                f"guideline {entry['id']} differs between {first.name} (sha256 "
                f"{str(sha_a[entry['id']])[:12]}) and {other.name} (sha256 "
                f"{str(entry['sha256'])[:12]}): only runs of the same guideline file merge"
            )
    if a["target"] != b["target"]:
        raise ConfigurationError(
            f"{other.name} judged target {b['target']!r}, {first.name} {a['target']!r}: "
            "only runs of the same target merge"
        )
    clouds_a = {c["name"]: c for c in a["clouds"]}
    clouds_b = {c["name"]: c for c in b["clouds"]}
    if set(clouds_a) != set(clouds_b):
        raise ConfigurationError(
            f"{other.name} ran on clouds {', '.join(sorted(clouds_b))}, {first.name} on "
            f"{', '.join(sorted(clouds_a))}: only runs on the same clouds merge"
        )
    for name, cloud in clouds_a.items():
        mine = _stable_identity(cloud["identity"])
        theirs = _stable_identity(clouds_b[name]["identity"])
        if mine != theirs:
            key = next(k for k in sorted({*mine, *theirs}) if mine.get(k) != theirs.get(k))
            raise ConfigurationError(
                f"cloud {name} is not the same cloud in {first.name} ({key} "
                f"{mine.get(key)!r}) and {other.name} ({key} {theirs.get(key)!r})"
            )


def _guidelines(report: Mapping[str, Any], dirs: Sequence[Path]) -> list[Guideline]:
    """The guideline files the runs used, found by id and checked by sha256."""
    available = available_guidelines(dirs)
    loaded = []
    for entry in report["guidelines"]:
        path = available.get(entry["id"])
        searched = ", ".join(str(d) for d in dirs)
        if path is None:
            raise ConfigurationError(
                f"guideline {entry['id']} of the reports is not in {searched}; pass "
                "--guideline-dir with the directory that holds it"
            )
        if hashlib.sha256(path.read_bytes()).hexdigest() != entry["sha256"]:
            raise ConfigurationError(
                f"{path}: not the guideline {entry['id']} the runs used (sha256 differs); "
                "pass --guideline-dir with the file they ran against"
            )
        try:
            loaded.append(load_guideline(path))
        except GuidelineError as exc:
            raise ConfigurationError(str(exc)) from None
    return loaded


def _new_run_id(now: dt.datetime) -> str:
    return f"{now:%Y%m%dT%H%M%S}-merged-{secrets.token_hex(3)}"


def _shards(sources: Sequence[Source]) -> dict[str, Any] | None:
    """For shards of one ``--interop-shard`` plan: how many, which merged, which are missing.
    Shards of different plans (another N, or another suite or durations file) are refused: their
    tests overlap or fall between them."""
    records = [(s, s.report["selection"].get("shard")) for s in sources]
    records = [(s, r) for s, r in records if r]
    if not records:
        return None
    first_source, first = records[0]
    for source, record in records[1:]:
        if record["count"] != first["count"] or record.get("plan") != first.get("plan"):
            raise ConfigurationError(
                f"{source.name} is shard {record['index']}/{record['count']} of plan "
                f"{record.get('plan')}, {first_source.name} shard {first['index']}/"
                f"{first['count']} of plan {first.get('plan')}: merge the shards of one plan "
                "(the same guidelines, clouds, suite and --interop-shard-durations)"
            )
    indexes = sorted({r["index"] for _, r in records})
    missing = [i for i in range(1, first["count"] + 1) if i not in indexes]
    return {
        "count": first["count"],
        "plan": first.get("plan"),
        "merged": indexes,
        "missing": missing,
    }


def merge_reports(
    paths: Sequence[str | os.PathLike[str]],
    guideline_dirs: Sequence[str | os.PathLike[str]] = (),
) -> dict[str, Any]:
    """The merged report of ``paths`` (two or more, or shards of one plan), validated;
    ConfigurationError with one line for an unreadable or incompatible report."""
    if not paths:
        raise ConfigurationError("report merge: give the reports to merge")
    sources = [_read(Path(p)) for p in paths]
    if len(sources) < 2 and not sources[0].report["selection"].get("shard"):
        # One shard may be all a fleet's merge step finds; one whole run has nothing to merge.
        raise ConfigurationError("report merge: give two or more reports to merge")
    seen: dict[str, str] = {}
    for source in sources:
        if source.run_id in seen:
            raise ConfigurationError(
                f"{source.name} and {seen[source.run_id]} are the same run {source.run_id}"
            )
        seen[source.run_id] = source.name
        check_compatible(sources[0], source)
    sources.sort(key=lambda s: dt.datetime.fromisoformat(s.report["started"]))
    dirs = [Path(d) for d in guideline_dirs] + [shipped.GUIDELINES_DIR]
    guidelines = _guidelines(sources[0].report, dirs)
    target = sources[0].report["target"]
    selections = compliance.select(guidelines, target)
    clouds = [c["name"] for c in sources[-1].report["clouds"]]

    # The later run's outcome of a node id replaces the earlier one's.
    outcomes: dict[str, dict[str, Any]] = {}
    runs: dict[str, dict[str, Any]] = {}
    missing: set[str] = set()
    renamed: dict[str, str] = {}
    deselected: dict[str, set[str]] = {}
    narrowed_by: list[str] = []
    resources: dict[str, dict[str, int]] = {}
    for source in sources:
        report = source.report
        for run in source.runs():
            runs.setdefault(run["run_id"], run)
        for outcome in report["outcomes"]:
            outcomes[outcome["nodeid"]] = {"run_id": source.run_id, **outcome}
        selection = report["selection"]
        missing.update(selection["missing"])
        renamed.update(selection["renamed"])
        for cloud, entries in (selection.get("deselected") or {}).items():
            deselected.setdefault(cloud, set()).update(entries)
        narrowed_by += [n for n in selection.get("narrowed_by") or [] if n not in narrowed_by]
        for cloud in report["clouds"]:
            mine = resources.setdefault(cloud["name"], {})
            for key, value in (cloud.get("resources") or {}).items():
                mine[key] = mine.get(key, 0) + int(value)

    shards = _shards(sources)
    if shards is not None:  # a missing shard, not the shards' own narrowing, is what was left out
        narrowed_by = [n for n in narrowed_by if not n.startswith("--interop-shard")]
        narrowed_by += [f"shard {i}/{shards['count']} (no report)" for i in shards["missing"]]

    merged_outcomes = [compliance.TestOutcome.from_dict(o) for o in outcomes.values()]
    verdicts = partial.evaluate(selections, clouds, merged_outcomes, missing, deselected)
    if shards is not None and shards["missing"]:  # whatever the shards that came did report
        verdicts = [dataclasses.replace(v, verdict=compliance.INCOMPLETE) for v in verdicts]
    left_out = partial.still_left_out(deselected, merged_outcomes)
    results = [t for v in verdicts for c in v.capabilities for t in c.tests]
    left_names = {e.split("[", 1)[0] for entries in left_out.values() for e in entries}
    # Interrupted while a test it never reached has no outcome from another run either.
    unreached = any(
        t.result == compliance.NOT_RUN and not t.nodeids and t.name not in left_names
        for t in results
    )
    started = min(dt.datetime.fromisoformat(s.report["started"]) for s in sources)
    finished = max(dt.datetime.fromisoformat(s.report["finished"]) for s in sources)
    latest = {c["name"]: c["identity"] for c in sources[-1].report["clouds"]}
    merged = build_report(
        run_id=_new_run_id(dt.datetime.now(dt.UTC)),
        guidelines=guidelines,
        target=target,
        started=started.isoformat(),
        finished=finished.isoformat(),
        duration_seconds=sum(float(s.report["duration_seconds"]) for s in sources),
        interrupted=unreached and any(run["interrupted"] for run in runs.values()),
        verdicts=verdicts,
        identities=latest,
        resources_used=resources,
        outcomes=merged_outcomes,
        missing=sorted({t.name for t in results if t.result == compliance.MISSING}),
        renamed=renamed,
        deselected=left_out,
        narrowed_by=narrowed_by,
    )
    for outcome in merged["outcomes"]:
        outcome["run_id"] = outcomes[outcome["nodeid"]]["run_id"]
    kept: dict[str, int] = {}
    for outcome in merged["outcomes"]:
        kept[outcome["run_id"]] = kept.get(outcome["run_id"], 0) + 1
    merged["merged_from"] = [
        {**run, "outcomes": kept.get(run_id, 0)}
        for run_id, run in sorted(
            runs.items(), key=lambda item: dt.datetime.fromisoformat(item[1]["started"])
        )
    ]
    if shards is not None:
        merged["selection"]["shards"] = shards
    problems = validate_report(merged)
    if problems:  # a bug here, not in the user's input
        raise ConfigurationError(f"the merged report is not valid: {problems[0]}")
    return merged


def write_merged(
    paths: Sequence[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    guideline_dirs: Sequence[str | os.PathLike[str]] = (),
) -> tuple[Path, dict[str, Any]]:
    merged = merge_reports(paths, guideline_dirs)
    return write_report(out, merged), merged


# -- what verification says about a merged report --------------------------------------------


def merged_problems(report: Mapping[str, Any]) -> list[str]:
    """A merged report's outcomes must each name one of its runs, as many as it says."""
    runs = report.get("merged_from")
    if not runs:
        return []
    counts: dict[str, int] = {}
    problems = []
    for outcome in report["outcomes"]:
        run_id = outcome.get("run_id")
        if run_id is None:
            problems.append(f"outcome {outcome['nodeid']} names no run, yet the report is merged")
            continue
        counts[run_id] = counts.get(run_id, 0) + 1
    listed = {run["run_id"] for run in runs}
    for run_id in sorted(set(counts) - listed):
        problems.append(f"outcomes name run {run_id}, which merged_from does not list")
    for run in runs:
        if counts.get(run["run_id"], 0) != run["outcomes"]:
            problems.append(
                f"merged_from says run {run['run_id']} gave {run['outcomes']} outcomes, "
                f"the report has {counts.get(run['run_id'], 0)}"
            )
    return problems


def merged_lines(report: Mapping[str, Any]) -> list[str]:
    """One line per run a merged report was made from (nothing for a single run)."""
    runs = report.get("merged_from") or []
    if not runs:
        return []
    lines = [f"merged from {len(runs)} runs (the later outcome of a test wins):"]
    for run in runs:
        notes = [n for n in ("partial", "interrupted") if run.get(n)]
        lines.append(
            f"  run {run['run_id']} ({run.get('file') or 'no file'}, {run['started']} to "
            f"{run['finished']}{', ' + ', '.join(notes) if notes else ''}): "
            f"{run['outcomes']} outcomes kept"
        )
    return lines
