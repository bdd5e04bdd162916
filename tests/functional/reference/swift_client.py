"""A raw Swift client for the reference cloud's object-store tests (token from openstacksdk)."""

from __future__ import annotations

from typing import Any

import openstack
import requests


class Swift:
    """Raw Swift calls on one account with one token."""

    def __init__(self, conn: openstack.connection.Connection) -> None:
        self.conn = conn
        self.endpoint = conn.object_store.get_endpoint().rstrip("/")
        self.token = conn.session.get_token()

    def __call__(
        self, method: str, path: str = "", *, account: str | None = None, **kwargs: Any
    ) -> requests.Response:
        base = self.endpoint if account is None else self.endpoint.rsplit("/", 1)[0] + "/" + account
        headers = {"X-Auth-Token": self.token, **kwargs.pop("headers", {})}
        url = f"{base}/{path}" if path else base
        return requests.request(method, url, headers=headers, timeout=10, **kwargs)

    @property
    def account(self) -> str:
        return self.endpoint.rsplit("/", 1)[1]
