"""The ledger: journal lines as things happen, replay after a crash, reverse-order clean-up."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_interop.resources import (
    CREATED,
    DELETED,
    INTENDED,
    LEAKED,
    ResourceLedger,
    read_journal,
    run_prefix,
)


@pytest.fixture
def ledger(tmp_path: Path):
    book = ResourceLedger("run1", "cloud-a", tmp_path / "sub" / "journal.jsonl")
    yield book
    book.close()


def _events(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_names_carry_the_run_prefix_and_are_unique(ledger):
    names = {ledger.new_name("server") for _ in range(50)}
    assert len(names) == 50
    assert all(n.startswith("interop-run1-server-") for n in names)
    assert run_prefix("run1") == ledger.prefix == "interop-run1-"


def test_intent_is_on_disk_before_the_id_arrives(ledger):
    record = ledger.intend("server", "interop-run1-server-1")
    # Read the file without closing the ledger: the line must already be there.
    events = _events(ledger.journal_path)
    assert [(e["event"], e["kind"], e["name"], e["id"]) for e in events] == [
        ("intent", "server", "interop-run1-server-1", None)
    ]
    ledger.record_created(record, "abc")
    assert _events(ledger.journal_path)[-1]["event"] == "created"
    assert _events(ledger.journal_path)[-1]["id"] == "abc"
    assert record.state == CREATED


def test_totals_and_marking_deleted_by_id(ledger):
    a = ledger.intend("keypair", "k")
    ledger.record_created(a, "k")
    b = ledger.intend("server", "s")
    ledger.record_created(b, "s1")
    ledger.intend("server", "never-answered")
    ledger.mark_deleted("server", "s1")
    assert ledger.totals() == {"created": 2, "deleted": 1, "leaked": 0}
    assert [r.name for r in ledger.live()] == ["never-answered", "k"]


def test_cleanup_goes_newest_first_and_survives_failures(ledger):
    for kind, name in [("keypair", "k"), ("server", "s"), ("floating_ip", None)]:
        record = ledger.intend(kind, name)
        ledger.record_created(record, f"{kind}-id")
    order: list[str] = []

    def delete(record):
        order.append(record.kind)
        if record.kind == "server":
            raise RuntimeError("cloud said no")
        return record.kind != "keypair"  # the key pair was already gone

    summary = ledger.cleanup(delete)
    assert order == ["floating_ip", "server", "keypair"]
    assert summary.deleted == ["floating_ip - (floating_ip-id)"]
    assert summary.already_gone == ["keypair k (keypair-id)"]
    assert summary.leaked == ["server s (server-id): RuntimeError: cloud said no"]
    assert not summary.ok
    assert ledger.totals() == {"created": 3, "deleted": 2, "leaked": 1}
    states = {r.kind: r.state for r in ledger.records()}
    assert states == {"keypair": DELETED, "server": LEAKED, "floating_ip": DELETED}
    assert ledger.cleanup(delete).deleted == []  # nothing live is left to try


def test_replay_of_a_journal_cut_off_by_a_crash(ledger, tmp_path: Path):
    done = ledger.intend("keypair", "k")
    ledger.record_created(done, "k")
    ledger.record_deleted(done)
    server = ledger.intend("server", "s")
    ledger.record_created(server, "s-id")
    ledger.intend("floating_ip", None)
    ledger.close()
    with open(ledger.journal_path, "a") as journal:
        journal.write('{"event": "crea')  # the line the crash tore
    records = list(read_journal(ledger.journal_path))
    assert [(r.kind, r.resource_id, r.state) for r in records] == [
        ("floating_ip", None, INTENDED),
        ("server", "s-id", CREATED),
    ]
    assert records[1].detail["run_id"] == "run1" and records[1].detail["cloud"] == "cloud-a"


def test_two_ledgers_may_share_a_journal(tmp_path: Path):
    path = tmp_path / "j.jsonl"
    first, second = ResourceLedger("r", "a", path), ResourceLedger("r", "b", path)
    first.record_created(first.intend("server", "x"), "1")
    second.record_created(second.intend("server", "y"), "2")
    first.close()
    second.close()
    assert sorted((r.detail["cloud"], r.name) for r in read_journal(path)) == [
        ("a", "x"),
        ("b", "y"),
    ]


def test_abandoned_creates_are_forgotten(ledger):
    record = ledger.intend("server", "refused")
    ledger.record_abandoned(record)
    assert ledger.live() == []
    ledger.close()
    assert list(read_journal(ledger.journal_path)) == []
