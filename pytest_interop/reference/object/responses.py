"""Swift v1 requests to model calls, and model objects to Swift's headers and listings.

Routes are unauthenticated at the app level: Swift decides per request whether a token, a
temporary URL signature or a container ACL lets the caller in (see :meth:`_caller`).
"""

from __future__ import annotations

import base64
import binascii
import calendar
import datetime as dt
import hashlib
import hmac
import ipaddress
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING
from urllib.parse import unquote

from werkzeug.http import http_date
from werkzeug.wrappers import Request, Response

from pytest_interop.reference.core.wire import RequestContext, empty_response, json_response
from pytest_interop.reference.object import exceptions, large_objects
from pytest_interop.reference.object.models import (
    LISTING_LIMIT,
    MAX_FILE_SIZE,
    MAX_META_COUNT,
    MAX_NAME_LENGTH,
    MAX_OBJECT_NAME_LENGTH,
    Account,
    Caller,
    Container,
    ContainerSettings,
    StoredObject,
)

if TYPE_CHECKING:
    from pytest_interop.reference.state import CloudState

MOUNT = "/object"  # where the service sits on the cloud's URL; Swift itself sees /v1/...
SWIFT_VERSION = "2.33.0"
TEMP_URL_METHODS = ("GET", "HEAD", "PUT")
DIGESTS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}
HEX_LENGTHS = {40: "sha1", 64: "sha256", 128: "sha512"}
ISO_EXPIRES = "%Y-%m-%dT%H:%M:%SZ"


def _title(key: str) -> str:
    return "-".join(part.capitalize() for part in key.split("-"))


def meta_updates(headers: Iterable[tuple[str, str]], kind: str) -> dict[str, str | None]:
    """``X-<Kind>-Meta-Foo: v`` sets foo; empty, or ``X-Remove-<Kind>-Meta-Foo``, drops it."""
    setter, remover = f"x-{kind}-meta-", f"x-remove-{kind}-meta-"
    updates: dict[str, str | None] = {}
    for name, value in headers:
        lower = name.lower()
        if lower.startswith(setter) and len(lower) > len(setter):
            updates[lower[len(setter) :]] = value.strip() or None
        elif lower.startswith(remover) and len(lower) > len(remover):
            updates[lower[len(remover) :]] = None
    return updates


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """One ``bytes=`` range as (first, last) inclusive; None means the whole object.

    Several ranges are answered whole (allowed by RFC 9110); none satisfiable is a 416.
    """
    if not header or not header.strip().lower().startswith("bytes="):
        return None
    specs = [spec.strip() for spec in header.split("=", 1)[1].split(",") if spec.strip()]
    if len(specs) != 1:
        return None
    first_text, sep, last_text = specs[0].partition("-")
    try:
        if not sep:
            return None
        if not first_text:  # suffix: the last N bytes
            count = int(last_text)
            if count <= 0 or size == 0:
                raise exceptions.range_not_satisfiable(size)
            return max(0, size - count), size - 1
        first = int(first_text)
        last = int(last_text) if last_text else size - 1
    except ValueError:
        return None
    if first > last:
        return None
    if first >= size:
        raise exceptions.range_not_satisfiable(size)
    return first, min(last, size - 1)


def _expiry(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return calendar.timegm(time.strptime(text, ISO_EXPIRES))
    except ValueError:
        raise exceptions.unauthorized("Temp URL invalid") from None


def _signature(text: str) -> tuple[str, bytes] | None:
    """(digest name, raw signature) from ``<hex>`` or ``<digest>:<base64>``."""
    name, sep, encoded = text.partition(":")
    try:
        if sep:
            padded = encoded + "=" * (-len(encoded) % 4)
            return (name, base64.urlsafe_b64decode(padded)) if name in DIGESTS else None
        digest = HEX_LENGTHS.get(len(text))
        return (digest, bytes.fromhex(text)) if digest else None
    except (ValueError, binascii.Error):
        return None


class ObjectResponses:
    def __init__(self, state: CloudState) -> None:
        self.state = state

    @property
    def model(self):
        return self.state.object

    # -- who is asking -------------------------------------------------------------------
    def _token_caller(self, request: Request) -> Caller:
        token_id = request.headers.get("X-Auth-Token", "")
        if not token_id:
            return Caller()
        token = self.state.identity.validate_token(token_id)
        if token is None or token.project is None:  # unscoped tokens carry no account
            raise exceptions.unauthorized()
        return Caller(
            project_id=token.project.id,
            project_name=token.project.name,
            user_id=token.user.id,
            user_name=token.user.name,
            reseller_admin="admin" in token.roles,
        )

    def _caller(self, request: Request, account: str, container: str, name: str) -> Caller | None:
        """A token's caller; None when a valid temp URL signature authorises the request."""
        if "temp_url_sig" in request.args or "temp_url_expires" in request.args:
            self._check_temp_url(request, account, container, name)
            return None
        return self._token_caller(request)

    def _check_temp_url(self, request: Request, account: str, container: str, name: str) -> None:
        invalid = exceptions.unauthorized("Temp URL invalid")
        sig_text = request.args.get("temp_url_sig", "")
        expires_text = request.args.get("temp_url_expires", "")
        if not sig_text or not expires_text:
            raise invalid
        expires = _expiry(expires_text)
        if expires < time.time():
            raise exceptions.unauthorized("Temp URL expired")
        method = request.method
        if method not in TEMP_URL_METHODS:
            raise invalid
        signature = _signature(sig_text)
        if signature is None:
            raise invalid
        digest_name, wanted = signature
        prefix = request.args.get("temp_url_prefix")
        if prefix is not None and not name.startswith(prefix):
            raise invalid
        ip_range = request.args.get("temp_url_ip_range")
        if ip_range is not None:
            try:
                allowed = ipaddress.ip_network(ip_range, strict=False)
                if ipaddress.ip_address(request.remote_addr or "") not in allowed:
                    raise invalid
            except ValueError:
                raise invalid from None
        methods = ("GET", "PUT") if method == "HEAD" else (method,)
        subjects = []
        for path in self._signed_paths(request, account, container, name, prefix):
            for signed_method in methods:
                body = f"{signed_method}\n{expires}\n{path}"
                if ip_range is not None:
                    body = f"ip={ip_range}\n{body}"
                subjects.append(body.encode())
        for key in self.model.temp_url_keys(account, container):
            for subject in subjects:
                mac = hmac.new(key.encode(), subject, DIGESTS[digest_name]).digest()
                if hmac.compare_digest(mac, wanted):
                    return
        raise invalid

    @staticmethod
    def _signed_paths(
        request: Request, account: str, container: str, name: str, prefix: str | None
    ) -> list[str]:
        """The paths a client may have signed: the decoded path (as Swift's tempurl reads
        PATH_INFO), with our ``/object`` mount or without it (a client that sees ``/v1``)."""
        if prefix is not None:
            bare = f"prefix:/v1/{account}/{container}/{prefix}"
            return [bare, f"prefix:{MOUNT}{bare[len('prefix:') :]}"]
        path = request.path
        bare = path[len(MOUNT) :] if path.startswith(f"{MOUNT}/") else path
        return [bare, f"{MOUNT}{bare}"]

    # -- /info ---------------------------------------------------------------------------
    def info(self, ctx: RequestContext, request: Request) -> Response:
        return json_response(
            {
                "swift": {
                    "version": SWIFT_VERSION,
                    "max_file_size": MAX_FILE_SIZE,
                    "max_meta_count": MAX_META_COUNT,
                    "max_container_name_length": MAX_NAME_LENGTH,
                    "max_object_name_length": MAX_OBJECT_NAME_LENGTH,
                    "container_listing_limit": LISTING_LIMIT,
                    "account_listing_limit": LISTING_LIMIT,
                    "account_autocreate": True,
                    "strict_cors_mode": True,
                    "policies": [{"name": "Policy-0", "default": True}],
                },
                "tempurl": {
                    "methods": list(TEMP_URL_METHODS),
                    "allowed_digests": sorted(DIGESTS),
                    "incoming_remove_headers": ["x-timestamp"],
                    "outgoing_remove_headers": ["x-object-meta-*"],
                },
                "container_quotas": {},
                "account_quotas": {},
                **large_objects.INFO,
                "versioned_writes": {
                    "allowed_flags": ["x-versions-location", "x-history-location"]
                },
            }
        )

    # -- accounts ------------------------------------------------------------------------
    def _account_headers(self, acct: Account) -> dict[str, str]:
        headers = {
            "X-Account-Container-Count": str(len(acct.containers)),
            "X-Account-Object-Count": str(acct.object_count),
            "X-Account-Bytes-Used": str(acct.bytes_used),
            "X-Timestamp": f"{acct.created:.5f}",
            "X-Account-Storage-Policy-Policy-0-Container-Count": str(len(acct.containers)),
            "X-Account-Storage-Policy-Policy-0-Object-Count": str(acct.object_count),
            "X-Account-Storage-Policy-Policy-0-Bytes-Used": str(acct.bytes_used),
        }
        for key, value in acct.metadata.items():
            headers[f"X-Account-Meta-{_title(key)}"] = value
        return headers

    def account_get(self, ctx: RequestContext, request: Request, account: str) -> Response:
        caller = self._token_caller(request)
        with self.state.lock:
            acct = self.model.get_account(caller, account)
            headers = self._account_headers(acct)
            entries = [
                {
                    "name": c.name,
                    "count": c.object_count,
                    "bytes": c.bytes_used,
                    "last_modified": _iso(c.created),
                }
                for c in sorted(acct.containers.values(), key=lambda c: c.name)
            ]
        return self._listing(request, entries, headers)

    def account_post(self, ctx: RequestContext, request: Request, account: str) -> Response:
        caller = self._token_caller(request)
        self.model.update_account(caller, account, meta_updates(request.headers.items(), "account"))
        return empty_response(204)

    # -- containers ----------------------------------------------------------------------
    def _settings(self, request: Request) -> ContainerSettings:
        headers = request.headers
        settings = ContainerSettings(metadata=meta_updates(headers.items(), "container"))
        if "X-Container-Read" in headers:
            settings.read_acl = headers["X-Container-Read"].strip()
        if "X-Remove-Container-Read" in headers:
            settings.read_acl = ""
        if "X-Container-Write" in headers:
            settings.write_acl = headers["X-Container-Write"].strip()
        if "X-Remove-Container-Write" in headers:
            settings.write_acl = ""
        stack = headers.get("X-Versions-Location", "").strip()
        history = headers.get("X-History-Location", "").strip()
        if stack and history:
            raise exceptions.bad_request(
                "Only one of X-Versions-Location or X-History-Location may be specified"
            )
        if stack or history:
            settings.versions = (
                ("stack", unquote(stack)) if stack else ("history", unquote(history))
            )
        elif any(
            name in headers
            for name in (
                "X-Versions-Location",
                "X-History-Location",
                "X-Remove-Versions-Location",
                "X-Remove-History-Location",
            )
        ):
            settings.versions = ("", "")
        return settings

    def _container_headers(self, found: Container, owner: bool) -> dict[str, str]:
        headers = {
            "X-Container-Object-Count": str(found.object_count),
            "X-Container-Bytes-Used": str(found.bytes_used),
            "X-Timestamp": f"{found.created:.5f}",
            "X-Storage-Policy": "Policy-0",
        }
        for key, value in found.metadata.items():
            if owner or not key.startswith("temp-url-key"):
                headers[f"X-Container-Meta-{_title(key)}"] = value
        if owner:
            if found.read_acl:
                headers["X-Container-Read"] = found.read_acl
            if found.write_acl:
                headers["X-Container-Write"] = found.write_acl
            if found.versions_location:
                name = (
                    "X-Versions-Location"
                    if found.versions_mode == "stack"
                    else "X-History-Location"
                )
                headers[name] = found.versions_location
        return headers

    def container_get(
        self, ctx: RequestContext, request: Request, account: str, container: str
    ) -> Response:
        caller = self._token_caller(request)
        with self.state.lock:
            found = self.model.get_container(caller, account, container)
            owner = caller.reseller_admin or caller.project_id == self.model.project_of(account)
            headers = self._container_headers(found, owner)
            entries = [
                {
                    "name": key,
                    "bytes": obj.size,
                    "hash": obj.etag,
                    "content_type": obj.content_type,
                    "last_modified": _iso(obj.timestamp),
                }
                for key, obj in sorted(found.objects.items())
            ]
        return self._listing(request, entries, headers)

    def container_put(
        self, ctx: RequestContext, request: Request, account: str, container: str
    ) -> Response:
        caller = self._token_caller(request)
        created = self.model.put_container(caller, account, container, self._settings(request))
        return empty_response(201 if created else 202)

    def container_post(
        self, ctx: RequestContext, request: Request, account: str, container: str
    ) -> Response:
        caller = self._token_caller(request)
        self.model.update_container(caller, account, container, self._settings(request))
        return empty_response(204)

    def container_delete(
        self, ctx: RequestContext, request: Request, account: str, container: str
    ) -> Response:
        self.model.delete_container(self._token_caller(request), account, container)
        return empty_response(204)

    # -- objects -------------------------------------------------------------------------
    @staticmethod
    def _object_headers(obj: StoredObject) -> dict[str, str]:
        headers = {
            "ETag": obj.etag,
            "Last-Modified": http_date(obj.timestamp),
            "X-Timestamp": f"{obj.timestamp:.5f}",
            "Accept-Ranges": "bytes",
        }
        if obj.delete_at is not None:
            headers["X-Delete-At"] = str(int(obj.delete_at))
        for key, value in obj.metadata.items():
            headers[f"X-Object-Meta-{_title(key)}"] = value
        return headers

    def object_get(
        self, ctx: RequestContext, request: Request, account: str, container: str, obj: str
    ) -> Response:
        caller = self._caller(request, account, container, obj)
        with self.state.lock:
            stored = self.model.get_object(caller, account, container, obj)
            data, content_type = stored.data, stored.content_type
            headers = self._object_headers(stored)
            if stored.manifest and request.args.get("multipart-manifest") != "get":
                data, headers["ETag"] = large_objects.assemble(self.model, caller, account, stored)
                headers[_manifest_header(stored)] = _manifest_value(stored)
                if stored.manifest[0] == large_objects.DLO:  # Swift quotes a DLO's ETag
                    headers["ETag"] = f'"{headers["ETag"]}"'

        if caller is None and request.method == "GET":
            filename = request.args.get("filename") or obj.rsplit("/", 1)[-1]
            kind = "inline" if "inline" in request.args else "attachment"
            headers["Content-Disposition"] = f'{kind}; filename="{filename}"'
        conditional = _conditional(request, headers.get("ETag", ""))
        if conditional is not None:
            return empty_response(conditional, headers)
        wanted = parse_range(request.headers.get("Range"), len(data))
        status = 200
        if wanted is not None:
            first, last = wanted
            headers["Content-Range"] = f"bytes {first}-{last}/{len(data)}"
            data, status = data[first : last + 1], 206
        response = Response(data, status=status, content_type=content_type)
        response.headers.update(headers)
        return response

    def object_put(
        self, ctx: RequestContext, request: Request, account: str, container: str, obj: str
    ) -> Response:
        caller = self._caller(request, account, container, obj)
        metadata = {k: v for k, v in meta_updates(request.headers.items(), "object").items() if v}
        content_type = request.headers.get("Content-Type") or "application/octet-stream"
        copy_from = request.headers.get("X-Copy-From")
        if copy_from:
            if caller is None:
                raise exceptions.unauthorized("Temp URL invalid")
            source_container, source_object = _split_location(copy_from, "X-Copy-From")
            source_account = request.headers.get("X-Copy-From-Account") or account
            stored = self.model.copy_object(
                caller,
                (source_account, source_container, source_object),
                (account, container, obj),
                metadata,
                request.headers.get("Content-Type"),
            )
        else:
            if (request.content_length or 0) > MAX_FILE_SIZE:
                raise exceptions.too_large("Your request is too large.")
            data = request.get_data()
            expected = request.headers.get("ETag", "").strip('"').lower()
            if expected and expected != hashlib.md5(data, usedforsecurity=False).hexdigest():
                raise exceptions.unprocessable("Unprocessable Entity")
            new = StoredObject(data, content_type, 0.0, metadata)
            new.manifest = self._manifest_of(request, caller, account)
            new.delete_at = _delete_at(request)
            stored = self.model.put_object(caller, account, container, obj, new)
        return empty_response(
            201, {"ETag": stored.etag, "Last-Modified": http_date(stored.timestamp)}
        )

    def _manifest_of(
        self, request: Request, caller: Caller | None, account: str
    ) -> tuple[str, object] | None:
        """A large object's manifest from a PUT's headers or query, checked; or None."""
        if request.args.get("multipart-manifest") == "put":
            body = request.get_data()
            return large_objects.SLO, large_objects.parse_slo_manifest(
                self.model, caller, account, body
            )
        dlo = request.headers.get("X-Object-Manifest")
        if dlo:
            return large_objects.DLO, dlo.lstrip("/")
        return None

    def object_copy(
        self, ctx: RequestContext, request: Request, account: str, container: str, obj: str
    ) -> Response:
        caller = self._token_caller(request)
        destination = request.headers.get("Destination")
        if not destination:
            raise exceptions.precondition_failed("You must provide a Destination header.")
        target_container, target_object = _split_location(destination, "Destination")
        target_account = request.headers.get("Destination-Account") or account
        metadata = {k: v for k, v in meta_updates(request.headers.items(), "object").items() if v}
        with self.state.lock:
            source_time = self.model.get_object(caller, account, container, obj).timestamp
            stored = self.model.copy_object(
                caller,
                (account, container, obj),
                (target_account, target_container, target_object),
                metadata,
                request.headers.get("Content-Type"),
            )
        return empty_response(
            201,
            {
                "ETag": stored.etag,
                "Last-Modified": http_date(stored.timestamp),
                "X-Copied-From-Last-Modified": http_date(source_time),
                "X-Copied-From": f"{container}/{obj}",
                "X-Copied-From-Account": account,
            },
        )

    def object_post(
        self, ctx: RequestContext, request: Request, account: str, container: str, obj: str
    ) -> Response:
        metadata = {k: v for k, v in meta_updates(request.headers.items(), "object").items() if v}
        caller = self._token_caller(request)
        delete_at = _delete_at(request)
        with self.state.lock:
            self.model.update_object(caller, account, container, obj, metadata)
            if delete_at is not None or "X-Remove-Delete-At" in request.headers:
                self.model.set_expiry(caller, account, container, obj, delete_at)
            manifest = request.headers.get("X-Object-Manifest")
            if manifest:  # a POST may make an object a DLO manifest, as in Swift
                stored = self.model.get_object(caller, account, container, obj)
                stored.manifest = (large_objects.DLO, manifest.lstrip("/"))
        return empty_response(202)

    def object_delete(
        self, ctx: RequestContext, request: Request, account: str, container: str, obj: str
    ) -> Response:
        self.model.delete_object(self._token_caller(request), account, container, obj)
        return empty_response(204)

    # -- listings --------------------------------------------------------------------------
    def _listing(self, request: Request, entries: list[dict], headers: dict[str, str]) -> Response:
        args = request.args
        try:
            limit = int(args.get("limit", LISTING_LIMIT))
        except ValueError:
            raise exceptions.precondition_failed("Value of limit must be an integer") from None
        if limit < 0 or limit > LISTING_LIMIT:
            raise exceptions.precondition_failed(f"Maximum limit is {LISTING_LIMIT}")
        prefix = args.get("prefix", "")
        marker, end_marker = args.get("marker", ""), args.get("end_marker", "")
        delimiter = args.get("delimiter", "")
        reverse = args.get("reverse", "").lower() in ("1", "true", "yes", "on")
        chosen = [entry for entry in entries if entry["name"].startswith(prefix)]
        if reverse:
            chosen.reverse()
        if marker:
            chosen = [e for e in chosen if (e["name"] < marker if reverse else e["name"] > marker)]
        if end_marker:
            chosen = [
                e for e in chosen if (e["name"] > end_marker if reverse else e["name"] < end_marker)
            ]
        if delimiter:
            collapsed: list[dict] = []
            seen: set[str] = set()
            for entry in chosen:
                rest = entry["name"][len(prefix) :]
                if delimiter in rest:
                    subdir = prefix + rest.split(delimiter, 1)[0] + delimiter
                    if subdir not in seen:
                        seen.add(subdir)
                        collapsed.append({"subdir": subdir})
                else:
                    collapsed.append(entry)
            chosen = collapsed
        chosen = chosen[:limit]
        wants_json = args.get("format", "").lower() == "json" or (
            "format" not in args and "application/json" in request.headers.get("Accept", "")
        )
        if request.method == "HEAD":  # Swift answers HEAD on an account or container with 204
            kind = "application/json" if wants_json else "text/plain"
            return empty_response(204, {**headers, "Content-Type": f"{kind}; charset=utf-8"})
        if wants_json:
            response = json_response(chosen, headers=headers)
            response.headers["Content-Type"] = "application/json; charset=utf-8"
            return response
        if not chosen:
            return empty_response(204, headers)
        body = "".join(f"{entry.get('name') or entry.get('subdir')}\n" for entry in chosen)
        response = Response(body, status=200, content_type="text/plain; charset=utf-8")
        response.headers.update(headers)
        return response


def _delete_at(request: Request) -> float | None:
    """X-Delete-At (a Unix time) or X-Delete-After (seconds from now); None if neither."""
    at, after = request.headers.get("X-Delete-At"), request.headers.get("X-Delete-After")
    try:
        if at is not None:
            moment = float(int(at))
        elif after is not None:
            moment = time.time() + int(after)
        else:
            return None
    except ValueError:
        raise exceptions.bad_request(
            "Non-integer X-Delete-At" if at is not None else "Non-integer X-Delete-After"
        ) from None
    if moment <= time.time():
        raise exceptions.bad_request("X-Delete-At in past")
    return moment


def _conditional(request: Request, etag: str) -> int | None:
    """304 or 412 for a GET/HEAD whose If-None-Match / If-Match the object's ETag decides."""
    tag = etag.strip('"')

    def listed(header: str) -> set[str] | None:
        value = request.headers.get(header)
        if value is None:
            return None
        return {item.strip().strip('"') for item in value.split(",")}

    match, none_match = listed("If-Match"), listed("If-None-Match")
    if match is not None and "*" not in match and tag not in match:
        return 412
    if none_match is not None and ("*" in none_match or tag in none_match):
        return 304
    return None


def _split_location(value: str, header: str) -> tuple[str, str]:
    container, _, name = unquote(value).lstrip("/").partition("/")
    if not container or not name:
        raise exceptions.precondition_failed(
            f"{header} header must be of the form <container name>/<object name>"
        )
    return container, name


def _manifest_header(stored: StoredObject) -> str:
    return (
        "X-Object-Manifest" if stored.manifest[0] == large_objects.DLO else "X-Static-Large-Object"
    )


def _manifest_value(stored: StoredObject) -> str:
    return str(stored.manifest[1]) if stored.manifest[0] == large_objects.DLO else "True"


def _iso(stamp: float) -> str:
    return dt.datetime.fromtimestamp(stamp, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
