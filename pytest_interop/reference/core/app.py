"""The WSGI application: route, count, inject faults, authenticate, call the service."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from pytest_interop.reference.core.errors import ApiError
from pytest_interop.reference.core.routing import Route
from pytest_interop.reference.core.wire import RequestContext

if TYPE_CHECKING:
    from pytest_interop.reference.state import CloudState

LOG = logging.getLogger(__name__)

ErrorFactory = Callable[[str, int], ApiError]
REQUEST_ID_KEY = "interop.request_id"
ITEM_METHODS = frozenset({"GET", "HEAD", "PUT", "PATCH", "DELETE"})
EMPTY_ID = "\x00empty"  # no real id looks like this
EMPTY_ID_SERVICES = frozenset({"image", "volume"})
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Keystone checks its own rules (identity/policy.py): a reader still revokes its own token.
SELF_POLICED = frozenset({"identity", "admin"})


class ReferenceApp:
    """Dispatches every request of the reference cloud to its service's handler."""

    def __init__(
        self,
        state: CloudState,
        routes: Sequence[Route],
        error_factories: dict[str, ErrorFactory],
    ) -> None:
        self.state = state
        self.routes: dict[str, Route] = {}
        rules = []
        for index, item in enumerate(routes):
            endpoint = f"r{index}"
            self.routes[endpoint] = item
            rules.append(Rule(item.path, methods=list(item.methods), endpoint=endpoint))
        self.url_map = Map(rules, strict_slashes=False, merge_slashes=True)
        self.error_factories = error_factories

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        request = Request(environ)
        request_id = environ[REQUEST_ID_KEY] = f"req-{uuid.uuid4()}"
        response = self.dispatch(request)
        # Swift sets its own (tx...) id; Nova repeats it as x-compute-request-id and records
        # it in the server's instance actions (RequestContext.request_id).
        response.headers.setdefault("X-OpenStack-Request-Id", request_id)
        if request.path.startswith("/compute"):
            response.headers.setdefault("X-Compute-Request-Id", request_id)
        return response(environ, start_response)

    def _error(self, service: str, message: str, status: int) -> ApiError:
        factory = self.error_factories.get(service)
        if factory is None:
            return ApiError(message, status)
        return factory(message, status)

    def dispatch(self, request: Request) -> Response:
        path = request.path.rstrip("/") or "/"
        service = path.strip("/").split("/", 1)[0]
        adapter = self.url_map.bind("reference")
        if self._empty_id(adapter, request, path, service):
            return self._error(service, "The resource could not be found.", 404).response()
        try:
            endpoint, values = adapter.match(path, method=request.method)
        except MethodNotAllowed:
            return self._error(service, "The method is not allowed.", 405).response()
        except NotFound:
            return self._error(service, "The resource could not be found.", 404).response()
        route = self.routes[endpoint]
        method = "GET" if request.method == "HEAD" and "HEAD" not in route.methods else None
        self.state.counters.count_call(route.service, method or request.method, route.template)
        try:
            if route.faults:
                self._inject_faults(route)
            context = self._authenticate(request, route)
            return route.handler(context, request, **values)
        except ApiError as exc:
            return exc.response()
        except Exception:
            LOG.exception("reference cloud: %s %s failed", request.method, route.template)
            return self._error(route.service, "An unexpected error occurred.", 500).response()

    def _empty_id(self, adapter: Any, request: Request, path: str, service: str) -> bool:
        """``GET /v2/images/``: an item route with an empty id, not the collection.

        Glance and Cinder answer 404, as Tempest's negative tests check (Swift reads
        ``/v1/AUTH_x/`` as the account)."""
        if not request.path.endswith("/") or request.method not in ITEM_METHODS:
            return False
        if service not in EMPTY_ID_SERVICES:
            return False
        try:
            _endpoint, values = adapter.match(f"{path}/{EMPTY_ID}", method=request.method)
        except (MethodNotAllowed, NotFound):
            return False
        return EMPTY_ID in values.values()

    def _inject_faults(self, route: Route) -> None:
        faults = self.state.faults
        delay = faults.api_latency()
        if delay > 0:
            time.sleep(delay)
        outcome = faults.api_outcome()
        if outcome == "rate_limited":
            retry_after = faults.settings.retry_after
            error = self._error(route.service, "This request was rate-limited.", 429)
            error.headers["Retry-After"] = str(retry_after)
            error.kind = "rate_limited"
            raise error
        if outcome == "server_error":
            raise self._error(route.service, "Injected fault: the service failed.", 503)

    def _authenticate(self, request: Request, route: Route) -> RequestContext:
        context = RequestContext(base_url=self.state.base_url)
        context.request_id = request.environ.get(REQUEST_ID_KEY, "")
        if not route.authenticated:
            return context
        token_id = request.headers.get("X-Auth-Token", "")
        token = self.state.identity.validate_token(token_id) if token_id else None
        if token is None:
            raise self._error(
                route.service, "The request you have made requires authentication.", 401
            )
        if token.project is None and route.service not in SELF_POLICED:
            # an unscoped token is good for Keystone only, as the services' auth middleware says
            raise self._error(route.service, "The request you have made requires a scope.", 401)
        context.token_id = token.id
        context.user_id = token.user.id
        context.user_name = token.user.name
        context.project_id = token.project.id if token.project else ""
        context.project_name = token.project.name if token.project else ""
        context.roles = tuple(token.roles)
        if route.admin_only and not context.is_admin:
            raise self._error(route.service, "This action requires the admin role.", 403)
        if (
            request.method in WRITE_METHODS
            and route.service not in SELF_POLICED
            and not {"admin", "member"} & set(context.roles)
        ):
            # The services' default policies (project_member_api): a reader only reads.
            raise self._error(
                route.service, f"Policy doesn't allow {route.template} to be performed.", 403
            )
        return context
