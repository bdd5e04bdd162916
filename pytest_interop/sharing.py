"""A resource all xdist workers of a run share: the first worker that needs it creates it, the
others use it, and the creator removes it once no other worker uses it.

Each worker booting its own read-only server costs a boot per worker on a paying cloud; one
server serves them all as well. Workers of a run share the machine (their resource journals
already live in one directory), so a lock file, a description of the resource and one file
per using worker in that directory are enough. The creator removes the resource itself, so
its ledger stays the one place that knows it; it waits for the other users (checking that
they are still alive) before it does. A worker that comes later than that creates its own.
In a serial run the only user is the creator: it removes the resource at the end, as a
session fixture would.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

T = TypeVar("T")
WAIT_POLL_S = 0.2
_DEFERRED = pytest.StashKey[list[Callable[[], None]]]()


def defer_to_session_end(config: pytest.Config) -> Callable[[Callable[[], None]], None]:
    """A ``defer`` for :func:`shared_across_workers`, run by :func:`finish_deferred`."""
    return config.stash.setdefault(_DEFERRED, []).append


def finish_deferred(config: pytest.Config) -> None:
    """Run what was deferred, newest first, each even if another failed; the plugin calls it at
    the end of a worker's session, before it releases the clouds (and so their ledgers)."""
    with contextlib.ExitStack() as pending:
        for finish in config.stash.get(_DEFERRED, []):
            pending.callback(finish)
        config.stash[_DEFERRED] = []


class SharedSlot:
    """The files behind one shared resource: ``<key>.lock``, ``<key>.json`` (its
    description, present while it exists) and ``<key>.users/<worker>`` (holding the pid)."""

    def __init__(self, directory: Path, key: str, worker: str) -> None:
        self.description_path = directory / f"{key}.json"
        self.lock_path = directory / f"{key}.lock"
        self.users_dir = directory / f"{key}.users"
        self.users_dir.mkdir(parents=True, exist_ok=True)
        self.worker = worker

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        with open(self.lock_path, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def description(self) -> Any | None:
        try:
            return json.loads(self.description_path.read_text())
        except FileNotFoundError:
            return None

    def describe(self, description: Any) -> None:
        partial = self.description_path.with_suffix(".part")
        partial.write_text(json.dumps(description))
        os.replace(partial, self.description_path)

    def join(self) -> None:
        (self.users_dir / self.worker).write_text(str(os.getpid()))

    def leave(self) -> None:
        (self.users_dir / self.worker).unlink(missing_ok=True)

    def other_users(self) -> list[str]:
        """Workers other than this one that still use the resource; a user file whose
        process has died is removed (a crashed worker does not hold the resource)."""
        users = []
        for user in self.users_dir.iterdir():
            if user.name == self.worker:
                continue
            try:
                os.kill(int(user.read_text() or 0), 0)
            except ProcessLookupError:
                user.unlink(missing_ok=True)
                continue
            except (ValueError, PermissionError, FileNotFoundError):
                pass  # not ours to judge: count it as a user
            users.append(user.name)
        return users


@contextlib.contextmanager
def shared_across_workers(
    slot: SharedSlot,
    create: Callable[[], contextlib.AbstractContextManager[T]],
    describe: Callable[[T], Any],
    attach: Callable[[Any], T],
    *,
    defer: Callable[[Callable[[], None]], None] | None = None,
) -> Iterator[T]:
    """Yield the run's shared resource: created here with ``create()`` (a context manager
    that removes it on exit) and described for the others, or attached from the description
    another worker left.

    When the creator is done with it while others still use it, ``defer(finish)`` hands the
    waiting and the removal to the end of this worker's session (without ``defer``, they
    happen here): a test's teardown then never waits for other workers."""
    with contextlib.ExitStack() as owned:
        with slot.locked():
            description = slot.description()
            if description is None:
                resource = owned.enter_context(create())
                slot.describe(describe(resource))
            slot.join()
        if description is not None:
            try:
                yield attach(description)
            finally:
                with slot.locked():
                    slot.leave()
            return
        try:
            yield resource
        finally:
            if defer is not None and _still_used(slot):
                later = owned.pop_all()
                defer(lambda: _finish(slot, later))
            else:
                _wait_for_the_others(slot)


def _still_used(slot: SharedSlot) -> bool:
    with slot.locked():
        return bool(slot.other_users())


def _finish(slot: SharedSlot, owned: contextlib.ExitStack) -> None:
    with owned:  # removed even if the wait is interrupted
        _wait_for_the_others(slot)


def _wait_for_the_others(slot: SharedSlot) -> None:
    """Withdraw the description (later workers create their own), once no other worker uses
    the resource; the caller then removes it."""
    while True:
        with slot.locked():
            if not slot.other_users():
                slot.leave()
                slot.description_path.unlink(missing_ok=True)
                return
        time.sleep(WAIT_POLL_S)
