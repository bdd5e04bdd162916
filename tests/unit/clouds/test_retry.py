"""Retries of transient failures, Retry-After, bounded waits, redacted messages."""

from __future__ import annotations

import pytest

from pytest_interop.clouds.retry import Failure, RetryPolicy, parse_retry_after, redact, wait_until
from pytest_interop.errors import InfrastructureError


class Throttled(Exception):
    def __init__(self, retry_after: float | None = None) -> None:
        super().__init__("slow down")
        self.retry_after = retry_after


def classify(exc: BaseException) -> Failure:
    if isinstance(exc, Throttled):
        return Failure(True, exc.retry_after)
    return Failure(False)


def test_transient_failures_are_retried_honouring_retry_after():
    slept: list[float] = []
    policy = RetryPolicy(attempts=4, initial_delay=0.5, sleep=slept.append)
    answers = iter([Throttled(7), Throttled(None), "ok"])

    def call():
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert policy.call("nova.servers.list", call, classify=classify) == "ok"
    assert slept[0] == 7  # what the server asked for
    assert 0 < slept[1] <= policy.max_delay  # exponential backoff otherwise


def test_retry_after_is_capped():
    slept: list[float] = []
    policy = RetryPolicy(attempts=2, max_retry_after=3, sleep=slept.append)
    with pytest.raises(InfrastructureError):
        policy.call("x", lambda: (_ for _ in ()).throw(Throttled(3600)), classify=classify)
    assert slept == [3]


def test_giving_up_names_the_call_and_hides_secrets():
    policy = RetryPolicy(attempts=3, sleep=lambda _: None)

    def call():
        raise Throttled() from None

    def leaky():
        raise ConnectionResetError("reset while sending password=hunter2secret")

    with pytest.raises(InfrastructureError) as caught:
        policy.call("nova.servers.create", call, classify=classify)
    assert caught.value.call == "nova.servers.create"
    assert "3 attempts" in str(caught.value)

    def classify_all(exc):
        return Failure(True)

    with pytest.raises(InfrastructureError) as caught:
        policy.call("glance.images.list", leaky, classify=classify_all, secrets=["hunter2secret"])
    assert "hunter2secret" not in str(caught.value)
    assert "***" in str(caught.value)


def test_other_errors_pass_through_at_once():
    calls = []

    def call():
        calls.append(1)
        raise KeyError("bad request")

    with pytest.raises(KeyError):
        RetryPolicy(sleep=lambda _: None).call("x", call, classify=classify)
    assert len(calls) == 1


def test_parse_retry_after_and_redact():
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") is None
    assert redact("a secret-value b", ["secret-value", None, "ab"]) == "a *** b"


def test_wait_until_times_out_and_fails_fast():
    with pytest.raises(InfrastructureError, match=r"still 'BUILD' after 0\.05 s"):
        wait_until(
            "boot", lambda: "BUILD", done=lambda s: s == "ACTIVE", timeout=0.05, interval=0.01
        )
    with pytest.raises(InfrastructureError, match="went to ERROR") as caught:
        wait_until(
            "nova.servers.get",
            lambda: "ERROR",
            done=lambda s: s == "ACTIVE",
            failed=lambda s: "went to ERROR" if s == "ERROR" else None,
            timeout=5,
        )
    assert caught.value.call == "nova.servers.get"
    states = iter(["BUILD", "BUILD", "ACTIVE"])
    assert (
        wait_until(
            "b", lambda: next(states), done=lambda s: s == "ACTIVE", timeout=5, interval=0.001
        )
        == "ACTIVE"
    )
