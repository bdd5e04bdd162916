"""A run killed in the middle of a boot, then `interop cleanup`: nothing of that run is left."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from pytest_interop import cli
from pytest_interop.clouds.cli import cleanup_spec, parse_age
from pytest_interop.errors import ConfigurationError
from pytest_interop.reference.cloud import ReferenceCloud
from tests.functional.clouds.conftest import live, openstack_spec

ROOT = Path(__file__).resolve().parents[3]

BOOT_IN_A_CHILD = """
import json, sys
from pathlib import Path
from pytest_interop.clouds.openstack import OpenStackCloud
from pytest_interop.clouds.registry import CloudSpec
from pytest_interop.resources import ResourceLedger

spec = CloudSpec.from_dict(json.loads(sys.argv[1]))
ledger = ResourceLedger(sys.argv[2], spec.name, Path(sys.argv[3]))
cloud = OpenStackCloud.from_spec(spec, ledger)
keypair = cloud.create_keypair()
cloud.create_server(key_name=keypair.name, timeout=600)  # killed while this waits
"""


@pytest.fixture(scope="module")
def slow_boot_cloud() -> Iterator[ReferenceCloud]:
    # Servers stay in BUILD for a minute: the kill lands in the middle of the boot.
    cloud = ReferenceCloud(profile="floating-ip", boot_delay=60, delete_delay=0.02)
    cloud.start()
    yield cloud
    cloud.stop()


def _journal_has_server_id(journal: Path) -> bool:
    if not journal.exists():
        return False
    for line in journal.read_text().splitlines():
        entry = json.loads(line)
        if entry["event"] == "created" and entry["kind"] == "server":
            return True
    return False


def _boot_and_kill(spec, run_id: str, journal: Path) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", BOOT_IN_A_CHILD, json.dumps(spec.to_dict()), run_id, str(journal)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not _journal_has_server_id(journal):
            assert child.poll() is None, child.stderr.read().decode()
            assert time.monotonic() < deadline, "the child never asked for a server"
            time.sleep(0.05)
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stderr.close()


def test_cleanup_after_a_kill_mid_boot_leaves_nothing_live(slow_boot_cloud, tmp_path: Path):
    spec = openstack_spec(slow_boot_cloud)
    journal = tmp_path / "worker.jsonl"
    _boot_and_kill(spec, "crash1", journal)
    assert live(slow_boot_cloud, "servers") == 1  # still booting, its owner dead
    assert live(slow_boot_cloud, "keypairs") == 1

    summary = cleanup_spec(spec, run_id="crash1", journal_path=journal)

    assert summary.ok, summary.leaked
    assert len(summary.deleted) == 2
    assert live(slow_boot_cloud, "servers") == 0
    assert live(slow_boot_cloud, "keypairs") == 0
    assert live(slow_boot_cloud, "floatingips") == 0


def test_interop_cleanup_command_after_a_kill(slow_boot_cloud, tmp_path: Path, monkeypatch, capsys):
    spec = openstack_spec(slow_boot_cloud)
    journal = tmp_path / "worker.jsonl"
    _boot_and_kill(spec, "crash2", journal)
    # The command names the cloud as a user would: an entry of their clouds.yaml.
    clouds_yaml = tmp_path / "clouds.yaml"
    clouds_yaml.write_text(yaml.safe_dump({"clouds": {"mycloud": slow_boot_cloud.cloud_config()}}))
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(clouds_yaml))

    status = cli.main(["cleanup", "--cloud", "mycloud", "--run-id", "crash2"])

    assert status == 0
    out = capsys.readouterr().out
    assert "mycloud: 2 deleted" in out
    assert live(slow_boot_cloud, "servers") == 0 and live(slow_boot_cloud, "keypairs") == 0
    password = spec.settings["config"]["auth"]["password"]
    assert password not in out


def test_cleanup_refuses_to_act_without_a_run_id_age_or_journal(slow_boot_cloud, capsys):
    status = cli.main(["cleanup", "--cloud", "reference"])
    assert status == 2
    assert "--run-id" in capsys.readouterr().err


def test_ages():
    assert parse_age("2h") == 7200 and parse_age("30m") == 1800 and parse_age("45") == 45
    with pytest.raises(ConfigurationError):
        parse_age("two hours")
