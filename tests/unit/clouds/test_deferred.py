"""Deferred tear-down deletes: bounded, waited for before the run's clean-up, and a failed one
left live in the ledger for that clean-up to remove (or count as a leak)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from pytest_interop.clouds.base import Cloud
from pytest_interop.clouds.deferred import DeferredDeletes
from pytest_interop.resources import CREATED, DELETED, LEAKED, LedgerRecord, ResourceLedger


class FakeCloud(Cloud):
    provider = "fake"

    def __init__(self, ledger: ResourceLedger) -> None:
        super().__init__("fake", ledger)
        self.gone: set[str] = set()
        self.refuse: set[str] = set()

    def delete_record(self, record: LedgerRecord) -> bool:
        if record.resource_id in self.refuse:
            raise RuntimeError("the cloud refused")
        if record.resource_id in self.gone:
            return False
        self.gone.add(record.resource_id or "")
        return True

    def delete_volume(self, volume_id: str) -> None:
        if volume_id in self.refuse:
            raise RuntimeError("the cloud refused")
        time.sleep(0.05)
        self.gone.add(volume_id)
        self.track_deleted("volume", volume_id)


@pytest.fixture
def cloud(tmp_path: Path) -> FakeCloud:
    return FakeCloud(ResourceLedger("run", "fake", tmp_path / "journal.jsonl"))


def made(cloud: FakeCloud, ident: str) -> LedgerRecord:
    assert cloud.ledger is not None
    record = cloud.ledger.intend("volume", ident)
    cloud.ledger.record_created(record, ident)
    return record


def test_the_next_test_does_not_wait_and_cleanup_waits_for_the_deletes(cloud: FakeCloud) -> None:
    records = [made(cloud, f"v{n}") for n in range(3)]
    started = time.monotonic()
    for record in records:
        cloud.delete_later(record.name or "", lambda i=record.resource_id: cloud.delete_volume(i))
    assert time.monotonic() - started < 0.1  # three deletes of 50 ms each (0.15 s), none waited for
    summary = cloud.cleanup_run()
    assert [r.state for r in records] == [DELETED] * 3
    assert summary.deleted == [] and summary.leaked == []  # the deferred deletes did it all
    assert cloud.gone == {"v0", "v1", "v2"}


def test_a_failed_deferred_delete_stays_live_for_the_runs_cleanup(cloud: FakeCloud) -> None:
    kept, lost = made(cloud, "kept"), made(cloud, "lost")
    cloud.refuse = {"kept", "lost"}
    for record in (kept, lost):
        cloud.delete_later(record.name or "", lambda i=record.resource_id: cloud.delete_volume(i))
    cloud.deferred.finish()
    assert sorted(cloud.deferred.failures) == ["kept: RuntimeError", "lost: RuntimeError"]
    assert kept.state == lost.state == CREATED
    cloud.refuse = {"lost"}  # the clean-up's second try works for one of them
    summary = cloud.cleanup_run()
    assert kept.state == DELETED and summary.deleted == ["volume kept (kept)"]
    assert lost.state == LEAKED and summary.leaked == [
        "volume lost (lost): RuntimeError: the cloud refused"
    ]


def test_no_more_than_the_limit_is_pending() -> None:
    deferred = DeferredDeletes(limit=2)
    release = threading.Event()
    for n in range(2):
        deferred.submit(f"job {n}", release.wait)
    third = threading.Thread(target=deferred.submit, args=("job 2", lambda: None))
    third.start()
    third.join(timeout=0.2)
    assert third.is_alive() and deferred.pending == 2  # the third waits for a free slot
    release.set()
    third.join(timeout=5)
    deferred.finish()
    assert not third.is_alive() and deferred.pending == 0 and deferred.failures == []
