"""Keystone v3 requests to model calls, model results to Keystone's JSON."""

from __future__ import annotations

from typing import TYPE_CHECKING

from werkzeug.wrappers import Request, Response

from pytest_interop.reference.core.wire import (
    RequestContext,
    empty_response,
    isotime,
    json_body,
    json_response,
)
from pytest_interop.reference.identity import exceptions
from pytest_interop.reference.identity.models import Project, Token

if TYPE_CHECKING:
    from pytest_interop.reference.state import CloudState

VERSION_ID = "v3.14"
VERSION_UPDATED = "2020-04-07T00:00:00Z"
MEDIA_TYPES = [{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}]


class IdentityResponses:
    def __init__(self, state: CloudState) -> None:
        self.state = state

    @property
    def model(self):
        return self.state.identity

    def _version(self, ctx: RequestContext) -> dict:
        return {
            "id": VERSION_ID,
            "status": "stable",
            "updated": VERSION_UPDATED,
            "links": [{"rel": "self", "href": f"{ctx.base_url}/identity/v3/"}],
            "media-types": MEDIA_TYPES,
        }

    def versions(self, ctx: RequestContext, request: Request) -> Response:
        return json_response({"versions": {"values": [self._version(ctx)]}}, status=300)

    def version(self, ctx: RequestContext, request: Request) -> Response:
        return json_response({"version": self._version(ctx)})

    # tokens ----------------------------------------------------------------------------
    def _token_body(self, ctx: RequestContext, token: Token, *, catalog: bool = True) -> dict:
        user, project = token.user, token.project
        domain = self.model.domains[user.domain_id]
        body: dict = {
            "methods": ["password"],
            "user": {
                "id": user.id,
                "name": user.name,
                "domain": {"id": domain.id, "name": domain.name},
                "password_expires_at": None,
            },
            "audit_ids": [token.audit_id],
            "issued_at": isotime(token.issued_at, micro=True),
            "expires_at": isotime(token.expires_at, micro=True),
        }
        if project is None:  # unscoped: no project, roles or catalog
            return {"token": body}
        project_domain = self.model.domains[project.domain_id]
        body.update(
            {
                "project": {
                    "id": project.id,
                    "name": project.name,
                    "domain": {"id": project_domain.id, "name": project_domain.name},
                },
                "is_domain": False,
                "roles": [
                    {"id": self.model.roles[name].id, "name": name}
                    for name in token.roles
                    if name in self.model.roles
                ],
            }
        )
        if catalog:
            body["catalog"] = self.catalog(ctx, project.id)
        return {"token": body}

    def catalog(self, ctx: RequestContext, project_id: str | None = None) -> list[dict]:
        region = self.state.region
        entries = []
        for service in self.state.catalog_services():
            # Per-project endpoints (Swift's /v1/AUTH_<project_id>) name the token's project.
            path = service.path.replace("{project_id}", project_id or ctx.project_id)
            url = f"{ctx.base_url}{path}"
            entries.append(
                {
                    "id": service.id,
                    "type": service.type,
                    "name": service.name,
                    "endpoints": [
                        {
                            "id": f"{service.id}{interface[:3]}",
                            "interface": interface,
                            "region_id": region,
                            "region": region,
                            "url": url,
                        }
                        for interface in ("public", "internal", "admin")
                    ],
                }
            )
        return entries

    def create_token(self, ctx: RequestContext, request: Request) -> Response:
        body = json_body(request, exceptions.bad_request)
        auth = body.get("auth")
        if not isinstance(auth, dict):
            raise exceptions.bad_request("Invalid input for field 'auth'.")
        token = self.model.issue_token(auth)
        with_catalog = "nocatalog" not in request.args
        return json_response(
            self._token_body(ctx, token, catalog=with_catalog),
            status=201,
            headers={"X-Subject-Token": token.id},
        )

    def _subject(self, request: Request) -> Token:
        subject = request.headers.get("X-Subject-Token", "")
        token = self.model.validate_token(subject) if subject else None
        if token is None:
            raise exceptions.not_found("token", "the subject token")
        return token

    def validate_token(self, ctx: RequestContext, request: Request) -> Response:
        token = self._subject(request)
        if not ctx.is_admin and token.user.id != ctx.user_id:
            raise exceptions.KeystoneError(
                "You are not authorized to perform the requested action.", 403
            )
        return json_response(
            self._token_body(ctx, token, catalog="nocatalog" not in request.args),
            headers={"X-Subject-Token": token.id},
        )

    def revoke_token(self, ctx: RequestContext, request: Request) -> Response:
        token = self._subject(request)
        if not ctx.is_admin and token.user.id != ctx.user_id:
            raise exceptions.KeystoneError(
                "You are not authorized to perform the requested action.", 403
            )
        self.model.revoke_token(token.id)
        return empty_response()

    def auth_catalog(self, ctx: RequestContext, request: Request) -> Response:
        if not ctx.project_id:
            raise exceptions.KeystoneError(
                "A project-scoped token is required to produce a service catalog.", 403
            )
        return json_response(
            {
                "catalog": self.catalog(ctx),
                "links": {"self": f"{ctx.base_url}/identity/v3/auth/catalog"},
            }
        )

    # projects and users ----------------------------------------------------------------
    def _project(self, ctx: RequestContext, project: Project) -> dict:
        return {
            "id": project.id,
            "name": project.name,
            "domain_id": project.domain_id,
            "description": project.description,
            "enabled": project.enabled,
            "is_domain": False,
            "parent_id": project.domain_id,
            "tags": [],
            "options": {},
            "links": {"self": f"{ctx.base_url}/identity/v3/projects/{project.id}"},
        }

    def auth_projects(self, ctx: RequestContext, request: Request) -> Response:
        """``/v3/auth/projects``: the projects the token's user may scope to."""
        with self.state.lock:
            projects = self.model.projects_of(self.model.users[ctx.user_id])
            name = request.args.get("name")
            if name:
                projects = [item for item in projects if item.name == name]
            body = [self._project(ctx, item) for item in projects]
        return json_response(
            {
                "projects": body,
                "links": {
                    "self": f"{ctx.base_url}/identity/v3/projects",
                    "next": None,
                    "previous": None,
                },
            }
        )

    def list_user_projects(self, ctx: RequestContext, request: Request, user_id: str) -> Response:
        if user_id != ctx.user_id and not ctx.is_admin:
            raise exceptions.KeystoneError(
                "You are not authorized to perform the requested action.", 403
            )
        with self.state.lock:
            user = self.model.users.get(user_id)
            if user is None:
                raise exceptions.not_found("user", user_id)
            body = [self._project(ctx, item) for item in self.model.projects_of(user)]
        return json_response(
            {
                "projects": body,
                "links": {
                    "self": f"{ctx.base_url}/identity/v3/users/{user_id}/projects",
                    "next": None,
                    "previous": None,
                },
            }
        )
