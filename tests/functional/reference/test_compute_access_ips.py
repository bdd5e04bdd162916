"""Nova's accessIPv4/accessIPv6: set at boot or by update, shown in the details, validated."""

from __future__ import annotations

import pytest

from tests.functional.reference.conftest import boot


def raw_boot(conn, **changes):
    image = conn.image.find_image("Ubuntu-22.04")
    network = conn.network.find_network("public")
    body = {
        "name": "access-ip",
        "imageRef": image.id,
        "flavorRef": conn.compute.find_flavor("small").id,
        "networks": [{"uuid": network.id}],
        **changes,
    }
    return conn.compute.post("/servers", json={"server": body}, raise_exc=False)


def test_access_addresses_set_at_boot_and_by_update_are_shown(conn):
    answer = raw_boot(conn, accessIPv4="192.0.2.7", accessIPv6="2001:db8::7")
    assert answer.status_code == 202
    server_id = answer.json()["server"]["id"]
    try:
        shown = conn.compute.get(f"/servers/{server_id}").json()["server"]
        assert (shown["accessIPv4"], shown["accessIPv6"]) == ("192.0.2.7", "2001:db8::7")
        updated = conn.compute.put(
            f"/servers/{server_id}", json={"server": {"accessIPv4": "198.51.100.1"}}
        ).json()["server"]
        assert (updated["accessIPv4"], updated["accessIPv6"]) == ("198.51.100.1", "2001:db8::7")
    finally:
        conn.compute.delete_server(server_id)


def test_a_server_without_access_addresses_shows_empty_ones(conn):
    server = boot(conn, "no-access-ip", wait=False)
    try:
        shown = conn.compute.get(f"/servers/{server.id}").json()["server"]
        assert (shown["accessIPv4"], shown["accessIPv6"]) == ("", "")
    finally:
        conn.compute.delete_server(server)


@pytest.mark.parametrize(
    "changes",
    [
        {"accessIPv6": "notvalid"},
        {"accessIPv6": "192.0.2.1"},  # an IPv4 address is not an IPv6 one
        {"accessIPv4": "2001:db8::1"},
        {"accessIPv4": 7},
    ],
)
def test_invalid_access_addresses_are_refused(conn, changes):
    before = {s.id for s in conn.compute.servers()}
    answer = raw_boot(conn, **changes)
    assert answer.status_code == 400, answer.text
    assert "accessIPv" in answer.json()["badRequest"]["message"]
    assert {s.id for s in conn.compute.servers()} == before


def test_invalid_access_address_update_is_refused_and_changes_nothing(conn):
    server = boot(conn, "bad-access-update", wait=False)
    try:
        answer = conn.compute.put(
            f"/servers/{server.id}",
            json={"server": {"name": "renamed", "accessIPv6": "notvalid"}},
            raise_exc=False,
        )
        assert answer.status_code == 400
        shown = conn.compute.get(f"/servers/{server.id}").json()["server"]
        assert (shown["name"], shown["accessIPv6"]) == ("bad-access-update", "")
    finally:
        conn.compute.delete_server(server)
