"""``ReferenceCloud``: one embedded OpenStack-compatible cloud on loopback."""

from __future__ import annotations

import copy
import dataclasses
import ipaddress
import secrets
import threading
from typing import Any

import yaml
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from pytest_interop.errors import ConfigurationError
from pytest_interop.reference.admin import urls as admin_urls
from pytest_interop.reference.compute import exceptions as compute_errors
from pytest_interop.reference.compute import urls as compute_urls
from pytest_interop.reference.compute.machines_glue import MachineGlue, pick_ssh_port
from pytest_interop.reference.compute.models import DEFAULT_QUOTAS
from pytest_interop.reference.core.app import ReferenceApp
from pytest_interop.reference.dns import exceptions as dns_errors
from pytest_interop.reference.dns import urls as dns_urls
from pytest_interop.reference.faults import FaultSettings
from pytest_interop.reference.identity import exceptions as identity_errors
from pytest_interop.reference.identity import urls as identity_urls
from pytest_interop.reference.image import exceptions as image_errors
from pytest_interop.reference.image import urls as image_urls
from pytest_interop.reference.network import exceptions as network_errors
from pytest_interop.reference.network import urls as network_urls
from pytest_interop.reference.network.quotas import DEFAULT_QUOTAS as NETWORK_QUOTAS
from pytest_interop.reference.object import exceptions as object_errors
from pytest_interop.reference.object import urls as object_urls
from pytest_interop.reference.orchestration import exceptions as orchestration_errors
from pytest_interop.reference.orchestration import urls as orchestration_urls
from pytest_interop.reference.profiles import PROFILES, Profile
from pytest_interop.reference.state import CloudState
from pytest_interop.reference.vm.backend import machine_backend
from pytest_interop.reference.volume import exceptions as volume_errors
from pytest_interop.reference.volume import urls as volume_urls

USER_NAME = "demo"
PROJECT_NAME = "demo"
ADMIN_NAME = "admin"
PEER_NAME = "peer"  # a second project, as tempest's "alt" credentials: sharing tests
LISTEN_BACKLOG = 256
# machines=False: API only, no SSH endpoints; quotas={"instances": 100, ...}: Nova defaults;
# machines="vm"|"auto": QEMU/KVM guests (reference.vm.backend)
EXTRA_KNOBS = frozenset({"machines", "quotas"})

# The services served, each a package with ``urls.routes(state)`` and, for OpenStack APIs,
# ``exceptions.error_factory``; a new service (Cinder, Swift) adds a line here and a
# ``CatalogService`` in state.CATALOG.
SERVICES = (
    (identity_urls, identity_errors.error_factory),
    (compute_urls, compute_errors.error_factory),
    (image_urls, image_errors.error_factory),
    (network_urls, network_errors.error_factory),
    (volume_urls, volume_errors.error_factory),
    (object_urls, object_errors.error_factory),
    (dns_urls, dns_errors.error_factory),
    (orchestration_urls, orchestration_errors.error_factory),
    (admin_urls, None),
)


class _QuietRequestHandler(WSGIRequestHandler):
    """No access log on stderr: the counters say what was called."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


def resolve_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ConfigurationError(
            f"unknown reference profile {name!r}; choose one of {', '.join(sorted(PROFILES))}"
        ) from None


class ReferenceCloud:
    """An OpenStack-compatible cloud served over HTTP on loopback, with SSH-reachable servers.

    ``knobs`` override the profile's fault settings (``boot_delay=0``, ``api_latency=0.05``,
    ``server_error_rate=0.1``, ``seed=7``, ... see ``FaultSettings``); ``machines=False`` keeps
    servers API-only; ``quotas={"instances": 100}`` changes Nova's default quotas.
    """

    def __init__(
        self, profile: str = "default", host: str = "127.0.0.1", port: int = 0, **knobs: Any
    ) -> None:
        self.profile = resolve_profile(profile)
        if not ipaddress.ip_address(host).is_loopback:
            raise ConfigurationError(f"the reference cloud binds loopback only, not {host}")
        unknown = set(knobs) - FaultSettings.knob_names() - EXTRA_KNOBS
        if unknown:
            raise ConfigurationError(
                f"unknown reference cloud knob(s): {', '.join(sorted(unknown))}"
            )
        fault_knobs = {k: v for k, v in knobs.items() if k in FaultSettings.knob_names()}
        try:
            self.fault_settings = dataclasses.replace(self.profile.faults, **fault_knobs)
        except (TypeError, ValueError) as exc:
            raise ConfigurationError(f"bad reference cloud knob: {exc}") from None
        self._machines_enabled = bool(knobs.get("machines", True))
        # machines="vm": real QEMU/KVM guests (reference.vm), "auto": those if KVM works
        self._machine_backend = machine_backend(knobs.get("machines", True))
        self._quotas = dict(knobs.get("quotas") or {})
        unknown_quotas = set(self._quotas) - set(DEFAULT_QUOTAS) - set(NETWORK_QUOTAS)
        if unknown_quotas:
            raise ConfigurationError(f"unknown quota(s): {', '.join(sorted(unknown_quotas))}")
        self.host = host
        self._requested_port = port
        self._lock = threading.Lock()
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._state: CloudState | None = None
        self._password = secrets.token_urlsafe(16)
        self._admin_password = secrets.token_urlsafe(16)
        self._peer_password = secrets.token_urlsafe(16)
        self.ssh_port = 0

    def __repr__(self) -> str:
        return f"ReferenceCloud(profile={self.profile.name!r}, url={self.base_url!r})"

    # life cycle ------------------------------------------------------------------------
    def start(self) -> None:
        with self._lock:
            if self._server is not None:
                return
            self.ssh_port = pick_ssh_port()
            glue = MachineGlue(
                self.ssh_port, enabled=self._machines_enabled, backend=self._machine_backend
            )
            state = CloudState(self.profile, self.fault_settings, glue)
            for name, value in self._quotas.items():  # Nova's and Neutron's, by name
                quotas = state.network.quotas if name in NETWORK_QUOTAS else None
                (quotas if quotas is not None else state.compute.default_quotas)[name] = value
            identity = state.identity
            admin_project = identity.ensure_project("admin", "Bootstrap project")
            identity.add_user(
                "admin", ADMIN_NAME, self._admin_password, roles=("admin", "member", "reader")
            )
            identity.ensure_project(PROJECT_NAME, "The tester's project")
            identity.add_user(PROJECT_NAME, USER_NAME, self._password)
            identity.ensure_project(PEER_NAME, "Another tenant, for sharing tests")
            identity.add_user(PEER_NAME, PEER_NAME, self._peer_password)
            state.bootstrap(admin_project)
            served = [entry for entry in SERVICES if self.profile.serves(entry[0].SERVICE)]
            state.catalog = [
                item for item in state.catalog if self.profile.serves(item.path.split("/")[1])
            ]
            app = ReferenceApp(
                state,
                [item for urls, _ in served for item in urls.routes(state)],
                {urls.SERVICE: factory for urls, factory in SERVICES if factory is not None},
            )
            server = make_server(
                self.host,
                self._requested_port,
                app,
                threaded=True,
                request_handler=_QuietRequestHandler,
            )
            server.daemon_threads = True
            server.socket.listen(LISTEN_BACKLOG)  # socketserver's default of 5 drops bursts
            state.base_url = f"http://{self.host}:{server.server_port}"
            thread = threading.Thread(
                target=server.serve_forever,
                name="reference-cloud",
                kwargs={"poll_interval": 0.1},
                daemon=True,
            )
            thread.start()
            self._server, self._thread, self._state = server, thread, state

    def stop(self) -> None:
        with self._lock:
            server, thread, state = self._server, self._thread, self._state
            self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        if state is not None:
            state.close()

    def __enter__(self) -> ReferenceCloud:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # addresses and configuration -------------------------------------------------------
    @property
    def state(self) -> CloudState:
        if self._state is None:
            raise RuntimeError("the reference cloud is not started")
        return self._state

    @property
    def port(self) -> int:
        return self._server.server_port if self._server else 0

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}" if self._server else ""

    @property
    def auth_url(self) -> str:
        return f"{self.base_url}/identity/v3"

    def _config(self, username: str, password: str, project: str) -> dict[str, Any]:
        return {
            "auth": {
                "auth_url": self.auth_url,
                "username": username,
                "password": password,
                "project_name": project,
                "user_domain_name": "Default",
                "project_domain_name": "Default",
            },
            "region_name": self.state.region,
            "identity_api_version": "3",
            "interface": "public",
            "interop": {"ssh_port": self.ssh_port, "profile": self.profile.name, **self._dns()},
        }

    def _dns(self) -> dict[str, Any]:
        """Where the listed name servers answer (they are in no public DNS), or why none do."""
        dns = self.state.dns
        if dns.unavailable:
            return {"dns_unavailable": dns.unavailable}
        return {"name_servers": dns.name_servers}

    def cloud_config(self, name: str = "reference") -> dict[str, Any]:
        """An openstacksdk cloud config for the tester's (non-admin) user.

        ``interop.peer_auth`` (another project's user) and ``interop.admin_auth`` play
        tempest's alt and admin credentials: container ACLs are tested against the peer,
        account quotas are set by the (reseller) admin.
        """
        config = self._config(USER_NAME, self._password, PROJECT_NAME)
        config["interop"]["peer_auth"] = self._config(PEER_NAME, self._peer_password, PEER_NAME)[
            "auth"
        ]
        config["interop"]["admin_auth"] = self.admin_cloud_config()["auth"]
        return config

    def admin_cloud_config(self) -> dict[str, Any]:
        """The same for the admin user (counters, all projects)."""
        return self._config(ADMIN_NAME, self._admin_password, "admin")

    def project_cloud_config(self, project: str, username: str, password: str) -> dict[str, Any]:
        return self._config(username, password, project)

    def clouds_yaml(self, name: str = "reference") -> str:
        # ``<name>-admin``: the admin account, for operator tools (openstack CLI, Tempest)
        admin = {k: v for k, v in self.admin_cloud_config().items() if k != "interop"}
        return yaml.safe_dump(
            {"clouds": {name: copy.deepcopy(self.cloud_config(name)), f"{name}-admin": admin}},
            sort_keys=False,
        )

    # tenants and counters --------------------------------------------------------------
    def add_project_user(self, project: str, username: str, password: str) -> None:
        self.state.identity.add_user(project, username, password)

    def counters(self) -> dict[str, Any]:
        return self.state.counters_snapshot()
