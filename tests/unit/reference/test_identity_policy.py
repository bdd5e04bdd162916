"""Keystone's default roles and rules, as the reference cloud enforces them."""

from __future__ import annotations

import pytest

from pytest_interop.reference.core.wire import RequestContext
from pytest_interop.reference.identity.exceptions import KeystoneError
from pytest_interop.reference.identity.policy import RULES, effective_roles, enforce


def _ctx(*roles: str) -> RequestContext:
    return RequestContext(base_url="", user_id="u1", project_id="p1", roles=roles)


def test_admin_implies_member_implies_reader():
    assert effective_roles({"admin"}) == {"admin", "member", "reader"}
    assert effective_roles({"member"}) == {"member", "reader"}
    assert effective_roles({"reader", "custom"}) == {"reader", "custom"}


@pytest.mark.parametrize("roles", [("member", "reader"), ("reader",)])
def test_members_and_readers_cannot_write_the_directory(roles):
    writes = [
        action
        for action in RULES
        if action.split(":")[1].split("_")[0]
        in {"create", "update", "delete", "add", "remove", "revoke"}
    ]
    assert "identity:create_project" in writes and len(writes) > 15
    for action in writes:
        with pytest.raises(KeystoneError) as refused:
            enforce(_ctx(*roles), action, {"user_id": "u1", "project_id": "p1"})
        assert refused.value.status == 403 and action in refused.value.message


def test_anyone_reads_themselves_and_their_project_only():
    reader = _ctx("reader")
    enforce(reader, "identity:get_user", {"user_id": "u1"})
    enforce(reader, "identity:get_project", {"project_id": "p1"})
    for action, target in [
        ("identity:get_user", {"user_id": "u2"}),
        ("identity:get_project", {"project_id": "p2"}),
        ("identity:list_projects", {}),
    ]:
        with pytest.raises(KeystoneError):
            enforce(reader, action, target)


def test_admin_passes_every_rule():
    for action in RULES:
        enforce(_ctx("admin", "member", "reader"), action, {})
