"""The embedded AWS endpoint: moto's EC2 over HTTP on loopback, with instances you can SSH into.

How moto is joined to the reference machines (moto runs in this process, so its models are
ours to observe):

- **Addresses.** moto draws instance public IPs from 54.214.x.x and Elastic IPs from all of
  127/8. While a ReferenceAws runs, both generators (module-level names in moto's ENI and EIP
  model modules) are replaced by :func:`~pytest_interop.reference.addresses.allocate_loopback`,
  so every public address moto hands out is a unique loopback address in 127.64.0.0/10; the
  originals come back at :meth:`ReferenceAws.stop`. Private addresses stay moto's (10.x,
  172.31.x): API data only, never listened on or connected to.
- **Life cycle.** The HTTP server is werkzeug's, serving moto's own WSGI application (what
  ``ThreadedMotoServer`` serves) behind a small middleware. After every request the middleware
  reconciles moto's instances with the machines: a running instance gets a machine listening on
  its public IP (and on a newly associated Elastic IP), a stopped one is powered off, a
  terminated one destroyed, a changed instance type resizes the machine. A reboot leaves no trace
  in moto's state, so the middleware reads ``RebootInstances`` requests itself, and it answers
  ``GetConsoleOutput`` with the machine's console log (host-key fingerprints included).

moto keeps its state per process; one ReferenceAws may run in a process at a time.
"""

from __future__ import annotations

import base64
import html
import io
import ipaddress
import secrets
import threading
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from pytest_interop.clouds import discovery
from pytest_interop.clouds.base import Image
from pytest_interop.errors import ConfigurationError
from pytest_interop.reference.addresses import allocate_loopback, release_loopback

REGION = "us-east-1"
ACCESS_KEY_ID = "interop-reference-key"
_LOGIN_BY_OWNER = {"137112412989": "ec2-user", "099720109477": "ubuntu"}

_active_lock = threading.Lock()
_active: ReferenceAws | None = None


def _moto_loopback_ip() -> str:
    return allocate_loopback()


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass  # a line per API call would drown the test output


class _AddressPatch:
    """Swap moto's public-IP generators for loopback ones (see the module docstring)."""

    def __init__(self) -> None:
        from moto.ec2.models import elastic_ip_addresses, elastic_network_interfaces

        self._targets = [
            (elastic_network_interfaces, "random_public_ip"),
            (elastic_ip_addresses, "random_ip"),
        ]
        self._saved: list[tuple[Any, str, Any]] = []

    def install(self) -> None:
        for module, attribute in self._targets:
            self._saved.append((module, attribute, getattr(module, attribute)))
            setattr(module, attribute, _moto_loopback_ip)

    def remove(self) -> None:
        for module, attribute, original in self._saved:
            setattr(module, attribute, original)
        self._saved.clear()


class _Tracked:
    """What the reconciler knows of one instance's machine."""

    def __init__(self, machine: Any, instance_type: str) -> None:
        self.machine = machine
        self.instance_type = instance_type
        self.ips: set[str] = set()


class ReferenceAws:
    """moto's EC2 on loopback; instances become SSH endpoints on loopback addresses."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, ssh_port: int | None = None) -> None:
        if not ipaddress.ip_address(host).is_loopback:
            raise ConfigurationError(f"the reference AWS endpoint binds loopback only, not {host}")
        self.host = host
        self._requested_port = port
        self.ssh_port = ssh_port or 0
        self.region = REGION
        self._secret_key = secrets.token_urlsafe(24)
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._patch: _AddressPatch | None = None
        self._machines: Any = None
        self._tracked: dict[str, _Tracked] = {}
        self._sync_lock = threading.RLock()

    def __repr__(self) -> str:
        return f"ReferenceAws(url={self.endpoint_url!r})"

    # -- life cycle ---------------------------------------------------------------------------
    def start(self) -> None:
        global _active
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        from pytest_interop.reference.compute.machines_glue import pick_ssh_port
        from pytest_interop.reference.machines import MachineHost

        with _active_lock:
            if _active is not None:
                raise RuntimeError("a ReferenceAws already runs in this process (moto is global)")
            _active = self
        try:
            self._reset_moto()
            self._patch = _AddressPatch()
            self._patch.install()
            if not self.ssh_port:
                self.ssh_port = pick_ssh_port()
            self._machines = MachineHost(self.ssh_port)
            app = DomainDispatcherApplication(create_backend_app)
            server = make_server(
                self.host,
                self._requested_port,
                self._middleware(app),
                threaded=True,
                request_handler=_QuietHandler,
            )
            server.daemon_threads = True
            thread = threading.Thread(
                target=server.serve_forever,
                name="reference-aws",
                kwargs={"poll_interval": 0.1},
                daemon=True,
            )
            thread.start()
            self._server, self._thread = server, thread
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        global _active
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        with self._sync_lock:
            for tracked in self._tracked.values():
                for ip in tracked.ips:
                    release_loopback(ip)
            self._tracked.clear()
        if self._machines is not None:
            self._machines.close()
            self._machines = None
        if self._patch is not None:
            self._patch.remove()
            self._patch = None
            self._reset_moto()
        with _active_lock:
            if _active is self:
                _active = None

    def __enter__(self) -> ReferenceAws:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._server.server_port if self._server else 0

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}" if self._server else ""

    def settings(self) -> dict[str, Any]:
        """Settings of an ``aws`` CloudSpec that reach this endpoint."""
        return {
            "profile": None,
            "region": self.region,
            "endpoint_url": self.endpoint_url,
            "aws_access_key_id": ACCESS_KEY_ID,
            "aws_secret_access_key": self._secret_key,
            "interop": {"ssh_port": self.ssh_port},
        }

    def counters(self) -> dict[str, Any]:
        """Live instances (not terminated) and machines, for leak tests."""
        backend = self._backend()
        live = [
            i.id
            for reservation in backend.reservations.values()
            for i in reservation.instances
            if i.state != "terminated"
        ]
        return {
            "live_instances": len(live),
            "machines": len(self._machines.machines()) if self._machines else 0,
            "elastic_ips": len(backend.addresses),
            "key_pairs": len(backend.key_pairs),
        }

    # -- moto access ------------------------------------------------------------------------------
    def _backend(self) -> Any:
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.ec2.models import ec2_backends

        return ec2_backends[DEFAULT_ACCOUNT_ID][self.region]

    def _reset_moto(self) -> None:
        self._backend().reset()

    # -- the middleware -------------------------------------------------------------------------
    def _middleware(self, app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
        def middleware(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            params = self._read_params(environ)
            action = (params.get("Action") or [""])[0]
            if action == "GetConsoleOutput":
                answer = self._console_output(params, start_response)
                if answer is not None:
                    return answer
            result = app(environ, start_response)
            try:
                with self._sync_lock:
                    self._reconcile()
                    if action == "RebootInstances":
                        for key, values in params.items():
                            if key.startswith("InstanceId."):
                                self._reboot(values[0])
            except Exception as exc:  # a machine problem must not break the API answer
                environ["wsgi.errors"].write(f"reference-aws reconcile: {exc!r}\n")
            return result

        return middleware

    @staticmethod
    def _read_params(environ: dict[str, Any]) -> dict[str, list[str]]:
        """The query-protocol parameters; the body is put back for moto to read."""
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        params = parse_qs(environ.get("QUERY_STRING", ""))
        if "x-www-form-urlencoded" in environ.get("CONTENT_TYPE", ""):
            params.update(parse_qs(body.decode("utf-8", "replace")))
        return params

    def _console_output(
        self, params: dict[str, list[str]], start_response: Callable[..., Any]
    ) -> list[bytes] | None:
        instance_id = (params.get("InstanceId") or [""])[0]
        with self._sync_lock:
            self._reconcile()
            tracked = self._tracked.get(instance_id)
            if tracked is None:
                return None  # moto answers (and knows the error for unknown ids)
            log = tracked.machine.console_log()
        output = base64.b64encode(log.encode()).decode()
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<GetConsoleOutputResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">'
            f"<requestId>{uuid.uuid4()}</requestId>"
            f"<instanceId>{html.escape(instance_id)}</instanceId>"
            f"<timestamp>{stamp}</timestamp><output>{output}</output>"
            "</GetConsoleOutputResponse>"
        ).encode()
        start_response("200 OK", [("Content-Type", "text/xml"), ("Content-Length", str(len(body)))])
        return [body]

    # -- reconciling moto's instances with machines ----------------------------------------------
    def _login_user(self, backend: Any, image_id: str) -> str:
        try:
            ami = backend.amis[image_id]
        except KeyError:
            return "ec2-user"
        owner_user = _LOGIN_BY_OWNER.get(str(ami.owner_id))
        if owner_user:
            return owner_user
        user, _ = discovery.login_user_for(Image(ami.id, ami.name or ""))
        return user or "ec2-user"

    @staticmethod
    def _shape(instance_type: str) -> tuple[int, int]:
        from moto.ec2.models.instance_types import INSTANCE_TYPES

        info = INSTANCE_TYPES.get(instance_type, {})
        vcpus = int(info.get("VCpuInfo", {}).get("DefaultVCpus", 1))
        ram = int(info.get("MemoryInfo", {}).get("SizeInMiB", 1024))
        return vcpus, ram

    def _reconcile(self) -> None:
        backend = self._backend()
        seen: set[str] = set()
        for reservation in list(backend.reservations.values()):
            for instance in list(reservation.instances):
                seen.add(instance.id)
                self._sync_instance(backend, instance)
        for gone in set(self._tracked) - seen:
            self._destroy(gone)

    def _sync_instance(self, backend: Any, instance: Any) -> None:
        state = instance.state
        tracked = self._tracked.get(instance.id)
        if state == "terminated":
            if tracked is not None:
                self._destroy(instance.id)
            return
        if tracked is None:
            keys: list[str] = []
            if instance.key_name and instance.key_name in backend.key_pairs:
                keys.append(backend.key_pairs[instance.key_name].public_key.strip())
            vcpus, ram = self._shape(instance.instance_type)
            ami = backend.amis.get(instance.image_id)
            machine = self._machines.create(
                instance.id,
                hostname=f"ip-{instance.private_ip.replace('.', '-')}",
                login_user=self._login_user(backend, instance.image_id),
                authorized_keys=keys,
                vcpus=vcpus,
                ram_mb=ram,
                disk_gb=8,
                image_name=ami.name if ami is not None else instance.image_id,
            )
            tracked = self._tracked[instance.id] = _Tracked(machine, instance.instance_type)
        machine = tracked.machine
        if tracked.instance_type != instance.instance_type:
            vcpus, ram = self._shape(instance.instance_type)
            machine.resize(vcpus, ram, 8)
            tracked.instance_type = instance.instance_type
        public_ip = instance.public_ip
        wanted = {public_ip} if public_ip and ipaddress.ip_address(public_ip).is_loopback else set()
        for ip in tracked.ips - wanted:
            machine.unlisten(ip)
        if state == "running":
            machine.power_on()
        elif state in ("stopped", "stopping"):
            machine.power_off()
        for ip in wanted - tracked.ips:
            machine.listen(ip)
        tracked.ips = wanted

    def _reboot(self, instance_id: str) -> None:
        tracked = self._tracked.get(instance_id)
        if tracked is not None and tracked.machine.powered_on:
            tracked.machine.reboot()

    def _destroy(self, instance_id: str) -> None:
        tracked = self._tracked.pop(instance_id, None)
        if tracked is None:
            return
        tracked.machine.destroy()
