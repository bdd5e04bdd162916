"""images-v2-update: JSON-patch changes to an image are reflected where automation reads them.

The properties that matter most are the ones automation acts on: ``os_distro`` and
``os_admin_user`` decide which account a tool logs in with. A patch must show in GET, in
the listing and in what the adapter's discovery derives from the image.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from pytest_interop.clouds import discovery
from pytest_interop.suite.image.conftest import glance, patch_image, unique_name


@pytest.mark.idempotent_id("cc7c9394-7e08-4a54-bd28-e8396119c2fb")
def test_patched_properties_are_reflected(
    os_conn: Any, cloud: Any, make_image: Callable[..., dict[str, Any]]
) -> None:
    made = make_image(os_distro="ubuntu", interop_note="before")
    new_name = unique_name(cloud, "image-renamed")
    answer = patch_image(
        os_conn,
        made["id"],
        [
            {"op": "replace", "path": "/name", "value": new_name},
            {"op": "replace", "path": "/os_distro", "value": "debian"},
            {"op": "add", "path": "/os_admin_user", "value": "interop-admin"},
            {"op": "replace", "path": "/interop_note", "value": "after"},
            {"op": "add", "path": "/tags", "value": ["interop-patched"]},
        ],
    )
    assert answer.status_code == 200, f"a JSON-patch update answered {answer.status_code}"
    returned = answer.json()
    assert returned["name"] == new_name, "the PATCH answer does not show the new name"

    image = glance(os_conn, "GET", f"/images/{made['id']}").json()
    assert image["name"] == new_name
    assert image["os_distro"] == "debian"
    assert image["os_admin_user"] == "interop-admin"
    assert image["interop_note"] == "after"
    assert image["tags"] == ["interop-patched"]
    assert image["updated_at"] >= made["updated_at"]

    listed = glance(os_conn, "GET", f"/images?name={new_name}").json()["images"]
    assert [item["id"] for item in listed] == [made["id"]], "the listing misses the new name"
    assert glance(os_conn, "GET", f"/images?name={made['name']}").json()["images"] == []

    # What automation derives from the image: the login account comes from os_admin_user.
    seen = cloud.get_image(made["id"])
    assert seen.properties.get("os_admin_user") == "interop-admin"
    assert seen.os_distro == "debian"
    assert discovery.login_user_for(seen) == ("interop-admin", "image property os_admin_user")


@pytest.mark.idempotent_id("58e0a50e-d37f-4235-be85-07a905ab178c")
def test_removed_property_is_gone_and_login_falls_back_to_the_distro(
    os_conn: Any, cloud: Any, make_image: Callable[..., dict[str, Any]]
) -> None:
    made = make_image(os_distro="debian", os_admin_user="interop-admin")
    assert discovery.login_user_for(cloud.get_image(made["id"]))[0] == "interop-admin"
    answer = patch_image(os_conn, made["id"], [{"op": "remove", "path": "/os_admin_user"}])
    assert answer.status_code == 200, f"removing a property answered {answer.status_code}"
    image = glance(os_conn, "GET", f"/images/{made['id']}").json()
    assert "os_admin_user" not in image
    assert image["os_distro"] == "debian"
    user, source = discovery.login_user_for(cloud.get_image(made["id"]))
    assert (user, source) == ("debian", "default for os_distro debian")


@pytest.mark.idempotent_id("9eac5b3f-fa25-4125-9b2a-901ad6b6adb5")
def test_read_only_attributes_and_wrong_media_type_are_refused(
    os_conn: Any, make_image: Callable[..., dict[str, Any]]
) -> None:
    made = make_image()
    status = patch_image(os_conn, made["id"], [{"op": "replace", "path": "/status", "value": "x"}])
    assert status.status_code == 403, f"patching the read-only status answered {status.status_code}"
    plain_json = glance(
        os_conn,
        "PATCH",
        f"/images/{made['id']}",
        json=[{"op": "replace", "path": "/name", "value": "renamed"}],
        headers={"Content-Type": "application/json"},
    )
    assert plain_json.status_code == 415, (
        f"a patch sent as application/json answered {plain_json.status_code}, not 415"
    )
    image = glance(os_conn, "GET", f"/images/{made['id']}").json()
    assert (image["status"], image["name"]) == (made["status"], made["name"])
