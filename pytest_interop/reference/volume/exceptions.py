"""Cinder's error body: ``{"<faultName>": {"code", "message"}}``, as Nova's, named by status."""

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
    429: "overLimit",
    503: "serviceUnavailable",
}


class CinderError(ApiError):
    def body(self) -> dict:
        name = FAULT_NAMES.get(self.status, "computeFault")
        return {name: {"code": self.status, "message": self.message}}


def error_factory(message: str, status: int) -> ApiError:
    return CinderError(message, status)


def bad_request(message: str) -> CinderError:
    return CinderError(message, 400)


def forbidden(message: str) -> CinderError:
    return CinderError(message, 403)


def volume_not_found(volume_id: str) -> CinderError:
    return CinderError(f"Volume {volume_id} could not be found.", 404)


def snapshot_not_found(snapshot_id: str) -> CinderError:
    return CinderError(f"Snapshot {snapshot_id} could not be found.", 404)


def invalid_volume(message: str) -> CinderError:
    return CinderError(f"Invalid volume: {message}", 400)


def over_quota(resource: str, requested: int, used: int, limit: int) -> CinderError:
    """Cinder answers an exceeded quota with 413 and names the quota."""
    if resource == "gigabytes":
        message = (
            f"VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed "
            f"gigabytes quota. Requested {requested}G, quota is {limit}G and {used}G has been "
            f"consumed."
        )
    else:
        message = f"Maximum number of {resource} allowed ({limit}) exceeded for quota '{resource}'."
    return CinderError(message, 413)
