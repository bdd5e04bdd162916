"""What a run left on a cloud, counted by looking: the controller's last sweep.

The ledgers of the workers count a resource as leaked when its delete failed; under faults
that over-counts twice: the controller's sweep may remove it afterwards, and a create that
was answered with an error (an intent in the journal, no id) may never have made anything.
So after the workers ended, the controller goes through every journal record still live and
asks the cloud again, a few times: deleted now, or already gone, it is not a leak. One the
cloud answers about and refuses to delete is *leaked* (confirmed: it is there); one the
cloud cannot be asked about (5xx, timeouts after the retries) is *unconfirmed*, reported
apart with the command that finishes the job. A last sweep by the run's tag catches what the
journal could not name.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pytest_interop.errors import InfrastructureError
from pytest_interop.resources import LedgerRecord

ATTEMPTS = 3  # each attempt is itself retried by the adapter's RetryPolicy


@dataclass
class SweepResult:
    deleted: list[str] = field(default_factory=list)
    already_gone: list[str] = field(default_factory=list)
    leaked: list[str] = field(default_factory=list)  # there, and the cloud refused to delete
    unconfirmed: list[str] = field(default_factory=list)  # the cloud could not be asked


def _delete_one(cloud: Any, record: LedgerRecord, result: SweepResult) -> None:
    label = record.describe()
    last: BaseException | None = None
    for _ in range(ATTEMPTS):
        try:
            removed = cloud.delete_record(record)
        except InfrastructureError as exc:  # no answer worth the name: ask again
            last = exc
            continue
        except Exception as exc:  # the cloud answered, and refused: it is there
            result.leaked.append(f"{label}: {type(exc).__name__}: {exc}")
            return
        (result.deleted if removed else result.already_gone).append(label)
        return
    result.unconfirmed.append(f"{label}: {type(last).__name__}: {last}")


def sweep_run(cloud: Any, run_id: str, records: Iterable[LedgerRecord]) -> SweepResult:
    """Delete (or find gone) every live journal record of ``run_id``, then what carries its
    tag; classify what stays. Never raises for the cloud's faults."""
    result = SweepResult()
    unnamed = []  # intents the cloud never answered with an id: the tag pass finds them
    for record in records:
        gone_before = len(result.already_gone)
        _delete_one(cloud, record, result)
        if record.resource_id is None and len(result.already_gone) > gone_before:
            unnamed.append(record.describe())  # not found by name; maybe made, untagged
    for _ in range(ATTEMPTS):
        try:
            tagged = cloud.cleanup_leftovers(run_id=run_id)
        except Exception:  # a listing failed after its retries: try the whole pass again
            continue
        result.deleted += tagged.deleted
        result.leaked += tagged.leaked  # listed, so there
        return result
    result.unconfirmed += [
        f"{label}: not found by id, and the run's tag could not be listed" for label in unnamed
    ]
    return result
