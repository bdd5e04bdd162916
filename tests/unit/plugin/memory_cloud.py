"""An in-memory cloud provider for the plugin's own tests (loaded with ``-p memory_cloud``).

Clouds named ``memory:<name>`` resolve here. Each keeps its servers in a dict, goes through
the ledger like a real adapter, and can be told to lack a facet (``memory:nolock`` has no
server lock) so tests see *not applicable* results.
"""

from __future__ import annotations

import itertools

from pytest_interop.clouds.base import Cloud, Server
from pytest_interop.clouds.registry import CloudSpec
from pytest_interop.errors import InfrastructureError

_ids = itertools.count(1)


class MemoryCloud(Cloud):
    provider = "memory"

    def __init__(self, spec, ledger):
        super().__init__(spec.name)
        self.ledger = ledger
        self.settings = dict(spec.settings)
        self.servers: dict[str, Server] = {}

    def identity(self):
        return {"name": self.name, "provider": self.provider}

    def boot(self, name: str) -> Server:
        if self.settings.get("broken"):
            raise InfrastructureError("503 from compute", call="memory.servers.create")
        record = self.ledger.intend("server", self.ledger.new_name(name))
        server = Server(id=f"srv-{next(_ids)}", name=record.name, status="ACTIVE")
        self.servers[server.id] = server
        self.ledger.record_created(record, server.id)
        return server

    def lock_server(self, server_id: str) -> None:
        if self.settings.get("nolock"):
            raise self._lacks("server lock")

    def list_servers(self):
        return list(self.servers.values())

    def delete_server(self, server_id, *, wait=True):
        self.servers.pop(server_id, None)
        self.ledger.mark_deleted("server", server_id)

    def cleanup_run(self):
        return self.ledger.cleanup(lambda record: self.servers.pop(record.resource_id, None))

    def close(self):
        self.ledger.close()


def pytest_interop_resolve_cloud(config, name):
    if not name.startswith("memory:"):
        return None
    flavour = name.split(":", 1)[1]
    return CloudSpec(name, "memory", {flavour: True, "password": "s3cret-memory-pw"})


def pytest_interop_make_cloud(spec, ledger):
    if spec.provider == "memory":
        return MemoryCloud(spec, ledger)
    return None
