"""Keystone's directory operations: domains, projects, users, roles, groups and grants.

Every call checks the default policy first (``policy.enforce``), then validates as Keystone
does (names unique per domain, a domain must be disabled before deletion, ...). Deleting or
disabling a user or project, or revoking a role, revokes the tokens it backed, as Keystone's
revocation events do.
"""

from __future__ import annotations

import secrets
import uuid
from typing import TYPE_CHECKING, Any

from pytest_interop.reference.core.wire import RequestContext
from pytest_interop.reference.identity import exceptions
from pytest_interop.reference.identity.models import (
    Domain,
    Group,
    Project,
    Role,
    User,
    hash_password,
)
from pytest_interop.reference.identity.policy import DEFAULT_ROLES, enforce

if TYPE_CHECKING:
    from pytest_interop.reference.identity.models import IdentityModel

MAX_NAME = 255  # Keystone's column width for names


def _conflict(kind: str, name: str) -> exceptions.KeystoneError:
    return exceptions.KeystoneError(
        f"Conflict occurred attempting to store {kind} - Duplicate entry found with name {name}.",
        409,
    )


def _name(body: dict[str, Any], kind: str, *, required: bool = True) -> str | None:
    name = body.get("name")
    if name is None and not required:
        return None
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
        raise exceptions.bad_request(f"Invalid input for field '{kind}/name'.")
    return name


def _flag(body: dict[str, Any], field: str, kind: str, default: bool = True) -> bool:
    value = body.get(field, default)
    if not isinstance(value, bool):
        raise exceptions.bad_request(f"Invalid input for field '{kind}/{field}'.")
    return value


def _text(body: dict[str, Any], field: str, kind: str) -> str:
    value = body.get(field) or ""
    if not isinstance(value, str):
        raise exceptions.bad_request(f"Invalid input for field '{kind}/{field}'.")
    return value


class Directory:
    """The admin half of Keystone, over the identity model's dictionaries."""

    def __init__(self, model: IdentityModel) -> None:
        self.model = model
        self.lock = model.state.lock

    # lookups ---------------------------------------------------------------------------
    def domain(self, domain_id: str) -> Domain:
        found = self.model.domains.get(domain_id)
        if found is None:
            raise exceptions.not_found("domain", domain_id)
        return found

    def project(self, project_id: str) -> Project:
        found = self.model.projects.get(project_id)
        if found is None:
            raise exceptions.not_found("project", project_id)
        return found

    def user(self, user_id: str) -> User:
        found = self.model.users.get(user_id)
        if found is None:
            raise exceptions.not_found("user", user_id)
        return found

    def role(self, role_id: str) -> Role:
        for role in self.model.roles.values():
            if role.id == role_id:
                return role
        raise exceptions.not_found("role", role_id)

    def group(self, group_id: str) -> Group:
        found = self.model.groups.get(group_id)
        if found is None:
            raise exceptions.not_found("group", group_id)
        return found

    def _revoke_tokens(self, *, user_id: str | None = None, project_id: str | None = None) -> None:
        for token_id, token in list(self.model.tokens.items()):
            scoped_to = token.project.id if token.project else None
            if (user_id is None or token.user.id == user_id) and (
                project_id is None or scoped_to == project_id
            ):
                del self.model.tokens[token_id]

    # domains ---------------------------------------------------------------------------
    def create_domain(self, ctx: RequestContext, body: dict[str, Any]) -> Domain:
        enforce(ctx, "identity:create_domain")
        name = _name(body, "domain")
        with self.lock:
            if any(item.name == name for item in self.model.domains.values()):
                raise _conflict("domain", name)
            domain = Domain(
                uuid.uuid4().hex,
                name,
                description=_text(body, "description", "domain"),
                enabled=_flag(body, "enabled", "domain"),
            )
            self.model.domains[domain.id] = domain
            return domain

    def update_domain(self, ctx: RequestContext, domain_id: str, body: dict[str, Any]) -> Domain:
        enforce(ctx, "identity:update_domain")
        with self.lock:
            domain = self.domain(domain_id)
            name = _name(body, "domain", required=False)
            if name is not None:
                if any(d.name == name and d.id != domain.id for d in self.model.domains.values()):
                    raise _conflict("domain", name)
                domain.name = name
            if "description" in body:
                domain.description = _text(body, "description", "domain")
            if "enabled" in body:
                domain.enabled = _flag(body, "enabled", "domain")
            return domain

    def delete_domain(self, ctx: RequestContext, domain_id: str) -> None:
        enforce(ctx, "identity:delete_domain")
        with self.lock:
            domain = self.domain(domain_id)
            if domain.enabled:
                raise exceptions.KeystoneError(
                    "Cannot delete a domain that is enabled, please disable it first.", 403
                )
            for project in [p for p in self.model.projects.values() if p.domain_id == domain.id]:
                self._drop_project(project)
            for user in [u for u in self.model.users.values() if u.domain_id == domain.id]:
                self._drop_user(user)
            for group in [g for g in self.model.groups.values() if g.domain_id == domain.id]:
                self._drop_group(group)
            del self.model.domains[domain.id]

    # projects --------------------------------------------------------------------------
    def create_project(self, ctx: RequestContext, body: dict[str, Any]) -> Project:
        enforce(ctx, "identity:create_project")
        name = _name(body, "project")
        with self.lock:
            domain_id = body.get("domain_id") or self._caller_domain(ctx)
            if domain_id not in self.model.domains:
                self._bad_domain(domain_id)
            clash = self.model.find_project(name, domain_id)
            if clash is not None and clash.name == name and clash.domain_id == domain_id:
                raise _conflict("project", name)
            extra = {k: v for k, v in body.items() if k not in _PROJECT_FIELDS}
            project = Project(
                uuid.uuid4().hex,
                name,
                domain_id=domain_id,
                description=_text(body, "description", "project"),
                enabled=_flag(body, "enabled", "project"),
                extra=extra,
            )
            self.model.projects[project.id] = project
            # quotas come from the services' defaults; networks as the profile gives them
            self.model.state.on_project_created(project)
            return project

    def _caller_domain(self, ctx: RequestContext) -> str:
        project = self.model.projects.get(ctx.project_id)
        return project.domain_id if project else "default"

    def _bad_domain(self, domain_id: str) -> None:
        raise exceptions.bad_request(f"Could not find domain: {domain_id}.")

    def update_project(self, ctx: RequestContext, project_id: str, body: dict[str, Any]) -> Project:
        enforce(ctx, "identity:update_project")
        with self.lock:
            project = self.project(project_id)
            if "domain_id" in body and body["domain_id"] != project.domain_id:
                raise exceptions.bad_request("Cannot change the domain of a project.")
            name = _name(body, "project", required=False)
            if name is not None:
                clash = self.model.find_project(name, project.domain_id)
                if clash is not None and clash.id != project.id and clash.name == name:
                    raise _conflict("project", name)
                project.name = name
            if "description" in body:
                project.description = _text(body, "description", "project")
            if "enabled" in body:
                project.enabled = _flag(body, "enabled", "project")
                if not project.enabled:
                    self._revoke_tokens(project_id=project.id)
            for key, value in body.items():
                if key not in _PROJECT_FIELDS:
                    project.extra[key] = value
            return project

    def delete_project(self, ctx: RequestContext, project_id: str) -> None:
        enforce(ctx, "identity:delete_project")
        with self.lock:
            self._drop_project(self.project(project_id))

    def _drop_project(self, project: Project) -> None:
        """Keystone forgets the project and its grants; other services keep what it owned."""
        for key in [k for k in self.model.assignments if k[1] == project.id]:
            del self.model.assignments[key]
        for key in [k for k in self.model.group_assignments if k[1] == project.id]:
            del self.model.group_assignments[key]
        self._revoke_tokens(project_id=project.id)
        del self.model.projects[project.id]

    # users -----------------------------------------------------------------------------
    def create_user(self, ctx: RequestContext, body: dict[str, Any]) -> User:
        enforce(ctx, "identity:create_user")
        name = _name(body, "user")
        password = body.get("password")
        if password is not None and not isinstance(password, str):
            raise exceptions.bad_request("Invalid input for field 'user/password'.")
        with self.lock:
            domain_id = body.get("domain_id") or self._caller_domain(ctx)
            if domain_id not in self.model.domains:
                self._bad_domain(domain_id)
            clash = self.model.find_user(name, domain_id)
            if clash is not None and clash.name == name and clash.domain_id == domain_id:
                raise _conflict("user", name)
            default_project = body.get("default_project_id") or body.get("project_id") or ""
            if default_project and default_project not in self.model.projects:
                raise exceptions.bad_request(f"Could not find project: {default_project}.")
            salt = secrets.token_bytes(16)
            # a user without a password cannot authenticate: a random one nobody knows
            secret = password if password is not None else secrets.token_urlsafe(32)
            user = User(
                uuid.uuid4().hex,
                name,
                domain_id,
                default_project,
                salt,
                hash_password(secret, salt),
                enabled=_flag(body, "enabled", "user"),
                extra={k: v for k, v in body.items() if k not in _USER_FIELDS},
            )
            self.model.users[user.id] = user
            return user

    def update_user(self, ctx: RequestContext, user_id: str, body: dict[str, Any]) -> User:
        enforce(ctx, "identity:update_user")
        with self.lock:
            user = self.user(user_id)
            name = _name(body, "user", required=False)
            if name is not None:
                clash = self.model.find_user(name, user.domain_id)
                if clash is not None and clash.id != user.id and clash.name == name:
                    raise _conflict("user", name)
                user.name = name
            if "password" in body:
                if not isinstance(body["password"], str):
                    raise exceptions.bad_request("Invalid input for field 'user/password'.")
                user.set_password(body["password"])
                self._revoke_tokens(user_id=user.id)
            if "enabled" in body:
                user.enabled = _flag(body, "enabled", "user")
                if not user.enabled:
                    self._revoke_tokens(user_id=user.id)
            for key in ("default_project_id", "project_id"):
                if key in body:
                    user.default_project_id = body[key] or ""
            for key, value in body.items():
                if key not in _USER_FIELDS:
                    user.extra[key] = value
            return user

    def change_password(self, ctx: RequestContext, user_id: str, body: dict[str, Any]) -> None:
        """``POST /v3/users/{id}/password``: the user themselves, with the old password."""
        with self.lock:
            user = self.user(user_id)
            if user_id != ctx.user_id:
                raise exceptions.KeystoneError(
                    "You are not authorized to perform the requested action.", 403
                )
            original, new = body.get("original_password"), body.get("password")
            if not isinstance(original, str) or not isinstance(new, str):
                raise exceptions.bad_request("Invalid input for field 'user/password'.")
            if not user.check_password(original):
                raise exceptions.unauthorized()
            user.set_password(new)
            self._revoke_tokens(user_id=user.id)

    def delete_user(self, ctx: RequestContext, user_id: str) -> None:
        enforce(ctx, "identity:delete_user")
        with self.lock:
            self._drop_user(self.user(user_id))

    def _drop_user(self, user: User) -> None:
        for key in [k for k in self.model.assignments if k[0] == user.id]:
            del self.model.assignments[key]
        for members in self.model.group_members.values():
            members.discard(user.id)
        self._revoke_tokens(user_id=user.id)
        del self.model.users[user.id]

    # roles -----------------------------------------------------------------------------
    def create_role(self, ctx: RequestContext, body: dict[str, Any]) -> Role:
        enforce(ctx, "identity:create_role")
        name = _name(body, "role")
        with self.lock:
            if name in self.model.roles:
                raise _conflict("role", name)
            role = Role(uuid.uuid4().hex, name)
            self.model.roles[name] = role
            return role

    def delete_role(self, ctx: RequestContext, role_id: str) -> None:
        enforce(ctx, "identity:delete_role")
        with self.lock:
            role = self.role(role_id)
            if role.name in DEFAULT_ROLES:
                # Keystone would allow it and break every cloud policy; refuse as a guard
                raise exceptions.KeystoneError(
                    f"The default role {role.name} cannot be deleted.", 403
                )
            for table in (self.model.assignments, self.model.group_assignments):
                for names in table.values():
                    names.discard(role.name)
            for token_id, token in list(self.model.tokens.items()):
                if role.name in token.roles:
                    del self.model.tokens[token_id]
            del self.model.roles[role.name]

    # grants ----------------------------------------------------------------------------
    def _grant_table(self, actor: str, actor_id: str) -> dict[tuple[str, str], set[str]]:
        if actor == "users":
            self.user(actor_id)
            return self.model.assignments
        self.group(actor_id)
        return self.model.group_assignments

    def grant(
        self, ctx: RequestContext, project_id: str, actor: str, actor_id: str, role_id: str
    ) -> None:
        enforce(ctx, "identity:create_grant")
        with self.lock:
            project, role = self.project(project_id), self.role(role_id)
            table = self._grant_table(actor, actor_id)
            table.setdefault((actor_id, project.id), set()).add(role.name)

    def check_grant(
        self, ctx: RequestContext, project_id: str, actor: str, actor_id: str, role_id: str
    ) -> None:
        enforce(ctx, "identity:check_grant")
        with self.lock:
            project, role = self.project(project_id), self.role(role_id)
            table = self._grant_table(actor, actor_id)
            if role.name not in table.get((actor_id, project.id), set()):
                raise exceptions.not_found("role assignment", f"{actor_id} on {project_id}")

    def revoke_grant(
        self, ctx: RequestContext, project_id: str, actor: str, actor_id: str, role_id: str
    ) -> None:
        enforce(ctx, "identity:revoke_grant")
        with self.lock:
            self.check_grant(ctx, project_id, actor, actor_id, role_id)
            role = self.role(role_id)
            table = self._grant_table(actor, actor_id)
            names = table[(actor_id, project_id)]
            names.discard(role.name)
            if not names:
                del table[(actor_id, project_id)]
            members = {actor_id} if actor == "users" else self.model.group_members[actor_id]
            for user_id in members:
                self._revoke_tokens(user_id=user_id, project_id=project_id)

    def grants(self, ctx: RequestContext, project_id: str, actor: str, actor_id: str) -> list[Role]:
        enforce(ctx, "identity:list_grants")
        with self.lock:
            project = self.project(project_id)
            table = self._grant_table(actor, actor_id)
            names = sorted(table.get((actor_id, project.id), set()))
            return [self.model.roles[name] for name in names]

    def role_assignments(
        self, ctx: RequestContext, filters: dict[str, str], *, effective: bool
    ) -> list[dict[str, str]]:
        """``GET /v3/role_assignments`` rows: {user|group, project, role} ids."""
        enforce(ctx, "identity:list_role_assignments")
        rows: list[dict[str, str]] = []
        with self.lock:
            for (user_id, project_id), names in self.model.assignments.items():
                rows += [{"user": user_id, "project": project_id, "role": n} for n in names]
            for (group_id, project_id), names in self.model.group_assignments.items():
                if effective:  # a group's grant counts once per member, as Keystone expands it
                    for user_id in self.model.group_members.get(group_id, set()):
                        rows += [{"user": user_id, "project": project_id, "role": n} for n in names]
                else:
                    rows += [{"group": group_id, "project": project_id, "role": n} for n in names]
            for row in rows:
                row["role"] = self.model.roles[row["role"]].id
        wanted = {
            "user.id": "user",
            "group.id": "group",
            "scope.project.id": "project",
            "role.id": "role",
        }
        for key, column in wanted.items():
            if filters.get(key):
                rows = [row for row in rows if row.get(column) == filters[key]]
        unique = {tuple(sorted(row.items())) for row in rows}
        return [dict(item) for item in sorted(unique)]

    # groups ----------------------------------------------------------------------------
    def create_group(self, ctx: RequestContext, body: dict[str, Any]) -> Group:
        enforce(ctx, "identity:create_group")
        name = _name(body, "group")
        with self.lock:
            domain_id = body.get("domain_id") or self._caller_domain(ctx)
            if domain_id not in self.model.domains:
                self._bad_domain(domain_id)
            if any(g.name == name and g.domain_id == domain_id for g in self.model.groups.values()):
                raise _conflict("group", name)
            group = Group(uuid.uuid4().hex, name, domain_id, _text(body, "description", "group"))
            self.model.groups[group.id] = group
            self.model.group_members[group.id] = set()
            return group

    def update_group(self, ctx: RequestContext, group_id: str, body: dict[str, Any]) -> Group:
        enforce(ctx, "identity:update_group")
        with self.lock:
            group = self.group(group_id)
            name = _name(body, "group", required=False)
            if name is not None:
                group.name = name
            if "description" in body:
                group.description = _text(body, "description", "group")
            return group

    def delete_group(self, ctx: RequestContext, group_id: str) -> None:
        enforce(ctx, "identity:delete_group")
        with self.lock:
            self._drop_group(self.group(group_id))

    def _drop_group(self, group: Group) -> None:
        for key in [k for k in self.model.group_assignments if k[0] == group.id]:
            del self.model.group_assignments[key]
        for user_id in self.model.group_members.pop(group.id, set()):
            self._revoke_tokens(user_id=user_id)
        del self.model.groups[group.id]

    def members(self, ctx: RequestContext, group_id: str) -> list[User]:
        enforce(ctx, "identity:list_users_in_group")
        with self.lock:
            self.group(group_id)
            ids = self.model.group_members.get(group_id, set())
            return [self.model.users[uid] for uid in sorted(ids) if uid in self.model.users]

    def add_member(self, ctx: RequestContext, group_id: str, user_id: str) -> None:
        enforce(ctx, "identity:add_user_to_group")
        with self.lock:
            self.group(group_id), self.user(user_id)
            self.model.group_members.setdefault(group_id, set()).add(user_id)

    def check_member(self, ctx: RequestContext, group_id: str, user_id: str) -> None:
        enforce(ctx, "identity:check_user_in_group")
        with self.lock:
            self.group(group_id), self.user(user_id)
            if user_id not in self.model.group_members.get(group_id, set()):
                raise exceptions.not_found("user in group", f"{user_id} in {group_id}")

    def remove_member(self, ctx: RequestContext, group_id: str, user_id: str) -> None:
        enforce(ctx, "identity:remove_user_from_group")
        with self.lock:
            self.check_member(ctx, group_id, user_id)
            self.model.group_members[group_id].discard(user_id)
            self._revoke_tokens(user_id=user_id)

    def groups_of(self, ctx: RequestContext, user_id: str) -> list[Group]:
        enforce(ctx, "identity:list_groups_for_user", {"user_id": user_id})
        with self.lock:
            self.user(user_id)
            return [
                self.model.groups[gid]
                for gid, members in sorted(self.model.group_members.items())
                if user_id in members
            ]


_PROJECT_FIELDS = frozenset(
    {"id", "name", "domain_id", "description", "enabled", "is_domain", "parent_id", "links"}
)
_USER_FIELDS = frozenset(
    {"id", "name", "domain_id", "password", "enabled", "default_project_id", "project_id"}
    | {"links", "password_expires_at", "options"}
)
