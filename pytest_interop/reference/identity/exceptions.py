"""Keystone's error body: ``{"error": {"code", "title", "message"}}``."""

from __future__ import annotations

from http import HTTPStatus

from pytest_interop.reference.core.errors import ApiError


class KeystoneError(ApiError):
    def body(self) -> dict:
        title = (
            HTTPStatus(self.status).phrase
            if self.status in HTTPStatus._value2member_map_
            else "Error"
        )
        return {"error": {"code": self.status, "title": title, "message": self.message}}


def error_factory(message: str, status: int) -> ApiError:
    return KeystoneError(message, status)


def bad_request(message: str) -> KeystoneError:
    return KeystoneError(message, 400)


def unauthorized(
    message: str = "The request you have made requires authentication.",
) -> KeystoneError:
    return KeystoneError(message, 401)


def not_found(kind: str, ident: str) -> KeystoneError:
    return KeystoneError(f"Could not find {kind}: {ident}.", 404)
