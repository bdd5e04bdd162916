"""Neutron's error body: ``{"NeutronError": {"type", "message", "detail"}}``."""

from __future__ import annotations

from pytest_interop.reference.core.errors import ApiError

_DEFAULT_TYPES = {
    400: "HTTPBadRequest",
    401: "HTTPUnauthorized",
    403: "HTTPForbidden",
    404: "HTTPNotFound",
    405: "HTTPMethodNotAllowed",
    409: "HTTPConflict",
    429: "HTTPTooManyRequests",
    500: "HTTPInternalServerError",
    503: "HTTPServiceUnavailable",
}


class NeutronError(ApiError):
    def body(self) -> dict:
        kind = self.kind or _DEFAULT_TYPES.get(self.status, "NeutronError")
        return {"NeutronError": {"type": kind, "message": self.message, "detail": ""}}


def error_factory(message: str, status: int) -> ApiError:
    return NeutronError(message, status)


def bad_request(message: str) -> NeutronError:
    return NeutronError(message, 400, kind="HTTPBadRequest")


def invalid_input(message: str) -> NeutronError:
    return NeutronError(f"Invalid input for operation: {message}", 400, kind="InvalidInput")


def not_found(kind: str, ident: str) -> NeutronError:
    label = {
        "Network": "network",
        "Subnet": "subnet",
        "Port": "port",
        "Router": "router",
        "FloatingIP": "floating IP",
        "SecurityGroup": "security group",
        "SecurityGroupRule": "security group rule",
        "SubnetPool": "subnetpool",
    }.get(kind, kind)
    return NeutronError(
        f"{label[0].upper()}{label[1:]} {ident} could not be found.", 404, kind=f"{kind}NotFound"
    )


def conflict(kind: str, message: str) -> NeutronError:
    return NeutronError(message, 409, kind=kind)
