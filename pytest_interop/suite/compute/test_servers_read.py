"""Reading servers: get, list (filters, paging), name, details as asked, host id.

Capabilities: compute-servers-get, compute-servers-list, compute-servers-name,
compute-servers-verify, compute-servers-host. Nothing here changes a server: the worker's shared
server is read (and logged into), and one more server, booted once for this module with a name
and metadata of our choosing, gives the list filters and paging a second item to find.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest

from pytest_interop.clouds.base import Cloud, ResourceNotFound, Server

from .nova import nova, nova_json

BOOT_METADATA = {"interop-purpose": "servers-read", "interop-note": "Asked at boot"}
# A guest sees less RAM than its flavor gives (kernel, firmware, crash kernel).
GUEST_RAM_FLOOR = 0.6
HOSTNAME = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*$")
REGEX_SPECIAL = re.compile(r"([.^$*+?()\[\]{}|\\])")


# --- helpers -------------------------------------------------------------------------------------


def list_ids(os_conn: Any, path: str, **query: Any) -> list[str]:
    url = f"{path}?{urlencode(query)}" if query else path
    return [item["id"] for item in nova_json(os_conn, "GET", url)["servers"]]


def exact_name(*names: str) -> str:
    """A name filter (Nova matches it as a regular expression) that only these names pass."""
    escaped = [REGEX_SPECIAL.sub(r"\\\1", name) for name in names]
    return f"^({'|'.join(escaped)})$" if len(escaped) > 1 else f"^{escaped[0]}$"


def unknown_server_id(cloud: Cloud) -> str:
    if cloud.provider == "aws":
        return "i-" + secrets.token_hex(9)[:17]
    return str(uuid.uuid4())


def sanitized_hostname(name: str) -> str:
    """The host name Nova derives from a server name (lower case, [a-z0-9.-], 63 at most)."""
    text = re.sub(r"[ _]", "-", name.lower())
    text = re.sub(r"[^a-z0-9.-]+", "", text)
    return text.strip(".-")[:63]


def mem_total_mb(node: Any) -> int:
    for line in node.run(["cat", "/proc/meminfo"]).stdout.splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) // 1024
    raise AssertionError("/proc/meminfo has no MemTotal line")


def public_key_blob(public_key: str) -> str:
    parts = public_key.split()
    assert len(parts) >= 2, "not an OpenSSH public key"
    return parts[1]


@pytest.fixture(scope="module")
def named_server(cloud: Cloud) -> Iterator[tuple[Server, str]]:
    """A server booted once for this module with a name and metadata of our choosing."""
    name = f"{cloud.resource_name('named')} Named.Server"
    server = cloud.create_server(name, metadata=BOOT_METADATA)
    try:
        yield server, name
    finally:
        with contextlib.suppress(ResourceNotFound):
            cloud.delete_server(server.id)


# --- compute-servers-get -------------------------------------------------------------------------


@pytest.mark.idempotent_id("0336551f-7fed-4ec5-a870-dc81a81dd4d3")
def test_get_shows_the_running_server(cloud, shared_server):
    got = cloud.get_server(shared_server.id)
    assert got.id == shared_server.id
    assert got.status == "ACTIVE", f"a running server shows {got.status}"
    assert got.name == shared_server.server.name
    assert got.created_at, "the server shows no creation time"
    shown = {address.ip for address in got.addresses}
    assert shared_server.reachable.ip in shown, (
        f"the address we log in through ({shared_server.reachable.via}) is not among the "
        f"server's addresses {sorted(shown)}"
    )


@pytest.mark.idempotent_id("0c5492ce-e6e8-4f87-ab72-9a7a4b43139f")
def test_get_unknown_server_is_not_found(cloud):
    with pytest.raises(ResourceNotFound):
        cloud.get_server(unknown_server_id(cloud))


# --- compute-servers-list ------------------------------------------------------------------------


@pytest.mark.idempotent_id("e6fa4984-b306-481a-b029-5a4b6184c597")
def test_list_shows_servers_as_get_does(cloud, shared_server, named_server):
    listed = {server.id: server for server in cloud.list_servers()}
    for server_id in (shared_server.id, named_server[0].id):
        assert server_id in listed, f"server {server_id} is running but not listed"
        got, seen = cloud.get_server(server_id), listed[server_id]
        for field in ("name", "status", "image_id", "flavor_id", "key_name"):
            assert getattr(seen, field) == getattr(got, field), (
                f"the list shows {field}={getattr(seen, field)!r}, get {getattr(got, field)!r}"
            )


@pytest.mark.idempotent_id("4e0c92ed-0cfa-4b4b-bf4e-2cfb1a169390")
def test_list_filters_by_name_and_status(os_conn, shared_server, named_server):
    shared_name, named_id = shared_server.server.name, named_server[0].id
    assert list_ids(os_conn, "/servers", name=exact_name(shared_name)) == [shared_server.id]
    both = exact_name(shared_name, named_server[1])
    assert set(list_ids(os_conn, "/servers/detail", name=both)) == {shared_server.id, named_id}
    active = list_ids(os_conn, "/servers/detail", name=both, status="ACTIVE")
    assert set(active) == {shared_server.id, named_id}, f"status=ACTIVE gives {active}"
    assert list_ids(os_conn, "/servers/detail", name=both, status="SHUTOFF") == [], (
        "status=SHUTOFF lists running servers"
    )
    assert list_ids(os_conn, "/servers", name=f"^{uuid.uuid4().hex}$") == [], (
        "a name no server has still lists servers"
    )


@pytest.mark.idempotent_id("05290b10-c9a8-484d-b6c9-cb662abc09f1")
def test_list_pages_with_limit_and_marker(os_conn, shared_server, named_server):
    name = exact_name(shared_server.server.name, named_server[1])
    whole = list_ids(os_conn, "/servers/detail", name=name)
    assert len(whole) == 2, f"the name filter should find our two servers, found {whole}"
    first = nova_json(os_conn, "GET", f"/servers/detail?{urlencode({'name': name, 'limit': 1})}")
    assert [item["id"] for item in first["servers"]] == whole[:1], "limit=1 gave another page"
    next_links = [link["href"] for link in first.get("servers_links", []) if link["rel"] == "next"]
    assert next_links, "a full page (limit reached) carries no next link"
    assert f"marker={whole[0]}" in next_links[0], f"the next link {next_links[0]} has no marker"
    # The next link, followed as given, continues after the marker.
    second = nova_json(os_conn, "GET", next_links[0])
    assert [item["id"] for item in second["servers"]] == whole[1:], "the next page is wrong"
    after_last = list_ids(os_conn, "/servers/detail", name=name, limit=1, marker=whole[1])
    assert after_last == [], f"a marker on the last server still lists {after_last}"
    assert list_ids(os_conn, "/servers", name=name, limit=5) == whole, (
        "a limit above the count does not list them all, in the same order"
    )


@pytest.mark.idempotent_id("a98fc693-d8ee-4b73-9123-625938e7baeb")
def test_list_refuses_bad_paging_and_filters(os_conn):
    for query in (
        {"limit": -1},
        {"limit": "abc"},
        {"marker": str(uuid.uuid4())},
        {"changes-since": "not-a-date"},
    ):
        response = nova(os_conn, "GET", f"/servers?{urlencode(query)}")
        assert response.status_code == 400, f"{query} answered {response.status_code}, not 400"


# --- compute-servers-name ------------------------------------------------------------------------


@pytest.mark.idempotent_id("2292893b-7666-4c1c-9286-e460a01e612b")
def test_name_asked_at_boot_is_seen_in_get_and_list(cloud, named_server):
    server, asked = named_server
    assert server.name == asked, f"the boot answered name {server.name!r}, asked {asked!r}"
    assert cloud.get_server(server.id).name == asked
    listed = {item.id: item.name for item in cloud.list_servers()}
    assert listed.get(server.id) == asked, f"the list names it {listed.get(server.id)!r}"


@pytest.mark.idempotent_id("2eaf985b-40c1-46e4-9aed-9a3cbe5650d0")
def test_hostname_inside_follows_the_server_name(shared_server, shared_node, record_finding):
    hostname = shared_node.run(["hostname"]).stdout.strip()
    assert HOSTNAME.match(hostname.lower()), f"the guest's host name {hostname!r} is not valid"
    expected = sanitized_hostname(shared_server.server.name)
    follows = hostname.lower().split(".")[0] == expected.split(".")[0]
    record_finding("hostname", hostname)
    record_finding("hostname_follows_server_name", follows)


# --- compute-servers-verify ----------------------------------------------------------------------


@pytest.mark.idempotent_id("907be1da-0c56-410d-80ff-0b23c4e1d442")
def test_details_show_the_image_flavor_and_key_asked_for(cloud, shared_server):
    got = cloud.get_server(shared_server.id)
    assert got.image_id == shared_server.image.id, (
        f"booted from image {shared_server.image.id}, the details say {got.image_id}"
    )
    flavor = shared_server.flavor
    # Nova names the flavor by id before microversion 2.47 and by name from it on.
    assert got.flavor_id in (flavor.id, flavor.name), (
        f"booted with flavor {flavor.name} ({flavor.id}), the details say {got.flavor_id}"
    )
    assert got.key_name == shared_server.keypair.name, (
        f"booted with key pair {shared_server.keypair.name}, the details say {got.key_name}"
    )


@pytest.mark.idempotent_id("f7e353d2-f773-44b3-a432-87cc320592ec")
def test_metadata_asked_at_boot_is_in_the_details(cloud, named_server):
    server = named_server[0]
    for where, metadata in (
        ("get", cloud.get_server(server.id).metadata),
        ("list", next(s for s in cloud.list_servers() if s.id == server.id).metadata),
        ("metadata", cloud.get_server_metadata(server.id)),
    ):
        missing = {k: v for k, v in BOOT_METADATA.items() if metadata.get(k) != v}
        assert not missing, f"{where} lacks the metadata asked at boot: {missing}"


@pytest.mark.idempotent_id("eecbee35-d642-4864-9dca-0c3b15b22068")
def test_guest_cpus_and_memory_match_the_flavor(shared_server, shared_node, record_finding):
    flavor = shared_server.flavor
    cpus = int(shared_node.run(["nproc"]).stdout.strip())
    memory = mem_total_mb(shared_node)
    record_finding("guest_memory_mb", memory)
    assert cpus == flavor.vcpus, (
        f"the guest sees {cpus} CPUs, flavor {flavor.name} gives {flavor.vcpus}"
    )
    assert GUEST_RAM_FLOOR * flavor.ram_mb <= memory <= flavor.ram_mb, (
        f"the guest sees {memory} MiB, flavor {flavor.name} gives {flavor.ram_mb} MiB"
    )


@pytest.mark.idempotent_id("b3e2b1a3-5145-47fb-b1ec-179c174ff1fb")
def test_key_named_in_the_details_is_the_one_installed(cloud, shared_server, shared_node):
    key_name = cloud.get_server(shared_server.id).key_name
    installed = cloud.get_keypair(key_name).public_key
    authorized = shared_node.run("cat ~/.ssh/authorized_keys").stdout
    assert public_key_blob(installed) in authorized, (
        f"key pair {key_name}, named in the details, is not in the login account's authorized_keys"
    )


# --- compute-servers-host ------------------------------------------------------------------------


@pytest.mark.idempotent_id("30bebd45-2778-401a-9102-69d3c13ff2ba")
def test_host_id_is_present_and_stable(os_conn, shared_server, named_server, record_finding):
    def host_id(server_id: str) -> str:
        value = nova_json(os_conn, "GET", f"/servers/{server_id}")["server"].get("hostId")
        assert isinstance(value, str) and value, f"server {server_id} shows no hostId"
        return value

    first = host_id(shared_server.id)
    assert host_id(shared_server.id) == first, "the hostId changed between two reads"
    name = exact_name(shared_server.server.name)
    listed = nova_json(os_conn, "GET", f"/servers/detail?{urlencode({'name': name})}")["servers"]
    assert [item.get("hostId") for item in listed] == [first], (
        f"the detailed list shows hostId {[item.get('hostId') for item in listed]}, get {first}"
    )
    # An opaque value: neither the server's id nor the project's in clear.
    assert first not in (shared_server.id, os_conn.current_project_id)
    other = host_id(named_server[0].id)
    record_finding("servers_share_host", other == first)
