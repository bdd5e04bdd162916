"""Heat's error body: ``{"explanation", "code", "error": {"message", "type", ...}, "title"}``."""

from __future__ import annotations

from pytest_interop.reference.core.errors import ApiError

TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Request Entity Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}
EXPLANATIONS = {
    400: "The server could not comply with the request since it is either malformed or "
    "otherwise incorrect.",
    404: "The resource could not be found.",
    409: "There was a conflict when trying to complete your request.",
}


class HeatError(ApiError):
    def __init__(self, message: str, status: int = 400, error_type: str = "HeatException"):
        super().__init__(message, status)
        self.error_type = error_type

    def body(self) -> dict:
        return {
            "explanation": EXPLANATIONS.get(self.status, self.message),
            "code": self.status,
            "error": {"message": self.message, "traceback": None, "type": self.error_type},
            "title": TITLES.get(self.status, "Error"),
        }


def error_factory(message: str, status: int) -> ApiError:
    return HeatError(message, status)


def bad_request(message: str, error_type: str = "HTTPBadRequest") -> HeatError:
    return HeatError(message, 400, error_type)


def invalid(message: str) -> HeatError:
    """A template, environment or parameter Heat refuses (``StackValidationFailed``)."""
    return HeatError(message, 400, "StackValidationFailed")


def stack_not_found(name: str) -> HeatError:
    return HeatError(f"The Stack ({name}) could not be found.", 404, "EntityNotFound")


def resource_not_found(name: str, stack: str) -> HeatError:
    return HeatError(
        f"The Resource ({name}) could not be found in Stack {stack}.", 404, "ResourceNotFound"
    )


def not_found(message: str, error_type: str = "EntityNotFound") -> HeatError:
    return HeatError(message, 404, error_type)


def conflict(message: str, error_type: str = "StackExists") -> HeatError:
    return HeatError(message, 409, error_type)


class ResourceFailure(Exception):
    """A resource that could not be made, changed or removed; the stack's status reason."""
