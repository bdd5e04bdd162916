"""Keystone's routes, under /identity."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_interop.reference.core.routing import Route, route
from pytest_interop.reference.identity import admin
from pytest_interop.reference.identity.responses import IdentityResponses

if TYPE_CHECKING:
    from pytest_interop.reference.state import CloudState

SERVICE = "identity"


def routes(state: CloudState) -> list[Route]:
    api = IdentityResponses(state)
    public = {"authenticated": False, "faults": False}
    return [
        route(SERVICE, "/identity", "GET", api.versions, **public),
        route(SERVICE, "/identity/v3", "GET", api.version, **public),
        route(SERVICE, "/identity/v3/auth/tokens", "POST", api.create_token, **public),
        route(
            SERVICE, "/identity/v3/auth/tokens", ("GET", "HEAD"), api.validate_token, faults=False
        ),
        route(SERVICE, "/identity/v3/auth/tokens", "DELETE", api.revoke_token, faults=False),
        route(SERVICE, "/identity/v3/auth/catalog", "GET", api.auth_catalog),
        route(SERVICE, "/identity/v3/auth/projects", "GET", api.auth_projects),
        route(SERVICE, "/identity/v3/users/<user_id>/projects", "GET", api.list_user_projects),
        *admin.routes(state),  # domains, projects, users, roles, grants, groups
    ]
