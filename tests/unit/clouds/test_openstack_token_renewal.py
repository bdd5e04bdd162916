"""Every 401 earns a token renewal and one retry, also when another thread's 401 has just
dropped the token (keystoneauth retries only if its invalidation dropped something)."""

from __future__ import annotations

import openstack.connection

from pytest_interop.clouds.openstack import OpenStackCloud


def connection() -> openstack.connection.Connection:
    return openstack.connection.Connection(  # nothing is asked of the endpoint here
        auth_url="http://127.0.0.1:9/v3",
        username="u",
        password="p",
        project_name="p",
        user_domain_name="Default",
        project_domain_name="Default",
    )


def test_a_second_invalidation_still_asks_for_a_retry() -> None:
    conn = connection()
    OpenStackCloud("c", conn)
    auth = conn.session.auth
    auth.auth_ref = object()  # a token held
    assert conn.session.invalidate(auth) is True  # the first 401 drops it
    assert auth.auth_ref is None
    assert conn.session.invalidate(auth) is True  # the second 401 retries all the same


def test_views_sharing_a_plugin_wrap_it_once() -> None:
    conn = connection()
    OpenStackCloud("c", conn)
    wrapped = conn.session.auth.invalidate
    OpenStackCloud("c", conn)
    assert conn.session.auth.invalidate is wrapped
