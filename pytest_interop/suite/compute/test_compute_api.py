"""Nova's API-level capabilities: versions and microversions, quotas, availability zones, flavors.

Capabilities: compute-list-api-versions, compute-quotas-get, compute-availability-zones-list
(advisory), compute-flavors-list (advisory). These are OpenStack's API, so they use ``os_conn``
(not applicable on other providers). Each ties what the API reports to something observed:
the microversion range is honoured by requests, quota usage counts the worker's own server,
a quota limit is enforced, the server's zone is a listed one, its flavor is a listed one.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from pytest_interop.errors import NotApplicable

from .nova import nova, nova_json

VERSION = re.compile(r"^(\d+)\.(\d+)$")
# Fields every quota set carries, at every microversion (Nova's API reference).
QUOTA_FIELDS = (
    "instances",
    "cores",
    "ram",
    "key_pairs",
    "metadata_items",
    "server_groups",
    "server_group_members",
)
LIMITS_OF_QUOTA = {
    "instances": "maxTotalInstances",
    "cores": "maxTotalCores",
    "ram": "maxTotalRAMSize",
    "key_pairs": "maxTotalKeypairs",
    "metadata_items": "maxServerMeta",
}


# --- talking to Nova -----------------------------------------------------------------------------


def all_pages(os_conn: Any, path: str, key: str) -> list[dict[str, Any]]:
    """A collection, following its ``<key>_links`` next links when the cloud pages it."""
    items: list[dict[str, Any]] = []
    url: str | None = path
    seen: set[str] = set()
    while url is not None and url not in seen:
        seen.add(url)
        body = nova_json(os_conn, "GET", url)
        items += body[key]
        url = next(
            (link["href"] for link in body.get(f"{key}_links", []) if link.get("rel") == "next"),
            None,
        )
    return items


def version_root(os_conn: Any) -> str:
    """The compute endpoint without its version (and old-style project id) part."""
    endpoint = os_conn.compute.get_endpoint().rstrip("/")
    root = re.sub(r"/v2(\.\d+)?(/[^/]*)?$", "", endpoint)
    assert root != endpoint, f"the compute endpoint {endpoint} names no /v2 version"
    return root


def parse_version(text: str) -> tuple[int, int]:
    match = VERSION.match(text or "")
    assert match, f"{text!r} is not a microversion (N.M)"
    return int(match.group(1)), int(match.group(2))


def server_body(os_conn: Any, server_id: str) -> dict[str, Any]:
    return nova_json(os_conn, "GET", f"/servers/{server_id}")["server"]


# --- compute-list-api-versions -------------------------------------------------------------------


@pytest.mark.idempotent_id("d7200199-b19f-4d62-8bf8-dd8cad17310d")
def test_version_document_lists_the_current_version(os_conn, record_finding):
    versions = nova_json(os_conn, "GET", version_root(os_conn))["versions"]
    current = [item for item in versions if item.get("status") == "CURRENT"]
    assert len(current) == 1, f"exactly one CURRENT version expected: {versions}"
    version = current[0]
    assert version["id"] == "v2.1", f"the current compute API is v2.1, not {version['id']}"
    low, high = parse_version(version["min_version"]), parse_version(version["version"])
    assert (2, 1) <= low <= high, f"min {low} and max {high} microversions are out of order"
    assert any(link.get("rel") == "self" for link in version.get("links", [])), version
    # The versioned endpoint describes itself the same way.
    own = nova_json(os_conn, "GET", "/")["version"]
    assert (own["id"], own["min_version"], own["version"]) == (
        version["id"],
        version["min_version"],
        version["version"],
    ), f"the v2.1 endpoint says {own}, the version list says {version}"
    record_finding("compute_microversions", f"{version['min_version']}-{version['version']}")


@pytest.mark.idempotent_id("ff91d0eb-55e9-49ec-a872-c796cbb1ffea")
def test_microversion_range_is_honoured(os_conn):
    version = next(
        item
        for item in nova_json(os_conn, "GET", version_root(os_conn))["versions"]
        if item.get("status") == "CURRENT"
    )
    low, high = parse_version(version["min_version"]), parse_version(version["version"])
    for wanted in (low, high):
        text = f"{wanted[0]}.{wanted[1]}"
        response = nova(os_conn, "GET", "/flavors", microversion=text)
        assert response.status_code == 200, f"microversion {text}: {response.status_code}"
        answered = response.headers.get("OpenStack-API-Version", "")
        assert answered.lower() == f"compute {text}", (
            f"asked for {text}, the answer says {answered!r}"
        )
    beyond = f"{high[0]}.{high[1] + 1}"
    response = nova(os_conn, "GET", "/flavors", microversion=beyond)
    assert response.status_code == 406, (
        f"microversion {beyond}, above the maximum, answered {response.status_code}, not 406"
    )


# --- compute-quotas-get --------------------------------------------------------------------------


def assert_quota_values(quota_set: dict[str, Any], where: str) -> None:
    for field in QUOTA_FIELDS:
        assert field in quota_set, f"{where} lacks {field}: {sorted(quota_set)}"
        value = quota_set[field]
        assert isinstance(value, int) and not isinstance(value, bool), (
            f"{where} {field} is {value!r}, not an integer"
        )
        assert value >= -1, f"{where} {field} is {value}; -1 (unlimited) is the least"


@pytest.mark.idempotent_id("19158e56-42d7-4ecf-90fb-32520f861ed3")
def test_quota_set_and_defaults_report_integer_limits(os_conn, record_finding):
    project = os_conn.current_project_id
    quota_set = nova_json(os_conn, "GET", f"/os-quota-sets/{project}")["quota_set"]
    assert quota_set.get("id") == project, f"the quota set is for {quota_set.get('id')}"
    assert_quota_values(quota_set, "the project's quota set")
    defaults = nova_json(os_conn, "GET", f"/os-quota-sets/{project}/defaults")["quota_set"]
    assert_quota_values(defaults, "the default quota set")
    # /limits is what clients such as Horizon read; it must say the same.
    absolute = nova_json(os_conn, "GET", "/limits")["limits"]["absolute"]
    for field, limit_name in LIMITS_OF_QUOTA.items():
        assert absolute.get(limit_name) == quota_set[field], (
            f"/limits says {limit_name}={absolute.get(limit_name)}, "
            f"the quota set {field}={quota_set[field]}"
        )
    record_finding("quota_limits", {field: quota_set[field] for field in QUOTA_FIELDS})


@pytest.mark.idempotent_id("91c3d473-30bb-460d-9853-1ea0b5793e39")
def test_quota_usage_counts_the_running_server(os_conn, shared_server):
    project = os_conn.current_project_id
    detail = nova_json(os_conn, "GET", f"/os-quota-sets/{project}/detail")["quota_set"]
    for field in ("instances", "cores", "ram"):
        entry = detail.get(field)
        assert isinstance(entry, dict), f"the quota detail of {field} is {entry!r}"
        limit, in_use = entry["limit"], entry["in_use"]
        assert isinstance(in_use, int) and in_use >= 0, f"{field} in use is {in_use!r}"
        assert limit == -1 or in_use <= limit, f"{field}: {in_use} in use over a limit of {limit}"
    # The worker's own server is running in this project: usage must count at least it.
    flavor = shared_server.flavor
    assert detail["instances"]["in_use"] >= 1, "a running server is not counted in instances"
    assert detail["cores"]["in_use"] >= flavor.vcpus, (
        f"cores in use {detail['cores']['in_use']} < the server's {flavor.vcpus} vCPUs"
    )
    assert detail["ram"]["in_use"] >= flavor.ram_mb, (
        f"RAM in use {detail['ram']['in_use']} MiB < the server's {flavor.ram_mb} MiB"
    )


@pytest.mark.idempotent_id("aec56a1e-5286-42ed-8bd4-218d486a6b5b")
def test_metadata_items_quota_is_enforced(os_conn, cloud, record_finding):
    """A quota limit is not only reported but refused beyond, without booting many servers."""
    project = os_conn.current_project_id
    limit = nova_json(os_conn, "GET", f"/os-quota-sets/{project}")["quota_set"]["metadata_items"]
    if limit < 0:
        raise NotApplicable("the metadata_items quota is unlimited on this cloud")
    image, flavor, network = cloud.boot_defaults()
    name = cloud.resource_name("quota")
    body: dict[str, Any] = {
        "name": name,
        "imageRef": image.id,
        "flavorRef": flavor.id,
        "metadata": {f"item-{index}": "x" for index in range(limit + 1)},
    }
    if network is not None:
        body["networks"] = [{"uuid": network.id}]
    record = cloud.track_intent("server", name)
    response = nova(os_conn, "POST", "/servers", json={"server": body})
    if response.status_code == 202:  # accepted where it must not be: remove it at once
        server_id = response.json()["server"]["id"]
        cloud.track_created(record, server_id)
        cloud.delete_server(server_id)
    elif record is not None:
        cloud.ledger.record_abandoned(record)
    record_finding("metadata_items_over_quota_status", response.status_code)
    assert response.status_code == 403, (
        f"a boot with {limit + 1} metadata items (quota {limit}) answered "
        f"{response.status_code}, not 403: {response.text[:300]}"
    )


# --- compute-availability-zones-list (advisory) --------------------------------------------------


@pytest.mark.idempotent_id("da020505-16a2-4e94-b6de-f30a9cce6a03")
def test_availability_zones_include_the_server_zone(os_conn, shared_server, record_finding):
    zones = nova_json(os_conn, "GET", "/os-availability-zone")["availabilityZoneInfo"]
    assert zones, "no availability zone listed"
    available = set()
    for zone in zones:
        assert isinstance(zone.get("zoneName"), str) and zone["zoneName"], zone
        state = zone.get("zoneState", {}).get("available")
        assert isinstance(state, bool), f"zone {zone['zoneName']} has no available flag: {zone}"
        if state:
            available.add(zone["zoneName"])
    zone_of_server = server_body(os_conn, shared_server.id).get("OS-EXT-AZ:availability_zone")
    record_finding("availability_zones", sorted(available))
    assert zone_of_server in available, (
        f"the running server is in zone {zone_of_server!r}, not an available listed one "
        f"({sorted(available)})"
    )


# --- compute-flavors-list (advisory) -------------------------------------------------------------


def assert_flavor_sizes(flavor: dict[str, Any]) -> None:
    for field, least in (("vcpus", 1), ("ram", 1), ("disk", 0)):
        value = flavor.get(field)
        assert isinstance(value, int) and not isinstance(value, bool), (
            f"flavor {flavor.get('name')} {field} is {value!r}, not an integer"
        )
        assert value >= least, f"flavor {flavor.get('name')} {field} is {value}"


@pytest.mark.idempotent_id("0d144533-9165-4683-98a8-0eed2bc66bc1")
def test_flavor_list_and_detail_agree(os_conn, cloud):
    brief = {item["id"]: item for item in all_pages(os_conn, "/flavors", "flavors")}
    detail = {item["id"]: item for item in all_pages(os_conn, "/flavors/detail", "flavors")}
    assert brief, "no flavor listed"
    assert set(brief) == set(detail), (
        f"the list and the detailed list name different flavors: {sorted(brief)} vs "
        f"{sorted(detail)}"
    )
    for flavor_id, item in detail.items():
        assert brief[flavor_id]["name"] == item["name"], f"flavor {flavor_id} has two names"
        assert_flavor_sizes(item)
    # The adapter's view (what discovery picks from) is the same set with the same sizes.
    adapted = {item.id: item for item in cloud.list_flavors()}
    assert set(adapted) == set(detail)
    for flavor_id, item in adapted.items():
        sizes = (detail[flavor_id]["vcpus"], detail[flavor_id]["ram"], detail[flavor_id]["disk"])
        assert (item.vcpus, item.ram_mb, item.disk_gb) == sizes


@pytest.mark.idempotent_id("8c882284-9832-4e53-9382-6c0196042548")
def test_flavor_get_matches_the_list_and_the_running_server(os_conn, shared_server):
    detail = {item["id"]: item for item in all_pages(os_conn, "/flavors/detail", "flavors")}
    booted = shared_server.flavor
    assert booted.id in detail, f"the running server's flavor {booted.id} is not listed"
    one = nova_json(os_conn, "GET", f"/flavors/{booted.id}")["flavor"]
    for field in ("name", "vcpus", "ram", "disk"):
        assert one[field] == detail[booted.id][field], (
            f"GET /flavors/{booted.id} says {field}={one[field]!r}, the list "
            f"{detail[booted.id][field]!r}"
        )
    assert (one["vcpus"], one["ram"], one["disk"]) == (
        booted.vcpus,
        booted.ram_mb,
        booted.disk_gb,
    )
    missing = nova(os_conn, "GET", f"/flavors/{uuid.uuid4()}")
    assert missing.status_code == 404, f"an unknown flavor answered {missing.status_code}"
