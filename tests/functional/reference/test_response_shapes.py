"""Each group's responses hold the fields the OpenStack API reference documents."""

from __future__ import annotations

import pytest

from tests.functional.reference.conftest import boot

# resource -> (field -> type(s)), from the api-ref pages of Nova 2.79, Glance v2, Neutron v2.0
NONE = type(None)
SERVER = {
    "id": str,
    "name": str,
    "status": str,
    "tenant_id": str,
    "user_id": str,
    "metadata": dict,
    "hostId": str,
    "image": (dict, str),
    "flavor": dict,
    "created": str,
    "updated": str,
    "addresses": dict,
    "accessIPv4": str,
    "accessIPv6": str,
    "links": list,
    "OS-DCF:diskConfig": str,
    "OS-EXT-AZ:availability_zone": str,
    "config_drive": str,
    "key_name": (str, NONE),
    "OS-SRV-USG:launched_at": (str, NONE),
    "OS-SRV-USG:terminated_at": (str, NONE),
    "OS-EXT-STS:task_state": (str, NONE),
    "OS-EXT-STS:vm_state": str,
    "OS-EXT-STS:power_state": int,
    "os-extended-volumes:volumes_attached": list,
    "security_groups": list,
    "locked": bool,
    "description": (str, NONE),
    "tags": list,
    "trusted_image_certificates": (list, NONE),
    "locked_reason": (str, NONE),
}
FLAVOR = {
    "id": str,
    "name": str,
    "vcpus": int,
    "ram": int,
    "disk": int,
    "links": list,
    "OS-FLV-EXT-DATA:ephemeral": int,
    "swap": (int, str),
    "rxtx_factor": float,
    "OS-FLV-DISABLED:disabled": bool,
    "os-flavor-access:is_public": bool,
    "description": (str, NONE),
    "extra_specs": dict,
}
KEYPAIR = {
    "name": str,
    "public_key": str,
    "fingerprint": str,
    "type": str,
    "user_id": str,
    "id": int,
    "created_at": str,
    "deleted": bool,
}
QUOTA_SET = {
    "id": str,
    "instances": int,
    "cores": int,
    "ram": int,
    "key_pairs": int,
    "metadata_items": int,
    "server_groups": int,
    "server_group_members": int,
}
IMAGE = {
    "id": str,
    "name": (str, NONE),
    "status": str,
    "visibility": str,
    "protected": bool,
    "checksum": (str, NONE),
    "os_hash_algo": (str, NONE),
    "os_hash_value": (str, NONE),
    "container_format": (str, NONE),
    "disk_format": (str, NONE),
    "size": (int, NONE),
    "virtual_size": (int, NONE),
    "min_disk": int,
    "min_ram": int,
    "owner": str,
    "created_at": str,
    "updated_at": str,
    "tags": list,
    "file": str,
    "self": str,
    "schema": str,
    "os_hidden": bool,
}
NETWORK = {
    "id": str,
    "name": str,
    "tenant_id": str,
    "project_id": str,
    "status": str,
    "admin_state_up": bool,
    "shared": bool,
    "router:external": bool,
    "subnets": list,
    "mtu": int,
    "port_security_enabled": bool,
    "availability_zones": list,
    "created_at": str,
    "updated_at": str,
    "revision_number": int,
    "tags": list,
    "description": str,
}
SUBNET = {
    "id": str,
    "name": str,
    "network_id": str,
    "project_id": str,
    "cidr": str,
    "ip_version": int,
    "gateway_ip": (str, NONE),
    "enable_dhcp": bool,
    "allocation_pools": list,
    "dns_nameservers": list,
    "host_routes": list,
    "subnetpool_id": (str, NONE),
    "revision_number": int,
}
PORT = {
    "id": str,
    "name": str,
    "network_id": str,
    "project_id": str,
    "mac_address": str,
    "fixed_ips": list,
    "device_id": str,
    "device_owner": str,
    "status": str,
    "admin_state_up": bool,
    "security_groups": list,
    "allowed_address_pairs": list,
    "binding:vnic_type": str,
    "port_security_enabled": bool,
}
SECURITY_GROUP = {
    "id": str,
    "name": str,
    "description": str,
    "project_id": str,
    "security_group_rules": list,
    "stateful": bool,
}
KEYSTONE_TOKEN = {
    "methods": list,
    "user": dict,
    "audit_ids": list,
    "expires_at": str,
    "issued_at": str,
    "project": dict,
    "roles": list,
    "catalog": list,
    "is_domain": bool,
}


def check(body: dict, shape: dict) -> None:
    missing = sorted(set(shape) - set(body))
    assert not missing, f"missing fields {missing}"
    wrong = {
        key: type(body[key]).__name__
        for key, kind in shape.items()
        if not isinstance(body[key], kind)
    }
    assert not wrong, f"wrong types {wrong}"


@pytest.fixture(scope="module")
def server(conn):
    booted = boot(conn, "shapes")
    yield booted
    conn.compute.delete_server(booted)


def test_nova_shapes(conn, server):
    latest = {"microversion": "2.79"}
    detail = conn.compute.get(f"/servers/{server.id}", **latest)
    check(detail.json()["server"], SERVER)
    listed = conn.compute.get("/servers/detail", **latest).json()["servers"]
    check(listed[0], SERVER)
    flavor = conn.compute.get("/flavors/detail", **latest).json()["flavors"][0]
    check(flavor, FLAVOR)
    keypair = conn.compute.post("/os-keypairs", json={"keypair": {"name": "shape"}}, **latest)
    assert keypair.status_code == 201 and "private_key" in keypair.json()["keypair"]
    check(conn.compute.get("/os-keypairs/shape", **latest).json()["keypair"], KEYPAIR)
    conn.compute.delete("/os-keypairs/shape", **latest)
    quota = conn.compute.get(f"/os-quota-sets/{conn.current_project_id}", **latest)
    check(quota.json()["quota_set"], QUOTA_SET)
    created = conn.compute.post(
        "/servers",
        json={
            "server": {
                "name": "shape-2",
                "imageRef": server.image["id"],
                "flavorRef": flavor["id"],
                "networks": "auto",
            }
        },
        **latest,
    )
    assert created.status_code == 202
    assert created.headers["Location"].endswith(created.json()["server"]["id"])
    assert set(created.json()["server"]) >= {"id", "links", "adminPass", "security_groups"}
    conn.compute.delete_server(created.json()["server"]["id"])


def test_glance_shapes(conn):
    images = conn.image.get("/images").json()
    assert set(images) >= {"images", "first", "schema"}
    check(images["images"][0], IMAGE)
    created = conn.image.post(
        "/images", json={"name": "shape", "disk_format": "raw", "container_format": "bare"}
    )
    assert created.status_code == 201 and created.json()["status"] == "queued"
    check(created.json(), IMAGE)
    conn.image.delete(f"/images/{created.json()['id']}")


def test_neutron_shapes(conn, server):
    check(conn.network.get("/networks").json()["networks"][0], NETWORK)
    check(conn.network.get("/subnets").json()["subnets"][0], SUBNET)
    port = conn.network.get(f"/ports?device_id={server.id}").json()["ports"][0]
    check(port, PORT)
    check(conn.network.get("/security-groups").json()["security_groups"][0], SECURITY_GROUP)


def test_keystone_token_shape(cloud):
    import requests

    auth = cloud.cloud_config()["auth"]
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {
                        "name": auth["username"],
                        "domain": {"name": "Default"},
                        "password": auth["password"],
                    }
                },
            },
            "scope": {"project": {"name": auth["project_name"], "domain": {"name": "Default"}}},
        }
    }
    token = requests.post(f"{cloud.auth_url}/auth/tokens", json=body, timeout=5).json()
    check(token["token"], KEYSTONE_TOKEN)
    endpoint = token["token"]["catalog"][0]["endpoints"][0]
    assert set(endpoint) >= {"id", "interface", "region_id", "url", "region"}
