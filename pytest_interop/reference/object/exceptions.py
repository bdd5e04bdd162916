"""Swift answers errors as short HTML pages (401 and 413 as plain text, like its middlewares)."""

from __future__ import annotations

import html
from http import HTTPStatus

from werkzeug.wrappers import Response

from pytest_interop.reference.core.errors import ApiError


class SwiftError(ApiError):
    def body(self) -> str:
        try:
            phrase = HTTPStatus(self.status).phrase
        except ValueError:
            phrase = "Error"
        return f"<html><h1>{phrase}</h1><p>{html.escape(self.message)}</p></html>"

    def response(self) -> Response:
        response = Response(
            self.body(), status=self.status, content_type="text/html; charset=UTF-8"
        )
        for name, value in self.headers.items():
            response.headers[name] = value
        return response


def error_factory(message: str, status: int) -> ApiError:
    return SwiftError(message, status)


def bad_request(message: str) -> SwiftError:
    return SwiftError(message, 400)


def unauthorized(
    message: str = "This server could not verify that you are authorized.",
) -> SwiftError:
    return SwiftError(message, 401, headers={"WWW-Authenticate": 'Swift realm="unknown"'})


def forbidden(message: str = "Access was denied to this resource.") -> SwiftError:
    return SwiftError(message, 403)


def not_found(message: str = "The resource could not be found.") -> SwiftError:
    return SwiftError(message, 404)


def conflict(message: str) -> SwiftError:
    return SwiftError(message, 409)


def precondition_failed(message: str) -> SwiftError:
    return SwiftError(message, 412)


def too_large(message: str = "Upload exceeds quota.") -> SwiftError:
    return SwiftError(message, 413)


def range_not_satisfiable(size: int) -> SwiftError:
    return SwiftError(
        "The Range requested is not available.", 416, headers={"Content-Range": f"bytes */{size}"}
    )


def unprocessable(message: str) -> SwiftError:
    return SwiftError(message, 422)
