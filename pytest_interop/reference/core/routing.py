"""Route declarations shared by every service's ``urls`` module."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from werkzeug.wrappers import Request, Response

from pytest_interop.reference.core.wire import RequestContext

Handler = Callable[..., Response]


@dataclass(frozen=True)
class Route:
    """One templated path and the methods a handler answers on it."""

    service: str
    path: str  # werkzeug rule, e.g. "/compute/v2.1/servers/<server_id>"
    methods: tuple[str, ...]
    handler: Handler
    authenticated: bool = True
    admin_only: bool = False
    faults: bool = True  # latency, 5xx and 429 may be injected on this route

    @property
    def template(self) -> str:
        """The path with ``{name}`` placeholders, as counters report it."""
        return re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", self.path)


def route(
    service: str,
    path: str,
    methods: str | tuple[str, ...],
    handler: Callable[[RequestContext, Request], Response] | Handler,
    **options: bool,
) -> Route:
    if isinstance(methods, str):
        methods = (methods,)
    return Route(service=service, path=path, methods=tuple(methods), handler=handler, **options)
