"""How adapters call a cloud: retry transient failures, bound every wait, name the failing call.

Transient means 429, 5xx and dropped connections; each adapter supplies a ``classify``
function that recognises them in its SDK's exceptions and reads ``Retry-After``. Anything
still failing after the retries becomes an
:class:`~pytest_interop.errors.InfrastructureError` naming the call, so the report shows a
broken cloud apart from a missing capability. Exception text is redacted of the adapter's
secrets before it reaches a message.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

import tenacity

from pytest_interop.errors import InfrastructureError
from pytest_interop.redaction import Secrets

T = TypeVar("T")

REDACTED = "***"


@dataclass(frozen=True)
class Failure:
    """What an adapter's classifier says about an exception."""

    transient: bool
    retry_after: float | None = None  # seconds the server asked us to wait


Classifier = Callable[[BaseException], Failure]


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds form; HTTP dates are rare here)."""
    if not value:
        return None
    try:
        return max(0.0, float(value.strip()))
    except ValueError:
        return None


def redact(text: str, secrets: Iterable[str | None]) -> str:
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, REDACTED)
    return text


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6
    initial_delay: float = 0.5
    max_delay: float = 20.0
    max_retry_after: float = 60.0  # a longer Retry-After than this is capped, not obeyed
    sleep: Callable[[float], None] = time.sleep

    def call(
        self,
        call: str,
        fn: Callable[[], T],
        *,
        classify: Classifier,
        secrets: Iterable[str | None] = (),
    ) -> T:
        """Run ``fn``, retrying transient failures; re-raise the rest unchanged."""
        secrets = Secrets(secrets)  # this frame is in every infrastructure error's traceback
        backoff = tenacity.wait_exponential(multiplier=self.initial_delay, max=self.max_delay)

        def wait(state: tenacity.RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            asked = classify(exc).retry_after if exc is not None else None
            if asked is not None:
                return min(asked, self.max_retry_after)
            return backoff(state)

        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception(lambda exc: classify(exc).transient),
            stop=tenacity.stop_after_attempt(self.attempts),
            wait=wait,
            sleep=self.sleep,
            reraise=True,
        )
        try:
            return retrying(fn)
        except Exception as exc:
            if classify(exc).transient:
                message = redact(
                    f"{call} kept failing after {self.attempts} attempts: "
                    f"{type(exc).__name__}: {exc}",
                    secrets,
                )
                raise InfrastructureError(message, call=call) from None
            raise


def wait_until(
    call: str,
    fetch: Callable[[], T],
    *,
    done: Callable[[T], bool],
    failed: Callable[[T], str | None] = lambda _: None,
    timeout: float,
    interval: float = 0.05,
    max_interval: float = 5.0,
    describe: Callable[[T], str] = repr,
) -> T:
    """Poll ``fetch`` until ``done``; raise InfrastructureError on ``failed`` or timeout.

    The first look comes 50 ms after the first fetch: most changes a test waits for (a volume
    available, an attachment made, a volume gone) take well under a second, and the 1.25x
    growth keeps the polls of a long wait few (a 30 s boot: about 22 instead of 16 from
    0.2 s)."""
    deadline = time.monotonic() + timeout
    delay = interval
    while True:
        current = fetch()
        if done(current):
            return current
        reason = failed(current)
        if reason:
            raise InfrastructureError(f"{call}: {reason}", call=call)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise InfrastructureError(
                f"{call}: still {describe(current)} after {timeout:g} s", call=call
            )
        time.sleep(min(delay, remaining))
        delay = min(delay * 1.25, max_interval)  # gently: a wait ends soon after its change
