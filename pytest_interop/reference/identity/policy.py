"""Keystone's default policy for the admin API, and the roles every cloud starts with.

Keystone ships three default roles, ``admin`` implies ``member`` implies ``reader``, and a
token lists the implied roles too. Its default rules (legacy project scope, as most clouds
run with ``enforce_scope`` off) let an ``admin`` do anything, let anyone read themselves and
their own project, and refuse every other call with 403. Writes need ``admin``: a member
cannot create a project and a reader cannot write anything.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pytest_interop.reference.core.wire import RequestContext
from pytest_interop.reference.identity.exceptions import KeystoneError

DEFAULT_ROLES = ("admin", "member", "reader")
IMPLIES = {"admin": ("member",), "member": ("reader",)}

Rule = Callable[[RequestContext, Mapping[str, Any]], bool]


def effective_roles(names: set[str] | frozenset[str]) -> set[str]:
    """The roles with those they imply (admin -> member -> reader)."""
    found = set(names)
    pending = list(names)
    while pending:
        for implied in IMPLIES.get(pending.pop(), ()):
            if implied not in found:
                found.add(implied)
                pending.append(implied)
    return found


def _admin(ctx: RequestContext, target: Mapping[str, Any]) -> bool:
    return ctx.is_admin


def _self(ctx: RequestContext, target: Mapping[str, Any]) -> bool:
    return bool(ctx.user_id) and target.get("user_id") == ctx.user_id


def _own_project(ctx: RequestContext, target: Mapping[str, Any]) -> bool:
    return bool(ctx.project_id) and target.get("project_id") == ctx.project_id


def _any(*rules: Rule) -> Rule:
    return lambda ctx, target: any(rule(ctx, target) for rule in rules)


RULES: dict[str, Rule] = {
    "identity:list_domains": _admin,
    "identity:get_domain": _any(_admin, lambda c, t: t.get("domain_id") == t.get("own_domain")),
    "identity:create_domain": _admin,
    "identity:update_domain": _admin,
    "identity:delete_domain": _admin,
    "identity:list_projects": _admin,
    "identity:get_project": _any(_admin, _own_project),
    "identity:create_project": _admin,
    "identity:update_project": _admin,
    "identity:delete_project": _admin,
    "identity:list_users": _admin,
    "identity:get_user": _any(_admin, _self),
    "identity:create_user": _admin,
    "identity:update_user": _admin,
    "identity:delete_user": _admin,
    "identity:list_user_projects": _any(_admin, _self),
    "identity:list_groups_for_user": _any(_admin, _self),
    "identity:list_roles": _admin,
    "identity:get_role": _admin,
    "identity:create_role": _admin,
    "identity:delete_role": _admin,
    "identity:list_grants": _admin,
    "identity:check_grant": _admin,
    "identity:create_grant": _admin,
    "identity:revoke_grant": _admin,
    "identity:list_role_assignments": _admin,
    "identity:list_groups": _admin,
    "identity:get_group": _admin,
    "identity:create_group": _admin,
    "identity:update_group": _admin,
    "identity:delete_group": _admin,
    "identity:list_users_in_group": _admin,
    "identity:add_user_to_group": _admin,
    "identity:check_user_in_group": _admin,
    "identity:remove_user_from_group": _admin,
}


def enforce(ctx: RequestContext, action: str, target: Mapping[str, Any] | None = None) -> None:
    """Keystone's 403 unless the default rule for ``action`` lets the caller through."""
    rule = RULES[action]
    if not rule(ctx, target or {}):
        raise KeystoneError(
            f"You are not authorized to perform the requested action: {action}.", 403
        )
