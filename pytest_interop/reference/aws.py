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
- **EC2's refusals moto lacks.** An attached volume attaching again, a volume in a zone that
  does not exist, and RunInstances naming a key pair that does not exist
  (``InvalidKeyPair.NotFound``, where moto would boot) are answered by the middleware.
- **One request at a time into moto.** moto's in-memory backends are not thread-safe (its own
  server is single-threaded), yet the tester's xdist workers call concurrently. The middleware
  runs each request's moto part (EC2's extra refusals included) under one lock and, still
  under it, takes a snapshot of the instances; the machines (SSH servers, slow to change) are
  reconciled from that snapshot outside the lock, a stale snapshot being skipped.
- **S3.** moto serves S3 on the same port; clients use path-style addressing
  (``http://127.0.0.1:PORT/bucket/key``), which moto recognises from the signature's credential
  scope (and takes for S3 when unsigned). moto checks no credentials, so the middleware gives
  S3's refusals itself: anonymous requests, presigned URLs with a wrong signature and expired
  ones (see :func:`_s3_refusal`).

moto keeps its state per process; one ReferenceAws may run in a process at a time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import io
import ipaddress
import secrets
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, quote, unquote

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


def guest_device(device: str) -> str:
    """The name a Xen guest gives an EBS device: /dev/sdf and /dev/xvdf are both xvdf."""
    name = device.removeprefix("/dev/")
    return "xv" + name[1:] if name.startswith("sd") else name


class _Tracked:
    """What the reconciler knows of one instance's machine."""

    def __init__(self, machine: Any, instance_type: str) -> None:
        self.machine = machine
        self.instance_type = instance_type
        self.ips: set[str] = set()
        self.disks: dict[str, int] = {}  # guest device name -> GiB of attached EBS volumes


@dataclass(frozen=True)
class _InstanceView:
    """What the reconciler needs of one moto instance, copied while moto is locked."""

    id: str
    state: str
    instance_type: str
    hostname: str
    login_user: str
    image_name: str
    authorized_keys: tuple[str, ...]
    public_ip: str | None
    disks: tuple[tuple[str, int], ...]  # guest device name, GiB (attached EBS, not the root)
    user_data: str = ""  # run by the guest's cloud-init at its first boot


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
        # moto is not thread-safe: every request's moto part runs under this lock.
        self._moto_lock = threading.Lock()
        self._snapshot_serial = 0  # counts snapshots, under _moto_lock
        self._applied_serial = 0  # the newest snapshot applied, under _sync_lock

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
            from pytest_interop.reference import aws_cloudformation  # imports moto

            aws_cloudformation.install()
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
            from pytest_interop.reference import aws_cloudformation_wait

            aws_cloudformation_wait.endpoint.update(url=self.endpoint_url, lock=self._moto_lock)
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
            from pytest_interop.reference import aws_cloudformation

            aws_cloudformation.remove()
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
        with self._moto_lock:
            live = [
                i.id
                for reservation in backend.reservations.values()
                for i in reservation.instances
                if i.state != "terminated"
            ]
            counts = {
                "live_instances": len(live),
                "elastic_ips": len(backend.addresses),
                "key_pairs": len(backend.key_pairs),
                "buckets": len(self._s3_backend().buckets),
                "hosted_zones": len(self._route53_backend().zones),
            }
        counts["machines"] = len(self._machines.machines()) if self._machines else 0
        return counts

    # -- moto access ------------------------------------------------------------------------------
    def _backend(self) -> Any:
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.ec2.models import ec2_backends

        return ec2_backends[DEFAULT_ACCOUNT_ID][self.region]

    def _route53_backend(self) -> Any:
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.route53.models import route53_backends

        return route53_backends[DEFAULT_ACCOUNT_ID]["global"]

    def _s3_backend(self) -> Any:
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.s3.models import s3_backends

        return s3_backends[DEFAULT_ACCOUNT_ID]["aws"]

    def _reset_moto(self) -> None:
        from moto.cloudformation.models import cloudformation_backends
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.ssm.models import ssm_backends

        self._backend().reset()
        self._s3_backend().reset()
        self._route53_backend().reset()
        cloudformation_backends[DEFAULT_ACCOUNT_ID][self.region].reset()
        ssm_backends[DEFAULT_ACCOUNT_ID][self.region].reset()

    # -- the middleware -------------------------------------------------------------------------
    def _middleware(self, app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
        def middleware(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            params = self._read_params(environ)
            action = (params.get("Action") or [""])[0]
            if action == "GetConsoleOutput":
                answer = self._console_output(params, start_response)
                if answer is not None:
                    return answer
            from pytest_interop.reference import aws_cloudformation_wait as waits

            if environ.get("PATH_INFO", "").startswith(waits.PATH):  # a wait condition's signal
                with self._moto_lock:
                    return waits.signal(environ, start_response)
            refusal = _s3_refusal(environ, self._secret_key, start_response)
            if refusal is not None:
                return refusal
            with self._moto_lock:
                if action == "CreateStack":
                    from pytest_interop.reference.aws_cloudformation import read_on_failure

                    read_on_failure(params)
                ec2_refusal = self._ec2_refusal(action, params)
                if ec2_refusal is None:
                    # Drain the body here: moto may build it lazily, and must do so locked.
                    result = _drained(app(environ, start_response))
                snapshot = self._snapshot()
            if ec2_refusal is not None:
                return _ec2_error(start_response, *ec2_refusal)
            try:
                with self._sync_lock:
                    self._apply(snapshot)
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
        with self._moto_lock:
            snapshot = self._snapshot()
        with self._sync_lock:
            self._apply(snapshot)
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

    def _ec2_refusal(self, action: str, params: dict[str, list[str]]) -> tuple[str, str] | None:
        """EC2's refusals that moto does not make, as (code, message); None lets moto answer.

        An attached volume attaching again, a volume in an availability zone that does not
        exist, an instance launched with a key pair that does not exist. Called with moto
        locked, so the state checked is the state moto then acts on.
        """
        backend = self._backend()
        code = message = ""
        if action == "RunInstances":
            key_name = (params.get("KeyName") or [""])[0]
            if key_name and key_name not in backend.key_pairs:
                code, message = (
                    "InvalidKeyPair.NotFound",
                    f"The key pair '{key_name}' does not exist",
                )
        elif action == "AttachVolume":
            volume_id = (params.get("VolumeId") or [""])[0]
            volume = backend.volumes.get(volume_id)
            if volume is not None and volume.attachment is not None:
                code, message = "VolumeInUse", f"{volume_id} is already attached to an instance"
        elif action == "CreateVolume":
            zone = (params.get("AvailabilityZone") or [""])[0]
            if zone and backend.get_zone_by_name(zone) is None:
                code, message = "InvalidParameterValue", f"Invalid availability zone: [{zone}]"
        return (code, message) if code else None

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

    def _snapshot(self) -> tuple[int, list[_InstanceView]]:
        """moto's instances as the reconciler needs them; call with _moto_lock held."""
        from pytest_interop.reference.aws_cloudformation import user_data_text

        backend = self._backend()
        disks_by_instance: dict[str, list[tuple[str, int]]] = {}
        for volume in backend.volumes.values():
            attachment = volume.attachment
            if attachment is None:
                continue
            instance = attachment.instance
            # moto puts the root volume at /dev/sda1 whatever the AMI's root device name says
            if attachment.device in ("/dev/sda1", getattr(instance, "root_device_name", "")):
                continue
            disks_by_instance.setdefault(instance.id, []).append(
                (guest_device(attachment.device), int(volume.size))
            )
        views: list[_InstanceView] = []
        for reservation in backend.reservations.values():
            for instance in reservation.instances:
                keys: tuple[str, ...] = ()
                if instance.key_name and instance.key_name in backend.key_pairs:
                    keys = (backend.key_pairs[instance.key_name].public_key.strip(),)
                ami = backend.amis.get(instance.image_id)
                views.append(
                    _InstanceView(
                        id=instance.id,
                        state=instance.state,
                        instance_type=instance.instance_type,
                        hostname=f"ip-{instance.private_ip.replace('.', '-')}",
                        login_user=self._login_user(backend, instance.image_id),
                        image_name=ami.name if ami is not None else instance.image_id,
                        authorized_keys=keys,
                        public_ip=instance.public_ip,
                        disks=tuple(disks_by_instance.get(instance.id, ())),
                        user_data=user_data_text(getattr(instance, "user_data", None)),
                    )
                )
        self._snapshot_serial += 1
        return self._snapshot_serial, views

    def _apply(self, snapshot: tuple[int, list[_InstanceView]]) -> None:
        """Make the machines match a snapshot; call with _sync_lock held.

        A snapshot older than one already applied is skipped: the newer one holds its changes.
        """
        serial, views = snapshot
        if serial < self._applied_serial:
            return
        self._applied_serial = serial
        for view in views:
            self._sync_instance(view)
        for gone in set(self._tracked) - {view.id for view in views}:
            self._destroy(gone)

    def _sync_instance(self, view: _InstanceView) -> None:
        tracked = self._tracked.get(view.id)
        if view.state == "terminated":
            if tracked is not None:
                self._destroy(view.id)
            return
        if tracked is None:
            vcpus, ram = self._shape(view.instance_type)
            machine = self._machines.create(
                view.id,
                hostname=view.hostname,
                login_user=view.login_user,
                authorized_keys=list(view.authorized_keys),
                vcpus=vcpus,
                ram_mb=ram,
                disk_gb=8,
                image_name=view.image_name,
            )
            tracked = self._tracked[view.id] = _Tracked(machine, view.instance_type)
            if view.user_data:
                machine.run_user_data(view.user_data)
        machine = tracked.machine
        if tracked.instance_type != view.instance_type:
            vcpus, ram = self._shape(view.instance_type)
            machine.resize(vcpus, ram, 8)
            tracked.instance_type = view.instance_type
        public_ip = view.public_ip
        wanted = {public_ip} if public_ip and ipaddress.ip_address(public_ip).is_loopback else set()
        for ip in tracked.ips - wanted:
            machine.unlisten(ip)
        if view.state == "running":
            machine.power_on()
        elif view.state in ("stopped", "stopping"):
            machine.power_off()
        for ip in wanted - tracked.ips:
            machine.listen(ip)
        tracked.ips = wanted
        self._sync_disks(dict(view.disks), tracked)

    @staticmethod
    def _sync_disks(wanted: dict[str, int], tracked: _Tracked) -> None:
        """Attached EBS volumes (not the root one) become disks in the machine's lsblk."""
        for name in set(tracked.disks) - set(wanted):
            tracked.machine.detach_disk(name)
            del tracked.disks[name]
        for name in set(wanted) - set(tracked.disks):
            tracked.machine.attach_disk(name, wanted[name])
            tracked.disks[name] = wanted[name]

    def _reboot(self, instance_id: str) -> None:
        tracked = self._tracked.get(instance_id)
        if tracked is not None and tracked.machine.powered_on:
            tracked.machine.reboot()

    def _destroy(self, instance_id: str) -> None:
        tracked = self._tracked.pop(instance_id, None)
        if tracked is None:
            return
        tracked.machine.destroy()


def _drained(body: Iterable[bytes]) -> list[bytes]:
    """A WSGI body read to the end (and closed), so no moto code runs after the lock."""
    try:
        return list(body)
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()


def _ec2_error(start_response: Callable[..., Any], code: str, message: str) -> list[bytes]:
    """An EC2 query-API error answer (400), as botocore parses it."""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Response><Errors><Error><Code>{code}</Code>"
        f"<Message>{html.escape(message)}</Message></Error></Errors>"
        f"<RequestID>{uuid.uuid4()}</RequestID></Response>"
    ).encode()
    start_response(
        "400 Bad Request", [("Content-Type", "text/xml"), ("Content-Length", str(len(body)))]
    )
    return [body]


def _s3_refusal(
    environ: dict[str, Any], secret_key: str, start_response: Callable[..., Any]
) -> list[bytes] | None:
    """S3's own refusals, which moto (enforcing no auth) leaves out; None lets moto answer.

    An anonymous request (no Authorization header, no presigned query) is AccessDenied, as
    for S3's private buckets; a presigned URL (SigV4 query auth) past
    ``X-Amz-Date + X-Amz-Expires`` is "Request has expired", and one whose signature does not
    match this endpoint's credentials is SignatureDoesNotMatch.
    """
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    if "X-Amz-Signature" not in query:
        if environ.get("HTTP_AUTHORIZATION") or environ.get("PATH_INFO", "").startswith(
            "/moto-api"
        ):
            return None
        return _s3_error(start_response, "AccessDenied", "Access Denied")
    first = {key: values[0] for key, values in query.items()}
    stamp, lifetime = first.get("X-Amz-Date", ""), first.get("X-Amz-Expires", "")
    try:
        signed = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        expires = signed.timestamp() + int(lifetime)
    except ValueError:
        return _s3_error(start_response, "AuthorizationQueryParametersError", "Bad X-Amz-Date")
    if not _presigned_signature_matches(environ, first, secret_key):
        return _s3_error(
            start_response,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided.",
        )
    if datetime.now(UTC).timestamp() > expires:
        return _s3_error(start_response, "AccessDenied", "Request has expired")
    return None


def _presigned_signature_matches(
    environ: dict[str, Any], query: dict[str, str], secret_key: str
) -> bool:
    """Recompute the SigV4 query signature (S3 flavour: unsigned payload, path as sent)."""
    try:
        access_key, day, region, service, terminator = query["X-Amz-Credential"].split("/")
    except (KeyError, ValueError):
        return False
    if access_key != ACCESS_KEY_ID or terminator != "aws4_request":
        return False
    raw_query = environ.get("QUERY_STRING", "")
    pairs = []
    for pair in raw_query.split("&"):
        key, _, value = pair.partition("=")
        if key and unquote(key) != "X-Amz-Signature":
            pairs.append((quote(unquote(key), safe="-_.~"), quote(unquote(value), safe="-_.~")))
    canonical_query = "&".join(f"{k}={v}" for k, v in sorted(pairs))
    signed_headers = query.get("X-Amz-SignedHeaders", "host").split(";")
    lines = []
    for name in signed_headers:
        value = environ.get(
            "HTTP_HOST" if name == "host" else f"HTTP_{name.upper().replace('-', '_')}"
        )
        if value is None and name == "content-type":
            value = environ.get("CONTENT_TYPE")
        lines.append(f"{name}:{(value or '').strip()}\n")
    raw_uri = environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ.get("PATH_INFO", "")
    canonical = "\n".join(
        [
            environ.get("REQUEST_METHOD", "GET"),
            raw_uri.split("?", 1)[0],
            canonical_query,
            "".join(lines),
            ";".join(signed_headers),
            "UNSIGNED-PAYLOAD",
        ]
    )
    scope = f"{day}/{region}/{service}/aws4_request"
    to_sign = "\n".join(
        [
            "AWS4-HMAC-SHA256",
            query.get("X-Amz-Date", ""),
            scope,
            hashlib.sha256(canonical.encode()).hexdigest(),
        ]
    )
    key = f"AWS4{secret_key}".encode()
    for part in (day, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, query.get("X-Amz-Signature", ""))


def _s3_error(start_response: Callable[..., Any], code: str, message: str) -> list[bytes]:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{html.escape(message)}</Message>"
        f"<RequestId>{uuid.uuid4().hex[:16].upper()}</RequestId></Error>"
    ).encode()
    start_response(
        "403 Forbidden",
        [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))],
    )
    return [body]
