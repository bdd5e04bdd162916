"""The ledger of what a run created, and its guaranteed clean-up.

Every create is journaled twice: the *intent* (kind and name, before the API call) and the
*id* (once the cloud answered). Each line is flushed and fsynced, so a run killed in the
middle of a boot still leaves a record that ``interop cleanup`` (or :meth:`cleanup`) can act
on: an intent without an id is looked up by its name. Clean-up walks the records newest
first, which deletes floating IPs before their servers and servers before their key pairs.

Everything a run creates carries the run id twice: in its name (``interop-<run_id>-``) and,
where the provider has them, in a tag or metadata key (:data:`TAG_KEY`).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pytest_interop.documents import loads_json

TAG_KEY = "interop-run-id"
CREATED_AT_KEY = "interop-created-at"  # epoch seconds, where a resource can carry it
NAME_PREFIX = "interop-"

INTENDED, CREATED, DELETED, LEAKED = "intended", "created", "deleted", "leaked"


class JournalError(ValueError):
    """A file given as a journal that holds no ledger record."""


def run_prefix(run_id: str) -> str:
    return f"{NAME_PREFIX}{run_id}-"


_RUN_ID_IN_NAME = re.compile(r"^interop-(\d{8}T\d{6})-[0-9a-f]{6}-")


def run_started_at(name: str | None) -> float | None:
    """When the run that named a resource started (epoch seconds, from the run id in the
    name ``interop-<YYYYmmddTHHMMSS>-<hex>-...``); None for another name. What has no
    creation time of its own (a Nova key pair) is aged by it."""
    match = _RUN_ID_IN_NAME.match(name or "")
    if match is None:
        return None
    stamp = dt.datetime.strptime(match.group(1), "%Y%m%dT%H%M%S").replace(tzinfo=dt.UTC)
    return stamp.timestamp()


@dataclass
class LedgerRecord:
    seq: int
    kind: str  # "server", "keypair", "floating_ip", "elastic_ip", "security_group", ...
    name: str | None
    resource_id: str | None = None
    state: str = INTENDED
    detail: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None  # why it leaked

    def describe(self) -> str:
        label = self.name or "-"
        return f"{self.kind} {label} ({self.resource_id or 'id unknown'})"


@dataclass
class CleanupSummary:
    deleted: list[str] = field(default_factory=list)
    already_gone: list[str] = field(default_factory=list)
    leaked: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # could not be aged: why, and the fix

    @property
    def ok(self) -> bool:
        return not self.leaked

    def merge(self, other: CleanupSummary) -> CleanupSummary:
        return CleanupSummary(
            self.deleted + other.deleted,
            self.already_gone + other.already_gone,
            self.leaked + other.leaked,
            self.skipped + other.skipped,
        )

    def as_dict(self) -> dict[str, list[str]]:
        return asdict(self)


# A deleter removes the resource a record names. It returns True when it deleted something,
# False when the resource was already gone, and raises when it could not delete it.
Deleter = Callable[[LedgerRecord], bool]


class ResourceLedger:
    """One run's resources on one cloud, in one process (one per xdist worker and cloud)."""

    def __init__(self, run_id: str, cloud_name: str, journal_path: Path | str) -> None:
        self.run_id = run_id
        self.cloud_name = cloud_name
        self.journal_path = Path(journal_path)
        self.journal_path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._records: list[LedgerRecord] = []
        self._journal = open(self.journal_path, "a", encoding="utf-8")  # noqa: SIM115

    def __repr__(self) -> str:
        return f"<ResourceLedger run={self.run_id!r} cloud={self.cloud_name!r}>"

    @property
    def prefix(self) -> str:
        return run_prefix(self.run_id)

    def new_name(self, kind: str) -> str:
        """A fresh name: run prefix, kind, and a random part unique across workers."""
        return f"{self.prefix}{kind}-{secrets.token_hex(4)}"

    # -- journaling ----------------------------------------------------------------------
    def _write(self, event: str, record: LedgerRecord, **extra: Any) -> None:
        line = {
            "ts": time.time(),
            "run_id": self.run_id,
            "cloud": self.cloud_name,
            "event": event,
            "seq": record.seq,
            "kind": record.kind,
            "name": record.name,
            "id": record.resource_id,
            **extra,
        }
        self._journal.write(json.dumps(line, sort_keys=True) + "\n")
        self._journal.flush()
        os.fsync(self._journal.fileno())

    def intend(self, kind: str, name: str | None, **detail: Any) -> LedgerRecord:
        """Journal that we are about to create ``kind`` called ``name``."""
        with self._lock:
            record = LedgerRecord(len(self._records) + 1, kind, name, detail=dict(detail))
            self._records.append(record)
            self._write("intent", record, detail=record.detail)
            return record

    def record_created(self, record: LedgerRecord, resource_id: str, **detail: Any) -> None:
        with self._lock:
            record.resource_id = resource_id
            record.detail.update(detail)
            record.state = CREATED
            self._write("created", record, detail=record.detail)

    def record_deleted(self, record: LedgerRecord) -> None:
        with self._lock:
            if record.state != DELETED:
                record.state = DELETED
                self._write("deleted", record)

    def record_leaked(self, record: LedgerRecord, reason: str) -> None:
        with self._lock:
            record.state = LEAKED
            record.reason = reason
            self._write("leaked", record, reason=reason)

    def record_abandoned(self, record: LedgerRecord) -> None:
        """The create call failed in a way that proves nothing was made (a 4xx answer)."""
        with self._lock:
            self._records.remove(record)
            self._write("abandoned", record)

    def mark_deleted(self, kind: str, resource_id: str) -> None:
        """A test deleted a ledgered resource itself: nothing left for clean-up."""
        with self._lock:
            for record in self._records:
                if record.kind == kind and record.resource_id == resource_id:
                    self.record_deleted(record)

    def find(self, kind: str, resource_id: str) -> LedgerRecord | None:
        with self._lock:
            for record in self._records:
                if record.kind == kind and record.resource_id == resource_id:
                    return record
        return None

    # -- reading ---------------------------------------------------------------------------
    def records(self) -> list[LedgerRecord]:
        with self._lock:
            return list(self._records)

    def live(self) -> list[LedgerRecord]:
        """Records not known to be deleted, newest first."""
        with self._lock:
            return [r for r in reversed(self._records) if r.state in (INTENDED, CREATED)]

    def totals(self) -> dict[str, int]:
        with self._lock:
            made = [r for r in self._records if r.resource_id is not None]
            return {
                "created": len(made),
                "deleted": sum(1 for r in made if r.state == DELETED),
                "leaked": sum(1 for r in self._records if r.state == LEAKED),
            }

    def cleanup(self, delete: Deleter) -> CleanupSummary:
        """Delete every live record, stacks first (a stack owns what it made), then newest
        first; one failure does not stop the rest."""
        summary = CleanupSummary()
        for record in sorted(self.live(), key=lambda r: r.kind != "stack"):
            try:
                removed = delete(record)
            except Exception as exc:  # each leak is reported, the walk goes on
                self.record_leaked(record, f"{type(exc).__name__}: {exc}")
                summary.leaked.append(f"{record.describe()}: {record.reason}")
                continue
            self.record_deleted(record)
            (summary.deleted if removed else summary.already_gone).append(record.describe())
        return summary

    def close(self) -> None:
        with self._lock:
            if not self._journal.closed:
                self._journal.close()


def read_journal(path: Path | str) -> Iterator[LedgerRecord]:
    """Replay a journal (possibly cut off by a crash); yields the records still live.

    Several ledgers may have appended to one file; records are keyed by (run, cloud, seq).
    """
    records: dict[tuple[str, str, int], LedgerRecord] = {}
    read = torn = 0
    with open(path, encoding="utf-8", errors="replace") as journal:
        for raw in journal:
            try:
                line = loads_json(raw)
                key = (line["run_id"], line["cloud"], line["seq"])
                event = line["event"]
            except (ValueError, TypeError, KeyError):
                torn += 1  # a line torn by the crash
                continue
            read += 1
            if event == "intent":
                records[key] = LedgerRecord(
                    line["seq"], line["kind"], line.get("name"), detail=line.get("detail") or {}
                )
                records[key].detail["run_id"] = line["run_id"]
                records[key].detail["cloud"] = line["cloud"]
            elif key in records:
                record = records[key]
                if event == "created":
                    record.resource_id = line.get("id")
                    record.state = CREATED
                elif event in ("deleted", "abandoned"):
                    record.state = DELETED
                elif event == "leaked":
                    record.state = LEAKED
    if torn and not read:
        raise JournalError(f"{path}: not a ledger journal (no line is a ledger record)")
    live = [r for r in records.values() if r.state in (INTENDED, CREATED, LEAKED)]
    yield from sorted(live, key=lambda r: r.seq, reverse=True)
