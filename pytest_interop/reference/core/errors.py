"""The base of every API error; each service formats the body the way its real API does."""

from __future__ import annotations

import json
from collections.abc import Mapping

from werkzeug.wrappers import Response


class ApiError(Exception):
    """An error answer: status, message and the service's body format (set by subclasses)."""

    status: int = 500

    def __init__(
        self,
        message: str,
        status: int | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        kind: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        self.headers = dict(headers or {})
        self.kind = kind

    def body(self) -> dict | str:
        return {"error": {"code": self.status, "message": self.message}}

    def response(self) -> Response:
        body = self.body()
        if isinstance(body, str):
            response = Response(body, status=self.status, content_type="text/plain; charset=UTF-8")
        else:
            response = Response(
                json.dumps(body), status=self.status, content_type="application/json"
            )
        for name, value in self.headers.items():
            response.headers[name] = value
        return response
