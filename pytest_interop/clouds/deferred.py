"""Tear-down deletes that do not hold up the next test.

A fixture's clean-up asks for its deletes and moves on; a few threads see them through (the
delete call and the wait until the resource is gone). Each resource stays live in the
ledger until its delete is seen through, so one that fails is removed again by the run's
clean-up, and counted there as a leak if that fails too. At most ``limit`` jobs are pending
at once: a run never holds more than that beyond what its tests hold, whatever the quota.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

LOG = logging.getLogger(__name__)

DEFAULT_LIMIT = 4


class DeferredDeletes:
    """A bounded queue of delete jobs for one adapter (and its sibling views)."""

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self.limit = limit
        self._slots = threading.BoundedSemaphore(limit)
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._pending: set[Future[None]] = set()
        self.failures: list[str] = []

    def submit(self, label: str, job: Callable[[], None]) -> None:
        """Run ``job`` (the deletes of one fixture, in their order) on a deleting thread;
        blocks while ``limit`` jobs are pending."""
        self._slots.acquire()
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.limit, thread_name_prefix="interop-delete")
            future = self._pool.submit(self._run, label, job)
            self._pending.add(future)
        future.add_done_callback(self._done)

    def _run(self, label: str, job: Callable[[], None]) -> None:
        try:
            job()
        except Exception as exc:  # the ledger keeps it: the run's clean-up tries again
            LOG.warning("deferred delete of %s failed: %s: %s", label, type(exc).__name__, exc)
            with self._lock:
                self.failures.append(f"{label}: {type(exc).__name__}")

    def _done(self, future: Future[None]) -> None:
        with self._lock:
            self._pending.discard(future)
        self._slots.release()

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._pending)

    def finish(self, *, cancel: bool = False) -> None:
        """Wait for every job; ``cancel`` drops those not started (a Ctrl-C: the run's
        clean-up deletes what they would have)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=cancel)
