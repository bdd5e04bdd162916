"""Keystone v3's admin API on the wire: domains, projects, users, roles, grants, groups.

Bodies and status codes follow Keystone's API reference (201 on create with the entity,
204 on delete, grant and membership changes); the policy and rules live in ``directory``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from pytest_interop.reference.core.routing import Route, route
from pytest_interop.reference.core.wire import (
    RequestContext,
    empty_response,
    json_body,
    json_response,
    truthy,
)
from pytest_interop.reference.identity import exceptions
from pytest_interop.reference.identity.directory import Directory
from pytest_interop.reference.identity.models import Domain, Group, Project, Role, User
from pytest_interop.reference.identity.policy import enforce

if TYPE_CHECKING:
    from pytest_interop.reference.state import CloudState

SERVICE = "identity"
V3 = "/identity/v3"


def _entity(request: Request, key: str) -> dict[str, Any]:
    body = json_body(request, exceptions.bad_request).get(key)
    if not isinstance(body, dict):
        raise exceptions.bad_request(f"Invalid input for field '{key}'.")
    return body


def _filtered(items: list[Any], request: Request, *fields: str) -> list[Any]:
    """Keystone's list filters: exact match on the given attributes."""
    for field in fields:
        wanted = request.args.get(field)
        if wanted is None:
            continue
        if field == "enabled":
            items = [item for item in items if item.enabled == truthy(wanted)]
        else:
            items = [item for item in items if str(getattr(item, field, "")) == wanted]
    return items


class AdminResponses:
    def __init__(self, state: CloudState) -> None:
        self.state = state
        self.directory = Directory(state.identity)

    @property
    def model(self):
        return self.state.identity

    def _link(self, ctx: RequestContext, path: str) -> dict[str, str]:
        return {"self": f"{ctx.base_url}{V3}/{path}"}

    def _listing(self, ctx: RequestContext, key: str, path: str, rows: list[dict]) -> Response:
        links = {"self": f"{ctx.base_url}{V3}/{path}", "next": None, "previous": None}
        return json_response({key: rows, "links": links})

    # bodies ----------------------------------------------------------------------------
    def domain_body(self, ctx: RequestContext, domain: Domain) -> dict[str, Any]:
        return {
            "id": domain.id,
            "name": domain.name,
            "description": domain.description,
            "enabled": domain.enabled,
            "tags": [],
            "options": {},
            "links": self._link(ctx, f"domains/{domain.id}"),
        }

    def project_body(self, ctx: RequestContext, project: Project) -> dict[str, Any]:
        body = dict(project.extra)
        body.update(
            {
                "id": project.id,
                "name": project.name,
                "domain_id": project.domain_id,
                "description": project.description,
                "enabled": project.enabled,
                "is_domain": False,
                "parent_id": project.domain_id,
                "tags": project.extra.get("tags", []),
                "options": {},
                "links": self._link(ctx, f"projects/{project.id}"),
            }
        )
        return body

    def user_body(self, ctx: RequestContext, user: User) -> dict[str, Any]:
        body = dict(user.extra)
        body.update(
            {
                "id": user.id,
                "name": user.name,
                "domain_id": user.domain_id,
                "enabled": user.enabled,
                "password_expires_at": None,
                "options": {},
                "links": self._link(ctx, f"users/{user.id}"),
            }
        )
        if user.default_project_id:
            body["default_project_id"] = user.default_project_id
        return body

    def role_body(self, ctx: RequestContext, role: Role) -> dict[str, Any]:
        return {
            "id": role.id,
            "name": role.name,
            "domain_id": None,
            "description": None,
            "options": {},
            "links": self._link(ctx, f"roles/{role.id}"),
        }

    def group_body(self, ctx: RequestContext, group: Group) -> dict[str, Any]:
        return {
            "id": group.id,
            "name": group.name,
            "domain_id": group.domain_id,
            "description": group.description,
            "links": self._link(ctx, f"groups/{group.id}"),
        }

    # domains ---------------------------------------------------------------------------
    def list_domains(self, ctx: RequestContext, request: Request) -> Response:
        enforce(ctx, "identity:list_domains")
        with self.state.lock:
            items = _filtered(list(self.model.domains.values()), request, "name", "enabled")
            rows = [self.domain_body(ctx, item) for item in items]
        return self._listing(ctx, "domains", "domains", rows)

    def create_domain(self, ctx: RequestContext, request: Request) -> Response:
        domain = self.directory.create_domain(ctx, _entity(request, "domain"))
        return json_response({"domain": self.domain_body(ctx, domain)}, status=201)

    def get_domain(self, ctx: RequestContext, request: Request, domain_id: str) -> Response:
        with self.state.lock:
            own = self.model.projects.get(ctx.project_id)
            own_domain = own.domain_id if own else None
            enforce(ctx, "identity:get_domain", {"domain_id": domain_id, "own_domain": own_domain})
            domain = self.directory.domain(domain_id)
            return json_response({"domain": self.domain_body(ctx, domain)})

    def update_domain(self, ctx: RequestContext, request: Request, domain_id: str) -> Response:
        domain = self.directory.update_domain(ctx, domain_id, _entity(request, "domain"))
        return json_response({"domain": self.domain_body(ctx, domain)})

    def delete_domain(self, ctx: RequestContext, request: Request, domain_id: str) -> Response:
        self.directory.delete_domain(ctx, domain_id)
        return empty_response()

    # projects --------------------------------------------------------------------------
    def list_projects(self, ctx: RequestContext, request: Request) -> Response:
        enforce(ctx, "identity:list_projects")
        with self.state.lock:
            items = _filtered(
                list(self.model.projects.values()), request, "name", "domain_id", "enabled"
            )
            rows = [self.project_body(ctx, item) for item in items]
        return self._listing(ctx, "projects", "projects", rows)

    def create_project(self, ctx: RequestContext, request: Request) -> Response:
        project = self.directory.create_project(ctx, _entity(request, "project"))
        return json_response({"project": self.project_body(ctx, project)}, status=201)

    def get_project(self, ctx: RequestContext, request: Request, project_id: str) -> Response:
        enforce(ctx, "identity:get_project", {"project_id": project_id})
        with self.state.lock:
            project = self.directory.project(project_id)
            return json_response({"project": self.project_body(ctx, project)})

    def update_project(self, ctx: RequestContext, request: Request, project_id: str) -> Response:
        project = self.directory.update_project(ctx, project_id, _entity(request, "project"))
        return json_response({"project": self.project_body(ctx, project)})

    def delete_project(self, ctx: RequestContext, request: Request, project_id: str) -> Response:
        self.directory.delete_project(ctx, project_id)
        return empty_response()

    # users -----------------------------------------------------------------------------
    def list_users(self, ctx: RequestContext, request: Request) -> Response:
        enforce(ctx, "identity:list_users")
        with self.state.lock:
            items = _filtered(
                list(self.model.users.values()), request, "name", "domain_id", "enabled"
            )
            rows = [self.user_body(ctx, item) for item in items]
        return self._listing(ctx, "users", "users", rows)

    def create_user(self, ctx: RequestContext, request: Request) -> Response:
        user = self.directory.create_user(ctx, _entity(request, "user"))
        return json_response({"user": self.user_body(ctx, user)}, status=201)

    def get_user(self, ctx: RequestContext, request: Request, user_id: str) -> Response:
        enforce(ctx, "identity:get_user", {"user_id": user_id})
        with self.state.lock:
            return json_response({"user": self.user_body(ctx, self.directory.user(user_id))})

    def update_user(self, ctx: RequestContext, request: Request, user_id: str) -> Response:
        user = self.directory.update_user(ctx, user_id, _entity(request, "user"))
        return json_response({"user": self.user_body(ctx, user)})

    def delete_user(self, ctx: RequestContext, request: Request, user_id: str) -> Response:
        self.directory.delete_user(ctx, user_id)
        return empty_response()

    def change_password(self, ctx: RequestContext, request: Request, user_id: str) -> Response:
        self.directory.change_password(ctx, user_id, _entity(request, "user"))
        return empty_response()

    def user_groups(self, ctx: RequestContext, request: Request, user_id: str) -> Response:
        rows = [self.group_body(ctx, g) for g in self.directory.groups_of(ctx, user_id)]
        return self._listing(ctx, "groups", f"users/{user_id}/groups", rows)

    # roles and grants ------------------------------------------------------------------
    def list_roles(self, ctx: RequestContext, request: Request) -> Response:
        enforce(ctx, "identity:list_roles")
        with self.state.lock:
            items = _filtered(list(self.model.roles.values()), request, "name")
            rows = [self.role_body(ctx, item) for item in items]
        return self._listing(ctx, "roles", "roles", rows)

    def create_role(self, ctx: RequestContext, request: Request) -> Response:
        role = self.directory.create_role(ctx, _entity(request, "role"))
        return json_response({"role": self.role_body(ctx, role)}, status=201)

    def get_role(self, ctx: RequestContext, request: Request, role_id: str) -> Response:
        enforce(ctx, "identity:get_role")
        with self.state.lock:
            return json_response({"role": self.role_body(ctx, self.directory.role(role_id))})

    def delete_role(self, ctx: RequestContext, request: Request, role_id: str) -> Response:
        self.directory.delete_role(ctx, role_id)
        return empty_response()

    def grant(
        self,
        ctx: RequestContext,
        request: Request,
        project_id: str,
        actor: str,
        actor_id: str,
        role_id: str,
    ) -> Response:
        if request.method == "PUT":
            self.directory.grant(ctx, project_id, actor, actor_id, role_id)
        elif request.method == "DELETE":
            self.directory.revoke_grant(ctx, project_id, actor, actor_id, role_id)
        else:  # HEAD or GET: check
            self.directory.check_grant(ctx, project_id, actor, actor_id, role_id)
        return empty_response()

    def list_grants(
        self, ctx: RequestContext, request: Request, project_id: str, actor: str, actor_id: str
    ) -> Response:
        roles = self.directory.grants(ctx, project_id, actor, actor_id)
        path = f"projects/{project_id}/{actor}/{actor_id}/roles"
        return self._listing(ctx, "roles", path, [self.role_body(ctx, r) for r in roles])

    def role_assignments(self, ctx: RequestContext, request: Request) -> Response:
        effective = "effective" in request.args
        names = "include_names" in request.args and request.args["include_names"] != "false"
        rows = self.directory.role_assignments(ctx, dict(request.args), effective=effective)
        body = []
        with self.state.lock:
            for row in rows:
                item: dict[str, Any] = {
                    "role": {"id": row["role"]},
                    "scope": {"project": {"id": row["project"]}},
                }
                actor = "user" if "user" in row else "group"
                item[actor] = {"id": row[actor]}
                if names:
                    self._name_assignment(item, actor)
                link = f"projects/{row['project']}/{actor}s/{row[actor]}/roles/{row['role']}"
                item["links"] = {"assignment": f"{ctx.base_url}{V3}/{link}"}
                body.append(item)
        return self._listing(ctx, "role_assignments", "role_assignments", body)

    def _name_assignment(self, item: dict[str, Any], actor: str) -> None:
        role = self.directory.role(item["role"]["id"])
        item["role"]["name"] = role.name
        project = self.model.projects[item["scope"]["project"]["id"]]
        domain = self.model.domains[project.domain_id]
        item["scope"]["project"].update(
            {"name": project.name, "domain": {"id": domain.id, "name": domain.name}}
        )
        holder = self.model.users if actor == "user" else self.model.groups
        entity = holder[item[actor]["id"]]
        owner = self.model.domains[entity.domain_id]
        item[actor].update({"name": entity.name, "domain": {"id": owner.id, "name": owner.name}})

    # groups ----------------------------------------------------------------------------
    def list_groups(self, ctx: RequestContext, request: Request) -> Response:
        enforce(ctx, "identity:list_groups")
        with self.state.lock:
            items = _filtered(list(self.model.groups.values()), request, "name", "domain_id")
            rows = [self.group_body(ctx, item) for item in items]
        return self._listing(ctx, "groups", "groups", rows)

    def create_group(self, ctx: RequestContext, request: Request) -> Response:
        group = self.directory.create_group(ctx, _entity(request, "group"))
        return json_response({"group": self.group_body(ctx, group)}, status=201)

    def get_group(self, ctx: RequestContext, request: Request, group_id: str) -> Response:
        enforce(ctx, "identity:get_group")
        with self.state.lock:
            return json_response({"group": self.group_body(ctx, self.directory.group(group_id))})

    def update_group(self, ctx: RequestContext, request: Request, group_id: str) -> Response:
        group = self.directory.update_group(ctx, group_id, _entity(request, "group"))
        return json_response({"group": self.group_body(ctx, group)})

    def delete_group(self, ctx: RequestContext, request: Request, group_id: str) -> Response:
        self.directory.delete_group(ctx, group_id)
        return empty_response()

    def group_users(self, ctx: RequestContext, request: Request, group_id: str) -> Response:
        rows = [self.user_body(ctx, u) for u in self.directory.members(ctx, group_id)]
        return self._listing(ctx, "users", f"groups/{group_id}/users", rows)

    def membership(
        self, ctx: RequestContext, request: Request, group_id: str, user_id: str
    ) -> Response:
        if request.method == "PUT":
            self.directory.add_member(ctx, group_id, user_id)
        elif request.method == "DELETE":
            self.directory.remove_member(ctx, group_id, user_id)
        else:
            self.directory.check_member(ctx, group_id, user_id)
        return empty_response()


def routes(state: CloudState) -> list[Route]:
    api = AdminResponses(state)
    grant = f"{V3}/projects/<project_id>/<any(users,groups):actor>/<actor_id>/roles"
    return [
        route(SERVICE, f"{V3}/domains", "GET", api.list_domains),
        route(SERVICE, f"{V3}/domains", "POST", api.create_domain),
        route(SERVICE, f"{V3}/domains/<domain_id>", "GET", api.get_domain),
        route(SERVICE, f"{V3}/domains/<domain_id>", "PATCH", api.update_domain),
        route(SERVICE, f"{V3}/domains/<domain_id>", "DELETE", api.delete_domain),
        route(SERVICE, f"{V3}/projects", "GET", api.list_projects),
        route(SERVICE, f"{V3}/projects", "POST", api.create_project),
        route(SERVICE, f"{V3}/projects/<project_id>", "GET", api.get_project),
        route(SERVICE, f"{V3}/projects/<project_id>", "PATCH", api.update_project),
        route(SERVICE, f"{V3}/projects/<project_id>", "DELETE", api.delete_project),
        route(SERVICE, f"{V3}/users", "GET", api.list_users),
        route(SERVICE, f"{V3}/users", "POST", api.create_user),
        route(SERVICE, f"{V3}/users/<user_id>", "GET", api.get_user),
        route(SERVICE, f"{V3}/users/<user_id>", "PATCH", api.update_user),
        route(SERVICE, f"{V3}/users/<user_id>", "DELETE", api.delete_user),
        route(SERVICE, f"{V3}/users/<user_id>/password", "POST", api.change_password),
        route(SERVICE, f"{V3}/users/<user_id>/groups", "GET", api.user_groups),
        route(SERVICE, f"{V3}/roles", "GET", api.list_roles),
        route(SERVICE, f"{V3}/roles", "POST", api.create_role),
        route(SERVICE, f"{V3}/roles/<role_id>", "GET", api.get_role),
        route(SERVICE, f"{V3}/roles/<role_id>", "DELETE", api.delete_role),
        route(SERVICE, grant, "GET", api.list_grants),
        route(SERVICE, f"{grant}/<role_id>", ("PUT", "HEAD", "GET", "DELETE"), api.grant),
        route(SERVICE, f"{V3}/role_assignments", "GET", api.role_assignments),
        route(SERVICE, f"{V3}/groups", "GET", api.list_groups),
        route(SERVICE, f"{V3}/groups", "POST", api.create_group),
        route(SERVICE, f"{V3}/groups/<group_id>", "GET", api.get_group),
        route(SERVICE, f"{V3}/groups/<group_id>", "PATCH", api.update_group),
        route(SERVICE, f"{V3}/groups/<group_id>", "DELETE", api.delete_group),
        route(SERVICE, f"{V3}/groups/<group_id>/users", "GET", api.group_users),
        route(
            SERVICE,
            f"{V3}/groups/<group_id>/users/<user_id>",
            ("PUT", "HEAD", "DELETE"),
            api.membership,
        ),
    ]
