"""objectstore-temp-url-get and -put: a temporary URL works until it expires, and not after.

The URLs live two seconds; the tests poll past the expiry (no long sleeps) and allow the
cloud's clock a little skew (``EXPIRY_GRACE``).
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from pytest_interop.clouds.base import Cloud, Container, TemporaryUrl
from pytest_interop.suite.object.conftest import (
    REFUSED,
    Answer,
    anonymous,
    use_within_lifetime,
    wait_until_refused,
)

LIFETIME = 2


@pytest.mark.idempotent_id("03abb744-b128-429a-adc7-40376a3a8cdf")
def test_temp_url_get_works_until_it_expires(
    cloud: Cloud, container: Container, record_finding: Any
) -> None:
    data = b"shared for two seconds"
    cloud.put_object(container.name, "handout.txt", data)

    def get(url: TemporaryUrl) -> Answer:
        return anonymous(url.url)

    url, answer = use_within_lifetime(
        lambda: cloud.temporary_url(container.name, "handout.txt", seconds=LIFETIME), get
    )
    assert answer.status == 200, f"a live temporary URL answered {answer.status}"
    assert answer.body == data
    refused, late = wait_until_refused(url, get)
    assert refused.status in REFUSED, f"still served {late:.1f} s after expiry"
    record_finding("temp_url_refused_seconds_after_expiry", round(max(late, 0.0), 1))


@pytest.mark.idempotent_id("481e4cee-8f1a-48fb-ac05-285fcd5b279c")
def test_temp_url_get_is_for_its_object_only(cloud: Cloud, container: Container) -> None:
    cloud.put_object(container.name, "public-part", b"ok")
    cloud.put_object(container.name, "private-part", b"secret")
    url = cloud.temporary_url(container.name, "public-part", seconds=60)
    assert anonymous(url.url).body == b"ok"
    elsewhere = anonymous(url.url.replace("public-part", "private-part"))
    assert elsewhere.status in REFUSED, f"another object answered {elsewhere.status}"
    unsigned = anonymous(url.url.split("?", 1)[0])
    assert unsigned.status in REFUSED, f"the object without a signature answered {unsigned.status}"


@pytest.mark.idempotent_id("3fa1cad6-a888-40b5-a021-814d98775882")
def test_temp_url_put_stores_until_it_expires(
    cloud: Cloud, container: Container, record_finding: Any
) -> None:
    def put(payload: bytes) -> Any:
        return lambda url: anonymous(url.url, "PUT", payload)

    url, answer = use_within_lifetime(
        lambda: cloud.temporary_url(container.name, "upload.bin", method="PUT", seconds=LIFETIME),
        put(b"uploaded without credentials"),
    )
    assert answer.status in (200, 201), f"a live temporary PUT URL answered {answer.status}"
    assert cloud.get_object(container.name, "upload.bin") == b"uploaded without credentials"
    # Uploads before the expiry would rightly overwrite: start trying once it has passed here
    # (at most the URL's two seconds), each attempt with bytes of its own.
    time.sleep(max(0.0, url.expires_at - time.time()))
    attempts: list[bytes] = []

    def late_put(url: TemporaryUrl) -> Answer:
        attempts.append(f"late attempt {len(attempts)}".encode())
        return anonymous(url.url, "PUT", attempts[-1])

    refused, late = wait_until_refused(url, late_put)
    assert refused.status in REFUSED, f"still accepted uploads {late:.1f} s after expiry"
    stored = cloud.get_object(container.name, "upload.bin")
    assert stored != attempts[-1], "a refused upload was stored anyway"
    if len(attempts) == 1:
        assert stored == b"uploaded without credentials"
    record_finding("temp_url_refused_seconds_after_expiry", round(max(late, 0.0), 1))
    record_finding("temp_url_uploads_accepted_after_expiry", len(attempts) - 1)
