"""One resource shared by the workers of a run: created once, removed after its last user."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest

from pytest_interop.sharing import (
    SharedSlot,
    defer_to_session_end,
    finish_deferred,
    shared_across_workers,
)


class Resources:
    """Creates numbered resources and records what happens to them."""

    def __init__(self) -> None:
        self.events: list[str] = []
        self.count = 0

    @contextlib.contextmanager
    def create(self) -> Iterator[int]:
        self.count += 1
        number = self.count
        self.events.append(f"created {number}")
        try:
            yield number
        finally:
            self.events.append(f"removed {number}")


def use(slot: SharedSlot, resources: Resources):
    return shared_across_workers(slot, resources.create, lambda n: {"n": n}, lambda d: d["n"])


def test_the_second_worker_uses_the_first_workers_resource(tmp_path):
    resources = Resources()
    with (
        use(SharedSlot(tmp_path, "server", "gw0"), resources) as first,
        use(SharedSlot(tmp_path, "server", "gw1"), resources) as second,
    ):
        assert first == second == 1
    assert resources.events == ["created 1", "removed 1"]


def test_the_creator_removes_it_only_after_the_other_users_left(tmp_path):
    resources = Resources()
    attached, release = threading.Event(), threading.Event()

    def other_worker() -> None:
        with use(SharedSlot(tmp_path, "server", "gw1"), resources):
            attached.set()
            assert release.wait(10)
            resources.events.append("gw1 done")

    with use(SharedSlot(tmp_path, "server", "gw0"), resources):
        thread = threading.Thread(target=other_worker)
        thread.start()
        assert attached.wait(10)
        # gw0 is done with it while gw1 still holds it: gw0's removal waits for gw1.
        threading.Timer(0.3, release.set).start()
    thread.join(10)
    assert release.is_set() and not thread.is_alive()
    assert resources.events == ["created 1", "gw1 done", "removed 1"]


def test_a_worker_coming_after_the_removal_creates_its_own(tmp_path):
    resources = Resources()
    with use(SharedSlot(tmp_path, "server", "gw0"), resources):
        pass
    with use(SharedSlot(tmp_path, "server", "gw1"), resources) as later:
        assert later == 2
    assert resources.events == ["created 1", "removed 1", "created 2", "removed 2"]


def test_a_crashed_user_does_not_hold_the_resource(tmp_path):
    resources = Resources()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], stdout=-1)
    with use(SharedSlot(tmp_path, "server", "gw0"), resources):
        # gw1 joined, then died without leaving: its user file names a process that is gone.
        (tmp_path / "server.users" / "gw1").write_text(dead.stdout.decode().strip())
    assert resources.events == ["created 1", "removed 1"]
    assert not (tmp_path / "server.users" / "gw1").exists()


def test_with_defer_the_creators_exit_does_not_wait_and_the_removal_comes_later(tmp_path):
    resources, deferred = Resources(), []
    creator = SharedSlot(tmp_path, "server", "gw0")
    other = use(SharedSlot(tmp_path, "server", "gw1"), resources)
    with shared_across_workers(
        creator, resources.create, lambda n: {"n": n}, lambda d: d["n"], defer=deferred.append
    ):
        other.__enter__()
    # The creator is done at once; the server stays while gw1 uses it.
    assert resources.events == ["created 1"] and len(deferred) == 1
    other.__exit__(None, None, None)
    deferred.pop()()
    assert resources.events == ["created 1", "removed 1"]


def test_with_defer_and_no_other_user_the_removal_is_immediate(tmp_path):
    resources, deferred = Resources(), []
    slot = SharedSlot(tmp_path, "server", "main")
    with shared_across_workers(
        slot, resources.create, lambda n: {"n": n}, lambda d: d["n"], defer=deferred.append
    ):
        pass
    assert resources.events == ["created 1", "removed 1"] and deferred == []


def test_every_deferred_finish_runs_even_when_one_fails(pytester):
    config = pytester.parseconfig()
    ran = []

    def failing():
        ran.append("failing")
        raise RuntimeError("delete failed")

    defer_to_session_end(config)(lambda: ran.append("first"))
    defer_to_session_end(config)(failing)
    with pytest.raises(RuntimeError, match="delete failed"):
        finish_deferred(config)
    assert ran == ["failing", "first"]  # newest first, and the older one still ran
    finish_deferred(config)  # nothing left to run
    assert ran == ["failing", "first"]
