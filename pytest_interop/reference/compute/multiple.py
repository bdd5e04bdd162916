"""Nova's multiple create (``min_count``/``max_count``) in the reference cloud.

Nova boots as many servers as the quota allows up to ``max_count``, at least ``min_count``
(403 otherwise), names them ``<name>-<n>`` and gives them one reservation id; the answer is
the first server, or ``{"reservation_id": ...}`` when ``return_reservation_id`` is asked for.
A failure part way removes the servers already made: the request boots all or nothing.
"""

from __future__ import annotations

import contextlib
import secrets
from typing import TYPE_CHECKING, Any

from pytest_interop.reference.compute import exceptions

if TYPE_CHECKING:
    from pytest_interop.reference.compute.models import ComputeModel, Server
    from pytest_interop.reference.core.wire import RequestContext


def _count(body: dict[str, Any], key: str, default: int) -> int:
    value = body.get(key, default)
    try:
        count = int(value)
    except (TypeError, ValueError):
        raise exceptions.bad_request(f"Invalid input for field/attribute {key}.") from None
    if count < 1:
        raise exceptions.bad_request(f"Invalid input for field/attribute {key}.")
    return count


def wanted_counts(body: dict[str, Any]) -> tuple[int, int]:
    low = _count(body, "min_count", 1)
    high = _count(body, "max_count", low)
    if high < low:
        raise exceptions.bad_request("min_count must be <= max_count")
    return low, high


def create_servers(model: ComputeModel, ctx: RequestContext, body: dict[str, Any]) -> list[Server]:
    """Boot ``min_count`` to ``max_count`` servers from one request body."""
    low, high = wanted_counts(body)
    single = {k: v for k, v in body.items() if k not in ("min_count", "max_count")}
    if high == 1:
        return [model.create_server(ctx, single)]
    limit = model.quota_limits(ctx.project_id)["instances"]
    used = model.quota_usage(ctx.project_id)["instances"]
    room = high if limit < 0 else max(0, limit - used)
    count = min(high, room)
    if count < low:
        raise exceptions.forbidden(
            f"Quota exceeded for instances: Requested {low}, but already used {used} of "
            f"{limit} instances"
        )
    reservation = "r-" + secrets.token_hex(4)
    made: list[Server] = []
    try:
        for number in range(1, count + 1):
            server = model.create_server(ctx, {**single, "name": f"{body.get('name')}-{number}"})
            server.reservation_id = reservation
            made.append(server)
    except Exception:
        for server in made:
            with contextlib.suppress(Exception):
                model.delete(ctx, server.id, force=True)
        raise
    return made
