"""Keystone's admin API and default policy, driven by openstacksdk's identity proxy over HTTP.

What an operator script (and Tempest's dynamic credentials) does: create a project and a
user, grant a role, log in as that user, give the project its own network, then clean up;
and what Keystone's default policy refuses to members and readers.
"""

from __future__ import annotations

import secrets
import uuid

import openstack.exceptions as os_exc
import pytest
import requests
from keystoneauth1 import exceptions as ks_exc

from tests.functional.reference.conftest import connect


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _user_config(cloud, project: str, user: str, password: str) -> dict:
    return cloud.project_cloud_config(project, user, password)


@pytest.fixture
def tenant(cloud, admin_conn):
    """A new project and a user holding ``roles`` on it, made through the admin API."""
    made: list = []

    def make(*roles: str):
        identity = admin_conn.identity
        project = identity.create_project(name=_name("proj"), domain_id="default")
        password = secrets.token_urlsafe(16)
        user = identity.create_user(name=_name("user"), password=password, domain_id="default")
        made.append((project, user))
        for role in roles:
            identity.assign_project_role_to_user(project, user, identity.find_role(role))
        return project, user, connect(_user_config(cloud, project.name, user.name, password))

    yield make
    for project, user in made:
        admin_conn.identity.delete_user(user, ignore_missing=True)
        admin_conn.identity.delete_project(project, ignore_missing=True)


def test_project_user_and_grant_life_cycle(cloud, admin_conn, tenant):
    identity = admin_conn.identity
    assert {"admin", "member", "reader"} <= {role.name for role in identity.roles()}
    project, user, conn = tenant("member")
    assert project.id in {p.id for p in identity.projects()}
    assert identity.find_project(project.name).domain_id == "default"
    assert identity.get_user(user.id).name == user.name
    member = identity.find_role("member")
    assert identity.validate_user_has_project_role(project, user, member)
    assert not identity.validate_user_has_project_role(project, user, identity.find_role("admin"))
    rows = list(identity.role_assignments(user_id=user.id))
    assert [(r.scope["project"]["id"], r.role["id"]) for r in rows] == [(project.id, member.id)]

    # The new user logs in to the new project; the token lists the implied reader role.
    access = conn.session.auth.get_access(conn.session)
    assert access.project_id == project.id
    assert set(access.role_names) == {"member", "reader"}
    assert conn.identity.get_project(project.id).name == project.name

    token = conn.session.get_token()
    identity.unassign_project_role_from_user(project, user, member)
    assert not identity.validate_user_has_project_role(project, user, member)
    # Revoking the only role ends the user's token and their access to the project.
    answer = requests.get(
        f"{cloud.auth_url}/projects/{project.id}", headers={"X-Auth-Token": token}, timeout=5
    )
    assert answer.status_code == 401
    conn.session.auth.invalidate()  # logging in again to the project is refused too
    with pytest.raises(ks_exc.Unauthorized):
        conn.session.get_token()


def test_new_project_gets_quotas_security_group_and_its_own_network(cloud, admin_conn, tenant):
    project, _user, conn = tenant("member")
    quotas = conn.compute.get_quota_set(project.id)
    assert quotas.instances == 10 and quotas.cores == 20
    assert [g.name for g in conn.network.security_groups()] == ["default"]
    # As Tempest's dynamic credentials do: the admin builds the project a network, a subnet
    # and a router to the external network, all owned by the project.
    net = admin_conn.network
    external = net.find_network("ext-net")
    network = net.create_network(name=_name("net"), project_id=project.id)
    subnet = net.create_subnet(
        network_id=network.id, cidr="10.100.0.0/28", ip_version=4, project_id=project.id
    )
    router = net.create_router(
        name=_name("router"),
        project_id=project.id,
        external_gateway_info={"network_id": external.id},
    )
    net.add_interface_to_router(router, subnet_id=subnet.id)
    try:
        assert network.id in {n.id for n in conn.network.networks(project_id=project.id)}
        assert conn.network.get_router(router.id).project_id == project.id
    finally:
        net.remove_interface_from_router(router, subnet_id=subnet.id)
        net.delete_router(router)
        net.delete_subnet(subnet)
        net.delete_network(network)
        for group in net.security_groups(project_id=project.id):
            net.delete_security_group(group)


def test_member_cannot_administer_identity(cloud, conn):
    with pytest.raises(os_exc.ForbiddenException):
        conn.identity.create_project(name=_name("nope"), domain_id="default")
    with pytest.raises(os_exc.ForbiddenException):
        list(conn.identity.projects())
    with pytest.raises(os_exc.ForbiddenException):
        list(conn.identity.users())
    with pytest.raises(os_exc.ForbiddenException):
        conn.identity.create_user(name=_name("nope"), password="x", domain_id="default")
    # ... but reads itself and its own project.
    assert conn.identity.get_user(conn.current_user_id).name == "demo"
    assert conn.identity.get_project(conn.current_project_id).name == "demo"


def test_reader_reads_but_cannot_write(cloud, tenant):
    _project, _user, conn = tenant("reader")
    assert [g.name for g in conn.network.security_groups()] == ["default"]
    assert list(conn.compute.servers()) == []
    assert list(conn.block_storage.volumes()) == []
    with pytest.raises(os_exc.ForbiddenException):
        conn.network.create_network(name=_name("net"))
    with pytest.raises(os_exc.ForbiddenException):
        conn.compute.create_keypair(name=_name("key"))
    with pytest.raises(os_exc.ForbiddenException):
        conn.block_storage.create_volume(size=1)
    with pytest.raises(os_exc.ForbiddenException):
        conn.identity.create_project(name=_name("nope"), domain_id="default")


def test_deleted_user_is_logged_out_and_duplicates_conflict(cloud, admin_conn, tenant):
    project, user, conn = tenant("member")
    token = conn.session.get_token()
    with pytest.raises(os_exc.ConflictException):
        admin_conn.identity.create_project(name=project.name, domain_id="default")
    with pytest.raises(os_exc.ConflictException):
        admin_conn.identity.create_user(name=user.name, password="x", domain_id="default")
    admin_conn.identity.delete_user(user)
    answer = requests.get(
        f"{cloud.auth_url}/projects/{project.id}", headers={"X-Auth-Token": token}, timeout=5
    )
    assert answer.status_code == 401
    with pytest.raises(os_exc.NotFoundException):
        admin_conn.identity.get_user(user.id)


def test_group_grants_give_access(cloud, admin_conn):
    identity = admin_conn.identity
    project = identity.create_project(name=_name("proj"), domain_id="default")
    password = secrets.token_urlsafe(16)
    user = identity.create_user(name=_name("user"), password=password, domain_id="default")
    group = identity.create_group(name=_name("group"), domain_id="default")
    try:
        identity.add_user_to_group(user, group)
        assert identity.check_user_in_group(user, group)
        identity.assign_project_role_to_group(project, group, identity.find_role("member"))
        conn = connect(_user_config(cloud, project.name, user.name, password))
        assert conn.session.auth.get_access(conn.session).project_id == project.id
        effective = list(identity.role_assignments(user_id=user.id, effective=True))
        assert [r.scope["project"]["id"] for r in effective] == [project.id]
        assert [u.id for u in identity.group_users(group)] == [user.id]
    finally:
        identity.delete_group(group)
        identity.delete_user(user)
        identity.delete_project(project)
    assert group.id not in {g.id for g in identity.groups()}


def test_domain_must_be_disabled_before_deletion(cloud, admin_conn):
    identity = admin_conn.identity
    domain = identity.create_domain(name=_name("dom"), description="scratch")
    assert identity.find_domain(domain.name).id == domain.id
    assert [d.name for d in identity.domains(name="Default")] == ["Default"]
    with pytest.raises(os_exc.ForbiddenException):
        identity.delete_domain(domain)
    identity.update_domain(domain, enabled=False)
    identity.delete_domain(domain)
    with pytest.raises(os_exc.NotFoundException):
        identity.get_domain(domain.id)


def test_user_without_a_default_project_gets_an_unscoped_token(cloud, admin_conn):
    """Keystone's unscoped token: no project, roles or catalog; good for Keystone only."""
    password = secrets.token_urlsafe(16)
    user = admin_conn.identity.create_user(
        name=_name("user"), password=password, domain_id="default"
    )
    try:
        body = {
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {"user": {"id": user.id, "password": password}},
                }
            }
        }
        issued = requests.post(f"{cloud.auth_url}/auth/tokens", json=body, timeout=5)
        assert issued.status_code == 201
        token = issued.json()["token"]
        assert token["user"]["id"] == user.id
        assert not {"project", "roles", "catalog"} & set(token)
        headers = {"X-Auth-Token": issued.headers["X-Subject-Token"]}
        own = requests.get(f"{cloud.auth_url}/users/{user.id}", headers=headers, timeout=5)
        assert own.status_code == 200
        catalog = requests.get(f"{cloud.auth_url}/auth/catalog", headers=headers, timeout=5)
        assert catalog.status_code == 403
        servers = requests.get(f"{cloud.base_url}/compute/v2.1/servers", headers=headers, timeout=5)
        assert servers.status_code == 401
    finally:
        admin_conn.identity.delete_user(user)
