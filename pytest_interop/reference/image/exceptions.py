"""Glance answers errors as webob pages: a short text body with status and explanation."""

from __future__ import annotations

from http import HTTPStatus

from pytest_interop.reference.core.errors import ApiError


class GlanceError(ApiError):
    def body(self) -> str:
        try:
            phrase = HTTPStatus(self.status).phrase
        except ValueError:
            phrase = "Error"
        return f"{self.status} {phrase}\n\n{self.message}\n\n   "


def error_factory(message: str, status: int) -> ApiError:
    return GlanceError(message, status)


def bad_request(message: str) -> GlanceError:
    return GlanceError(message, 400)


def not_found(ident: str) -> GlanceError:
    return GlanceError(f"No image found with ID {ident}", 404)


def forbidden(message: str) -> GlanceError:
    return GlanceError(message, 403)


def conflict(message: str) -> GlanceError:
    return GlanceError(message, 409)
