"""Wire helpers: JSON bodies, request bodies, timestamps, limit/marker paging."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from werkzeug.wrappers import Request, Response

from pytest_interop.reference.core.errors import ApiError

T = TypeVar("T")


@dataclass
class RequestContext:
    """Who is calling, as the token says, and where the cloud answers."""

    base_url: str
    token_id: str = ""
    user_id: str = ""
    user_name: str = ""
    project_id: str = ""
    project_name: str = ""
    roles: tuple[str, ...] = ()
    microversion: tuple[int, int] = (2, 1)
    request_id: str = ""  # this request's X-OpenStack-Request-Id

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    def __repr__(self) -> str:  # never show the token
        return f"RequestContext(user={self.user_name!r}, project={self.project_name!r})"


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def isotime(moment: dt.datetime, *, micro: bool = False) -> str:
    """``2026-11-25T11:00:00Z`` (Nova/Glance/Neutron) or with microseconds (Keystone)."""
    moment = moment.astimezone(dt.UTC)
    if micro:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_isotime(text: str) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    response = Response(json.dumps(body), status=status, content_type="application/json")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def empty_response(status: int = 204, headers: dict[str, str] | None = None) -> Response:
    response = Response(b"", status=status)
    response.headers.pop("Content-Type", None)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def json_body(request: Request, error: Callable[[str], ApiError]) -> dict[str, Any]:
    """The request's JSON object, or the service's 400."""
    raw = request.get_data(cache=True)
    if not raw:
        raise error("The request body is empty.")
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise error(f"Malformed request body: {exc.msg}.") from None
    if not isinstance(body, dict):
        raise error("The request body must be a JSON object.")
    return body


def parse_limit(
    request: Request, error: Callable[[str], ApiError], *, maximum: int = 1000
) -> int | None:
    raw = request.args.get("limit")
    if raw is None or raw == "":
        return None
    try:
        limit = int(raw)
    except ValueError:
        raise error(f"limit param must be an integer, not {raw!r}") from None
    if limit < 0:
        raise error("limit param must be positive")
    return min(limit, maximum)


@dataclass
class Page:
    items: list[Any]
    has_more: bool


def paginate(
    items: Sequence[T],
    *,
    limit: int | None,
    marker: str | None,
    key: Callable[[T], str],
    marker_missing: Callable[[str], ApiError],
) -> Page:
    """Items after ``marker`` (an id), at most ``limit`` of them."""
    start = 0
    if marker:
        for index, item in enumerate(items):
            if key(item) == marker:
                start = index + 1
                break
        else:
            raise marker_missing(marker)
    end = len(items) if limit is None else start + limit
    return Page(items=list(items[start:end]), has_more=end < len(items))


def truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}
