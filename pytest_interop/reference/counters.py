"""API calls by route and servers booted; live resources are read from the models."""

from __future__ import annotations

import threading
from collections import Counter


class Counters:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: Counter[str] = Counter()
        self.servers_booted = 0
        self.servers_failed = 0

    def count_call(self, service: str, method: str, template: str) -> None:
        with self._lock:
            self._calls[f"{service} {method} {template}"] += 1

    def count_boot(self, *, failed: bool) -> None:
        with self._lock:
            self.servers_booted += 1
            if failed:
                self.servers_failed += 1

    def snapshot(self) -> dict:
        with self._lock:
            return {
                "api_calls": dict(sorted(self._calls.items())),
                "api_calls_total": sum(self._calls.values()),
                "servers_booted": self.servers_booted,
                "servers_failed": self.servers_failed,
            }
