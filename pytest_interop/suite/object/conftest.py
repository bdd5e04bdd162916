"""Fixtures and helpers of the object-storage tests: fresh containers and credential-less HTTP.

Every test gets containers of its own (``make_container``), removed with their objects at
teardown and, should that fail, by the run's ledger. ``anonymous`` requests carry no
credentials at all: how a temporary URL is meant to be used.
"""

from __future__ import annotations

import contextlib
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from pytest_interop.clouds.base import Cloud, Container, ResourceNotFound, TemporaryUrl

HTTP_TIMEOUT = 30.0
# How long past a temporary URL's expiry the cloud may still honour it (clock skew between
# tester and cloud); the URLs themselves live two seconds.
EXPIRY_GRACE = 15.0
POLL_INTERVAL = 0.25
REFUSED = (401, 403)
TRANSIENT = (429, 500, 502, 503, 504)
TRANSIENT_ATTEMPTS = 4


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes


def anonymous(url: str, method: str = "GET", data: bytes | None = None) -> Answer:
    """One request with no credentials (no token, no signature of ours).

    A 429 or 5xx answer is the cloud's trouble, not the URL's: tried again a few times.
    """
    headers = {"Content-Type": "application/octet-stream"} if data is not None else {}
    for attempt in range(TRANSIENT_ATTEMPTS):
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as response:
                return Answer(response.status, response.read())
        except urllib.error.HTTPError as exc:
            answer = Answer(exc.code, exc.read())
        if answer.status not in TRANSIENT or attempt == TRANSIENT_ATTEMPTS - 1:
            return answer
        time.sleep(0.2 * (attempt + 1))
    raise AssertionError("unreachable")


def use_within_lifetime(
    make: Callable[[], TemporaryUrl], use: Callable[[TemporaryUrl], Answer], attempts: int = 3
) -> tuple[TemporaryUrl, Answer]:
    """Use a fresh URL while it surely lives (at least half a second left when sent).

    A slow tester may need a new URL: one sent too late proves nothing either way.
    """
    for _ in range(attempts):
        url = make()
        sent = time.time()
        answer = use(url)
        if sent < url.expires_at - 0.5:
            return url, answer
    pytest.fail(f"could not use a temporary URL within its lifetime in {attempts} attempts")


def wait_until_refused(
    url: TemporaryUrl, use: Callable[[TemporaryUrl], Answer]
) -> tuple[Answer, float]:
    """Poll the URL past its expiry until the cloud refuses it; (last answer, seconds late)."""
    while True:
        answer = use(url)
        late = time.time() - url.expires_at
        if answer.status in REFUSED or late > EXPIRY_GRACE:
            return answer, late
        time.sleep(POLL_INTERVAL)


@pytest.fixture
def make_container(cloud: Cloud) -> Iterator[Callable[..., Container]]:
    """``make_container(name=None, metadata=None)``: a new container, removed after the test."""
    made: list[str] = []

    def make(name: str | None = None, metadata: dict[str, str] | None = None) -> Container:
        container = cloud.create_container(name, metadata=metadata)
        made.append(container.name)
        return container

    yield make
    for name in reversed(made):
        # With the container go the ones named after it (a versions archive).
        related = [c.name for c in cloud.list_containers(prefix=name) if c.name != name]
        for each in [name, *related]:
            with contextlib.suppress(ResourceNotFound):
                cloud.delete_container(each, purge=True)


@pytest.fixture
def container(make_container: Callable[..., Container]) -> Container:
    return make_container()
