"""Plain Nova requests for API-level compute capabilities (the adapter hides status codes)."""

from __future__ import annotations

from typing import Any

from pytest_interop.errors import InfrastructureError


def nova(os_conn: Any, method: str, path: str, **kwargs: Any) -> Any:
    """One Nova request; the caller checks the status. A 5xx or 429 is the cloud's trouble."""
    response = os_conn.compute.request(path, method, raise_exc=False, **kwargs)
    if response.status_code >= 500 or response.status_code == 429:
        raise InfrastructureError(
            f"{method} {path} answered {response.status_code}", call=f"nova {method} {path}"
        )
    return response


def nova_json(os_conn: Any, method: str, path: str, expect: int = 200, **kwargs: Any) -> Any:
    """The JSON body of a Nova request that must answer ``expect``."""
    response = nova(os_conn, method, path, **kwargs)
    assert response.status_code == expect, (
        f"{method} {path}: {response.status_code} {response.text[:300]}, not {expect}"
    )
    return response.json()
