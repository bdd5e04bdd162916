"""Nova's error body: ``{"<faultName>": {"code", "message"}}``, named by status."""

from __future__ import annotations

from pytest_interop.reference.core.errors import ApiError

FAULT_NAMES = {
    400: "badRequest",
    401: "unauthorized",
    403: "forbidden",
    404: "itemNotFound",
    405: "badMethod",
    409: "conflictingRequest",
    413: "overLimit",
    415: "badMediaType",
    429: "overLimit",
    501: "notImplemented",
    503: "serviceUnavailable",
}


class NovaError(ApiError):
    def body(self) -> dict:
        name = FAULT_NAMES.get(self.status, "computeFault")
        fault: dict = {"code": self.status, "message": self.message}
        if self.status == 429 and "Retry-After" in self.headers:
            fault["retryAfter"] = self.headers["Retry-After"]
        return {name: fault}


def error_factory(message: str, status: int) -> ApiError:
    return NovaError(message, status)


def bad_request(message: str) -> NovaError:
    return NovaError(message, 400)


def forbidden(message: str) -> NovaError:
    return NovaError(message, 403)


def not_found(message: str) -> NovaError:
    return NovaError(message, 404)


def conflict(message: str) -> NovaError:
    return NovaError(message, 409)


def quota_exceeded(resource: str, requested: int, used: int, limit: int) -> NovaError:
    return NovaError(
        f"Quota exceeded for {resource}: Requested {requested}, but already used {used} of "
        f"{limit} {resource}",
        403,
    )
