"""Nova 2.92+ refuses to generate key pairs: the adapter generates one itself and imports it.

No reference cloud refuses generation, so Nova's answer is played by a small stand-in.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

from openstack import exceptions as os_exceptions

from pytest_interop.clouds.openstack import OpenStackCloud
from pytest_interop.resources import ResourceLedger, read_journal


class NovaWithoutGeneration:
    def __init__(self) -> None:
        self.imported: dict[str, str] = {}

    def create_keypair(self, *, name: str, public_key: str | None = None):
        if public_key is None:
            raise os_exceptions.BadRequestException("public_key is required since 2.92")
        self.imported[name] = public_key
        return SimpleNamespace(name=name, fingerprint="fp", public_key=public_key, private_key=None)


def test_generation_refused_means_generate_here_and_import(tmp_path: Path):
    nova = NovaWithoutGeneration()
    connection = SimpleNamespace(
        compute=nova, config=SimpleNamespace(config={"auth": {}}), close=lambda: None
    )
    ledger = ResourceLedger("r", "c", tmp_path / "j.jsonl")
    cloud = OpenStackCloud("c", connection, ledger=ledger)
    try:
        pair = cloud.create_keypair()
        assert nova.imported[pair.name] == pair.public_key
        assert os.stat(pair.private_key_path).st_mode & 0o777 == 0o600
        assert cloud.findings["keypair_generated_by"] == "client"
        ledger.close()
        live = list(read_journal(ledger.journal_path))
        assert [(r.kind, r.name) for r in live] == [("keypair", pair.name)]  # once, not twice
    finally:
        cloud.close()
    assert not Path(pair.private_key_path).exists()  # close() removes the key directory
