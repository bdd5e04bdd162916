"""Invalid server requests get Nova's documented error codes, and leave nothing behind.

Capabilities: compute-servers-invalid (unknown flavor, image or network, over-long name, metadata
too large, unknown server), compute-servers-name (a blank name is refused). The codes are Nova's
own (its API reference), so the requests go through ``os_conn``; the *leave nothing behind* half
is what automation relies on: a refused boot must not leave a server to pay for.
Each request is valid but for the one thing under test, so the code answers for that thing.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

import pytest

from pytest_interop.clouds.base import Cloud

from .nova import nova

MAX_NAME = 255  # Nova's limit for server names, metadata keys and values


def boot(os_conn: Any, cloud: Cloud, **changes: Any) -> tuple[Any, str]:
    """POST /servers with a valid request but for ``changes``; returns (response, name).

    The attempt is ledgered like any boot. A server the cloud accepts anyway is deleted at once
    (the test then fails on the status), so a lax cloud does not keep a stray server.
    """
    image, flavor, network = cloud.boot_defaults()
    name = changes["name"] if "name" in changes else cloud.resource_name("invalid")
    body: dict[str, Any] = {"name": name, "imageRef": image.id, "flavorRef": flavor.id}
    if network is not None:
        body["networks"] = [{"uuid": network.id}]
    body.update(changes)
    record = cloud.track_intent("server", name or None)
    response = nova(os_conn, "POST", "/servers", json={"server": body})
    if response.status_code == 202:
        server_id = response.json()["server"]["id"]
        cloud.track_created(record, server_id)
        cloud.delete_server(server_id)
    elif record is not None:
        cloud.ledger.record_abandoned(record)
    return response, name


def assert_refused(response: Any, status: int, what: str) -> None:
    assert response.status_code == status, (
        f"{what}: answered {response.status_code}, not {status}: {response.text[:300]}"
    )
    body = response.json()
    # Nova's fault body: {"badRequest": {"code": 400, "message": "..."}} (name by status)
    faults = [value for value in body.values() if isinstance(value, dict)]
    assert any(fault.get("code") == status and fault.get("message") for fault in faults), (
        f"{what}: the error body {body} carries no code {status} with a message"
    )


def assert_no_server_named(os_conn: Any, name: str) -> None:
    query = urlencode({"name": f"^{name}$"})
    servers = nova(os_conn, "GET", f"/servers?{query}").json()["servers"]
    assert [s for s in servers if s["name"] == name] == [], f"a refused boot left {servers}"


# --- compute-servers-invalid ---------------------------------------------------------------------


@pytest.mark.idempotent_id("0fe30b65-934b-4c92-89a2-915215a6b787")
def test_unknown_flavor_is_refused(os_conn, cloud):
    response, name = boot(os_conn, cloud, flavorRef=str(uuid.uuid4()))
    assert_refused(response, 400, "a boot with an unknown flavor")
    assert_no_server_named(os_conn, name)


@pytest.mark.idempotent_id("2c3ffc32-acfe-435f-85df-2737e108b653")
def test_unknown_image_is_refused(os_conn, cloud):
    response, name = boot(os_conn, cloud, imageRef=str(uuid.uuid4()))
    assert_refused(response, 400, "a boot with an unknown image")
    assert_no_server_named(os_conn, name)


@pytest.mark.idempotent_id("7198b0ad-4c1b-4259-94ee-0b05cf3ac192")
def test_unknown_network_is_refused(os_conn, cloud):
    response, name = boot(os_conn, cloud, networks=[{"uuid": str(uuid.uuid4())}])
    assert_refused(response, 400, "a boot on an unknown network")
    assert_no_server_named(os_conn, name)


@pytest.mark.idempotent_id("59e60b23-3f9a-4065-8792-a7121c4922e6")
def test_over_long_server_name_is_refused(os_conn, cloud):
    prefix = cloud.resource_name("long")
    name = prefix + "n" * (MAX_NAME + 1 - len(prefix))
    response, _ = boot(os_conn, cloud, name=name)
    assert_refused(response, 400, f"a boot with a {len(name)}-character name")
    assert_no_server_named(os_conn, name)


@pytest.mark.idempotent_id("490b4b4c-5a18-4d06-ab53-1c705822db1c")
def test_too_large_metadata_is_refused(os_conn, cloud):
    for label, metadata in (
        ("a metadata value", {"interop-large": "v" * (MAX_NAME + 1)}),
        ("a metadata key", {"k" * (MAX_NAME + 1): "v"}),
    ):
        response, name = boot(os_conn, cloud, metadata=metadata)
        assert_refused(response, 400, f"a boot with {label} of {MAX_NAME + 1} characters")
        assert_no_server_named(os_conn, name)


@pytest.mark.idempotent_id("b9ae00b2-2367-496c-88bf-5ace29889c6a")
def test_invalid_access_ipv6_address_is_refused(os_conn, cloud):
    response, name = boot(os_conn, cloud, accessIPv6="notvalid")
    assert_refused(response, 400, "a boot with accessIPv6 'notvalid'")
    assert_no_server_named(os_conn, name)


@pytest.mark.idempotent_id("edf04060-b867-4045-9848-aa5d398fd8e9")
def test_unknown_server_is_not_found(os_conn):
    unknown = str(uuid.uuid4())
    for method, path, body in (
        ("GET", f"/servers/{unknown}", None),
        ("DELETE", f"/servers/{unknown}", None),
        ("POST", f"/servers/{unknown}/action", {"reboot": {"type": "SOFT"}}),
        ("GET", f"/servers/{unknown}/metadata", None),
    ):
        response = nova(os_conn, method, path, json=body)
        assert_refused(response, 404, f"{method} {path.replace(unknown, '<unknown id>')}")


# --- compute-servers-name ------------------------------------------------------------------------


@pytest.mark.idempotent_id("c93a31b1-e764-4bc0-a85f-a0310d9cf03f")
def test_blank_server_name_is_refused(os_conn, cloud):
    for blank in ("", "   "):
        response, _ = boot(os_conn, cloud, name=blank)
        assert_refused(response, 400, f"a boot with the name {blank!r}")
