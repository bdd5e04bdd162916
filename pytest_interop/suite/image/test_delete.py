"""images-v2-delete: a deleted image is gone from every view; a protected one stays."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest

from pytest_interop.suite.image.conftest import glance, patch_image


@pytest.mark.idempotent_id("74f2f25e-d92e-4b69-8658-0daf5bf4abcd")
def test_deleted_image_is_gone(os_conn: Any, make_image: Callable[..., dict[str, Any]]) -> None:
    made = make_image(data=os.urandom(1024))
    answer = glance(os_conn, "DELETE", f"/images/{made['id']}")
    assert answer.status_code == 204, f"image delete answered {answer.status_code}"
    assert glance(os_conn, "GET", f"/images/{made['id']}").status_code == 404
    assert glance(os_conn, "GET", f"/images/{made['id']}/file").status_code == 404
    listed = glance(os_conn, "GET", f"/images?name={made['name']}").json()["images"]
    assert listed == [], "a deleted image is still listed"
    again = glance(os_conn, "DELETE", f"/images/{made['id']}")
    assert again.status_code == 404, f"deleting it again answered {again.status_code}"


@pytest.mark.idempotent_id("98848d44-7ff8-485f-947e-4957d827b182")
def test_protected_image_is_not_deleted(
    os_conn: Any, make_image: Callable[..., dict[str, Any]]
) -> None:
    made = make_image(protected=True)
    refused = glance(os_conn, "DELETE", f"/images/{made['id']}")
    assert refused.status_code == 403, f"deleting a protected image answered {refused.status_code}"
    assert glance(os_conn, "GET", f"/images/{made['id']}").status_code == 200
    unprotect = patch_image(
        os_conn, made["id"], [{"op": "replace", "path": "/protected", "value": False}]
    )
    assert unprotect.status_code == 200
    assert glance(os_conn, "DELETE", f"/images/{made['id']}").status_code == 204
    assert glance(os_conn, "GET", f"/images/{made['id']}").status_code == 404
