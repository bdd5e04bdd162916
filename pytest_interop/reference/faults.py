"""Faults and pace: API latency, 5xx and 429 answers, failed and slow boots and deletes.

Every draw comes from one seeded generator, so a run with the same seed and the same
sequence of calls sees the same faults.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, fields


@dataclass(frozen=True)
class FaultSettings:
    """Pace and failure rates; every rate is a probability between 0 and 1."""

    api_latency: float = 0.0  # seconds added to every service call
    api_latency_jitter: float = 0.0  # up to this many seconds more, drawn per call
    server_error_rate: float = 0.0  # answers 503 with the service's error body
    rate_limit_rate: float = 0.0  # answers 429 with Retry-After
    retry_after: int = 1  # seconds, sent in Retry-After
    boot_delay: float = 0.2  # seconds in BUILD before ACTIVE
    boot_failure_rate: float = 0.0  # boots that end in ERROR
    action_delay: float = 0.05  # seconds a reboot/stop/start/resize/... stays in progress
    delete_delay: float = 0.05  # seconds a deleted server lingers as "deleting"
    slow_delete_rate: float = 0.0  # deletes that take slow_delete_delay instead
    slow_delete_delay: float = 2.0
    # Seconds a token stays valid on the server (0: Keystone's 12 h). Its advertised expiry
    # stays 12 h, so a client learns of it by a 401 mid-run, as after a revocation.
    token_lifetime: float = 0.0
    seed: int = 0

    @classmethod
    def knob_names(cls) -> frozenset[str]:
        return frozenset(item.name for item in fields(cls))

    def __post_init__(self) -> None:
        for name in (
            "server_error_rate",
            "rate_limit_rate",
            "boot_failure_rate",
            "slow_delete_rate",
        ):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, not {value}")
        for name in (
            "api_latency",
            "api_latency_jitter",
            "boot_delay",
            "action_delay",
            "delete_delay",
            "slow_delete_delay",
            "token_lifetime",
        ):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")


class FaultInjector:
    """Draws faults from a seeded generator; thread-safe."""

    def __init__(self, settings: FaultSettings) -> None:
        self.settings = settings
        self._random = random.Random(settings.seed)
        self._lock = threading.Lock()

    def _draw(self) -> float:
        with self._lock:
            return self._random.random()

    def api_latency(self) -> float:
        jitter = self.settings.api_latency_jitter
        return self.settings.api_latency + (self._draw() * jitter if jitter else 0.0)

    def api_outcome(self) -> str:
        """``ok``, ``server_error`` or ``rate_limited`` for one call."""
        errors, limits = self.settings.server_error_rate, self.settings.rate_limit_rate
        if not errors and not limits:
            return "ok"
        draw = self._draw()
        if draw < errors:
            return "server_error"
        if draw < errors + limits:
            return "rate_limited"
        return "ok"

    def boot_fails(self) -> bool:
        rate = self.settings.boot_failure_rate
        return bool(rate) and self._draw() < rate

    def delete_delay(self) -> float:
        rate = self.settings.slow_delete_rate
        if rate and self._draw() < rate:
            return self.settings.slow_delete_delay
        return self.settings.delete_delay
