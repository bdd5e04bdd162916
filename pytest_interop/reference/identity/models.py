"""Keystone's state: domains, projects, users, role assignments and tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pytest_interop.reference.core.wire import utc_now
from pytest_interop.reference.identity import exceptions
from pytest_interop.reference.identity.policy import DEFAULT_ROLES, effective_roles

if TYPE_CHECKING:
    from pytest_interop.reference.state import CloudState

TOKEN_LIFETIME = dt.timedelta(hours=12)
DEFAULT_DOMAIN_ID = "default"


def hash_password(password: str, salt: bytes) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", password.encode(), salt, 1000)


@dataclass
class Domain:
    id: str
    name: str
    description: str = ""
    enabled: bool = True


@dataclass
class Project:
    id: str
    name: str
    domain_id: str = DEFAULT_DOMAIN_ID
    description: str = ""
    enabled: bool = True
    extra: dict = field(default_factory=dict)  # attributes Keystone keeps as given (tags, ...)


@dataclass
class Group:
    id: str
    name: str
    domain_id: str = DEFAULT_DOMAIN_ID
    description: str = ""


@dataclass(repr=False)
class User:
    id: str
    name: str
    domain_id: str
    default_project_id: str
    salt: bytes
    password_digest: bytes
    enabled: bool = True
    extra: dict = field(default_factory=dict)  # email, description, ... as given

    def set_password(self, password: str) -> None:
        self.salt = secrets.token_bytes(16)
        self.password_digest = hash_password(password, self.salt)

    def check_password(self, password: str) -> bool:
        return hmac.compare_digest(hash_password(password, self.salt), self.password_digest)

    def __repr__(self) -> str:
        return f"User(id={self.id!r}, name={self.name!r})"


@dataclass(frozen=True)
class Role:
    id: str
    name: str


@dataclass(repr=False)
class Token:
    id: str
    user: User
    project: Project | None  # None: an unscoped token, good for Keystone only
    roles: list[str]
    issued_at: dt.datetime
    expires_at: dt.datetime
    audit_id: str = field(default_factory=lambda: secrets.token_urlsafe(16)[:22])

    def __repr__(self) -> str:
        project = self.project.name if self.project else None
        return f"Token(user={self.user.name!r}, project={project!r})"


class IdentityModel:
    """Everything Keystone knows, guarded by the cloud's lock."""

    def __init__(self, state: CloudState) -> None:
        self.state = state
        self.domains = {DEFAULT_DOMAIN_ID: Domain(DEFAULT_DOMAIN_ID, "Default")}
        self.projects: dict[str, Project] = {}
        self.users: dict[str, User] = {}
        self.roles = {name: Role(uuid.uuid4().hex, name) for name in DEFAULT_ROLES}
        # (user id, project id) -> role names given directly; groups' grants apart
        self.assignments: dict[tuple[str, str], set[str]] = {}
        self.groups: dict[str, Group] = {}
        self.group_members: dict[str, set[str]] = {}  # group id -> user ids
        self.group_assignments: dict[tuple[str, str], set[str]] = {}  # (group, project)
        self.tokens: dict[str, Token] = {}

    # projects and users -------------------------------------------------------------
    def find_project(self, name_or_id: str, domain_id: str = DEFAULT_DOMAIN_ID) -> Project | None:
        with self.state.lock:
            if name_or_id in self.projects:
                return self.projects[name_or_id]
            for project in self.projects.values():
                if project.name == name_or_id and project.domain_id == domain_id:
                    return project
            return None

    def ensure_project(self, name: str, description: str = "") -> Project:
        with self.state.lock:
            project = self.find_project(name)
            if project is None:
                project = Project(uuid.uuid4().hex, name, description=description)
                self.projects[project.id] = project
                self.state.on_project_created(project)
            return project

    def add_user(
        self,
        project_name: str,
        username: str,
        password: str,
        *,
        roles: tuple[str, ...] = ("member", "reader"),
    ) -> User:
        with self.state.lock:
            project = self.ensure_project(project_name)
            user = self.find_user(username)
            if user is None:
                salt = secrets.token_bytes(16)
                digest = hash_password(password, salt)
                user = User(uuid.uuid4().hex, username, DEFAULT_DOMAIN_ID, project.id, salt, digest)
                self.users[user.id] = user
            self.assignments.setdefault((user.id, project.id), set()).update(roles)
            return user

    def find_user(self, name_or_id: str, domain_id: str = DEFAULT_DOMAIN_ID) -> User | None:
        with self.state.lock:
            if name_or_id in self.users:
                return self.users[name_or_id]
            for user in self.users.values():
                if user.name == name_or_id and user.domain_id == domain_id:
                    return user
            return None

    def find_domain(self, reference: dict | None) -> Domain:
        reference = reference or {"id": DEFAULT_DOMAIN_ID}
        for domain in self.domains.values():
            if reference.get("id") == domain.id or reference.get("name") == domain.name:
                return domain
        raise exceptions.unauthorized("The request you have made requires authentication.")

    def direct_roles(self, user: User, project: Project) -> set[str]:
        """Role names granted on the project to the user or to one of their groups."""
        names = set(self.assignments.get((user.id, project.id), set()))
        for group_id, members in self.group_members.items():
            if user.id in members:
                names |= self.group_assignments.get((group_id, project.id), set())
        return names

    def roles_of(self, user: User, project: Project) -> list[str]:
        """Effective roles, implied ones included, as Keystone puts them in a token."""
        return sorted(effective_roles(self.direct_roles(user, project)))

    def projects_of(self, user: User) -> list[Project]:
        with self.state.lock:
            return [
                project for project in self.projects.values() if self.direct_roles(user, project)
            ]

    # tokens ---------------------------------------------------------------------------
    def issue_token(self, auth: dict) -> Token:
        """Password authentication, scoped to a project (the user's default one if unscoped)."""
        identity = auth.get("identity") or {}
        methods = identity.get("methods") or []
        if "password" not in methods:
            raise exceptions.unauthorized("Only the password method is supported.")
        user_ref = (identity.get("password") or {}).get("user") or {}
        password = user_ref.get("password")
        if not isinstance(password, str):
            raise exceptions.bad_request(
                "Invalid input for field 'identity/password/user/password'."
            )
        with self.state.lock:
            user = None
            if user_ref.get("id"):
                user = self.users.get(user_ref["id"])
            elif user_ref.get("name"):
                domain = self.find_domain(user_ref.get("domain"))
                user = self.find_user(user_ref["name"], domain.id)
            if user is None or not user.enabled or not user.check_password(password):
                raise exceptions.unauthorized("The request you have made requires authentication.")
            project = self._scope_project(auth.get("scope"), user)
            if project is not None and not project.enabled:
                raise exceptions.unauthorized(f"Project {project.id} is disabled.")
            roles = self.roles_of(user, project) if project is not None else []
            if project is not None and not roles:
                raise exceptions.unauthorized(
                    f"User {user.id} has no access to project {project.id}."
                )
            now = utc_now()
            token = Token(
                id="gAAAA" + secrets.token_urlsafe(48),
                user=user,
                project=project,
                roles=roles,
                issued_at=now,
                expires_at=now + TOKEN_LIFETIME,
            )
            self.tokens[token.id] = token
            return token

    def _scope_project(self, scope: dict | None, user: User) -> Project | None:
        if not scope or "project" not in scope:
            # Keystone scopes to the default project if the user has a role there, and
            # otherwise issues an unscoped token.
            project = self.projects.get(user.default_project_id)
            if project is None or not self.direct_roles(user, project):
                return None
            return project
        reference = scope["project"] or {}
        project = None
        if reference.get("id"):
            project = self.projects.get(reference["id"])
        elif reference.get("name"):
            domain = self.find_domain(reference.get("domain"))
            project = self.find_project(reference["name"], domain.id)
        if project is None:
            raise exceptions.unauthorized("The request you have made requires authentication.")
        return project

    def validate_token(self, token_id: str) -> Token | None:
        with self.state.lock:
            token = self.tokens.get(token_id)
            if token is None:
                return None
            now = utc_now()
            lifetime = self.state.faults.settings.token_lifetime
            cut_short = bool(lifetime) and token.issued_at + dt.timedelta(seconds=lifetime) <= now
            if token.expires_at <= now or cut_short:
                del self.tokens[token_id]
                return None
            return token

    def revoke_token(self, token_id: str) -> bool:
        with self.state.lock:
            return self.tokens.pop(token_id, None) is not None
