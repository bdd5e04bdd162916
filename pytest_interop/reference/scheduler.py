"""Runs delayed work (boots, actions, deletes) off the request threads."""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

LOG = logging.getLogger(__name__)


class Scheduler:
    """A timer thread that hands due tasks to a small pool, so slow tasks do not delay others."""

    def __init__(self, workers: int = 8) -> None:
        self._queue: list[tuple[float, int, Callable[[], None]]] = []
        self._sequence = itertools.count()
        self._condition = threading.Condition()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="reference-task")
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="reference-timer", daemon=True)
        self._thread.start()

    def call_later(self, delay: float, task: Callable[[], None]) -> None:
        with self._condition:
            if self._stopped:
                return
            heapq.heappush(self._queue, (time.monotonic() + delay, next(self._sequence), task))
            self._condition.notify()

    def _run(self) -> None:
        while True:
            with self._condition:
                while not self._stopped and (
                    not self._queue or self._queue[0][0] > time.monotonic()
                ):
                    timeout = self._queue[0][0] - time.monotonic() if self._queue else None
                    self._condition.wait(timeout)
                if self._stopped:
                    return
                _, _, task = heapq.heappop(self._queue)
            self._pool.submit(self._guarded, task)

    @staticmethod
    def _guarded(task: Callable[[], None]) -> None:
        try:
            task()
        except Exception:
            LOG.exception("reference cloud: a background task failed")

    def stop(self) -> None:
        with self._condition:
            self._stopped = True
            self._queue.clear()
            self._condition.notify()
        self._thread.join(timeout=5)
        self._pool.shutdown(wait=True, cancel_futures=True)
