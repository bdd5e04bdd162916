"""Designate's error body: ``{"code", "type", "message", "request_id"}``."""

from __future__ import annotations

import uuid

from pytest_interop.reference.core.errors import ApiError

TYPES = {
    400: "invalid_object",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "duplicate",
    413: "over_quota",
    429: "over_limit",
    503: "service_unavailable",
}


class DesignateError(ApiError):
    def __init__(self, message: str, status: int | None = None, type_: str | None = None) -> None:
        super().__init__(message, status)
        self.type = type_ or TYPES.get(self.status, "internal_server_error")

    def body(self) -> dict:
        return {
            "code": self.status,
            "type": self.type,
            "message": self.message,
            "request_id": f"req-{uuid.uuid4()}",
        }


def error_factory(message: str, status: int) -> ApiError:
    return DesignateError(message, status)


def invalid(message: str) -> DesignateError:
    return DesignateError(message, 400, "invalid_object")


def bad_request(message: str) -> DesignateError:
    return DesignateError(message, 400, "bad_request")


def forbidden(message: str) -> DesignateError:
    return DesignateError(message, 403, "forbidden")


def zone_not_found() -> DesignateError:
    return DesignateError("Could not find Zone", 404, "zone_not_found")


def recordset_not_found() -> DesignateError:
    return DesignateError("Could not find RecordSet", 404, "recordset_not_found")


def task_not_found(kind: str) -> DesignateError:
    return DesignateError(f"Could not find Zone{kind}", 404, f"zone_{kind.lower()}_not_found")


def duplicate(kind: str) -> DesignateError:
    return DesignateError(f"Duplicate {kind}", 409, f"duplicate_{kind.lower()}")


def over_quota(resource: str) -> DesignateError:
    return DesignateError(f"Quota exceeded for {resource}.", 413, "over_quota")


def unavailable(reason: str) -> DesignateError:
    return DesignateError(f"The DNS service is unavailable: {reason}", 503)
