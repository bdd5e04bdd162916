"""The models' rules without HTTP: quotas, metadata, locks, floating IPs, faults, paging."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pytest_interop.reference.addresses import allocate_loopback, is_reachable, release_loopback
from pytest_interop.reference.compute import exceptions as nova
from pytest_interop.reference.compute.machines_glue import MachineGlue
from pytest_interop.reference.core.wire import RequestContext, paginate
from pytest_interop.reference.faults import FaultInjector, FaultSettings
from pytest_interop.reference.network import exceptions as neutron
from pytest_interop.reference.profiles import PROFILES
from pytest_interop.reference.state import CloudState

SETTINGS = FaultSettings(boot_delay=0.0, action_delay=0.0, delete_delay=0.0)


@pytest.fixture
def state() -> Iterator[CloudState]:
    cloud_state = CloudState(PROFILES["floating-ip"], SETTINGS, MachineGlue(2222, enabled=False))
    admin_project = cloud_state.identity.ensure_project("admin")
    cloud_state.identity.add_user("admin", "admin", "pw", roles=("admin",))
    cloud_state.identity.ensure_project("demo")
    cloud_state.identity.add_user("demo", "demo", "pw")
    cloud_state.bootstrap(admin_project)
    yield cloud_state
    cloud_state.close()


def _ctx(state: CloudState, project: str = "demo", *, admin: bool = False) -> RequestContext:
    found = state.identity.find_project(project)
    user = state.identity.find_user("admin" if admin else project)
    return RequestContext(
        base_url="",
        project_id=found.id,
        project_name=found.name,
        user_id=user.id if user else "",
        user_name=project,
        roles=("admin",) if admin else ("member",),
    )


def _boot(state: CloudState, ctx: RequestContext, name: str = "s", flavor: str = "100"):
    image = next(iter(state.image.images.values()))
    return state.compute.create_server(
        ctx, {"name": name, "imageRef": image["id"], "flavorRef": flavor, "networks": "auto"}
    )


def test_password_tokens_and_revocation(state):
    token = state.identity.issue_token(
        {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {"name": "demo", "domain": {"id": "default"}, "password": "pw"}
                },
            }
        }
    )
    assert state.identity.validate_token(token.id) is token
    assert "pw" not in repr(token) and token.id not in repr(token)
    assert state.identity.revoke_token(token.id)
    assert state.identity.validate_token(token.id) is None
    with pytest.raises(Exception) as raised:
        state.identity.issue_token(
            {
                "identity": {
                    "methods": ["password"],
                    "password": {"user": {"name": "demo", "password": "wrong"}},
                }
            }
        )
    assert raised.value.status == 401


def test_instance_quota_is_403(state):
    ctx = _ctx(state)
    state.compute.set_quotas(_ctx(state, "admin", admin=True), ctx.project_id, {"instances": 2})
    _boot(state, ctx, "a")
    _boot(state, ctx, "b")
    with pytest.raises(nova.NovaError) as raised:
        _boot(state, ctx, "c")
    assert raised.value.status == 403 and "instances" in raised.value.message


def test_cores_quota_counts_flavor_vcpus(state):
    ctx = _ctx(state)
    state.compute.set_quotas(_ctx(state, "admin", admin=True), ctx.project_id, {"cores": 5})
    _boot(state, ctx, "big", flavor="102")  # 4 vcpus
    with pytest.raises(nova.NovaError) as raised:
        _boot(state, ctx, "medium", flavor="101")
    assert "cores" in raised.value.message


def test_metadata_limits(state):
    ctx = _ctx(state)
    with pytest.raises(nova.NovaError) as too_many:
        state.compute.check_metadata(ctx.project_id, {f"k{i}": "v" for i in range(129)})
    assert too_many.value.status == 403
    with pytest.raises(nova.NovaError) as too_long:
        state.compute.check_metadata(ctx.project_id, {"k": "v" * 256})
    assert too_long.value.status == 400
    assert state.compute.check_metadata(ctx.project_id, {"k" * 255: "v" * 255})


def test_locked_server_refuses_non_admin_and_admin_lock_needs_admin_unlock(state):
    ctx, admin = _ctx(state), _ctx(state, "admin", admin=True)
    server = _boot(state, ctx)
    state.compute.lock(admin, server.id, "maintenance")
    with pytest.raises(nova.NovaError) as raised:
        state.compute.delete(ctx, server.id)
    assert raised.value.status == 409
    with pytest.raises(nova.NovaError) as denied:
        state.compute.unlock(ctx, server.id)
    assert denied.value.status == 403
    state.compute.unlock(admin, server.id)
    state.compute.delete(ctx, server.id)


def test_other_projects_cannot_see_servers(state):
    state.identity.add_user("other", "other", "pw")
    server = _boot(state, _ctx(state))
    with pytest.raises(nova.NovaError) as raised:
        state.compute.get_server(_ctx(state, "other"), server.id)
    assert raised.value.status == 404
    assert state.compute.list_servers(_ctx(state, "other")) == []


def test_floating_ip_association_needs_a_router(state):
    ctx = _ctx(state)
    net = state.network.create_network(ctx, {"name": "lonely"})
    state.network.create_subnet(ctx, {"network_id": net["id"], "cidr": "10.5.0.0/24"})
    port = state.network.create_port(ctx, {"network_id": net["id"]})
    public = state.network.list(ctx, "networks", {"name": ["public"]})[0]
    fip = state.network.create_floating_ip(ctx, {"floating_network_id": public["id"]})
    assert is_reachable(fip["floating_ip_address"])
    with pytest.raises(neutron.NeutronError) as raised:
        state.network.update_floating_ip(ctx, fip["id"], {"port_id": port["id"]})
    assert raised.value.kind == "ExternalGatewayForFloatingIPNotFound"
    assert port["fixed_ips"][0]["ip_address"] == "10.5.0.2"


def test_private_fixed_addresses_are_never_reachable(state):
    server = _boot(state, _ctx(state))
    port = state.network.store["ports"][server.port_ids[0]]
    assert port["fixed_ips"][0]["ip_address"].startswith("10.0.0.")
    assert state.compute.reachable_addresses(server) == []


def test_faults_are_deterministic_for_a_seed():
    settings = FaultSettings(
        server_error_rate=0.2, rate_limit_rate=0.2, boot_failure_rate=0.5, seed=3
    )
    first, second = FaultInjector(settings), FaultInjector(settings)
    draws = [(first.api_outcome(), first.boot_fails()) for _ in range(50)]
    assert draws == [(second.api_outcome(), second.boot_fails()) for _ in range(50)]
    assert {"ok", "server_error", "rate_limited"} == {outcome for outcome, _ in draws}
    with pytest.raises(ValueError):
        FaultSettings(server_error_rate=2)


def test_loopback_allocation_is_unique_and_in_range():
    addresses = {allocate_loopback() for _ in range(500)}
    assert len(addresses) == 500 and all(is_reachable(address) for address in addresses)
    for address in addresses:
        release_loopback(address)


def test_paginate_marker_and_limit():
    items = [{"id": str(i)} for i in range(5)]
    page = paginate(
        items,
        limit=2,
        marker="1",
        key=lambda item: item["id"],
        marker_missing=lambda m: nova.bad_request(m),
    )
    assert [item["id"] for item in page.items] == ["2", "3"] and page.has_more
    with pytest.raises(nova.NovaError):
        paginate(
            items,
            limit=2,
            marker="x",
            key=lambda item: item["id"],
            marker_missing=lambda m: nova.bad_request(m),
        )
