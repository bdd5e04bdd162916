"""``interop cleanup --older-than`` and key pairs (issue 17, defect 7).

Nova lists key pairs without a creation time, so an age-based clean-up after a crash left
them behind and said nothing ("5 deleted" while a key pair stayed). A key pair is now aged by
the run id in its name; one whose name carries none is reported as skipped, with the fix.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

from pytest_interop.clouds.registry import CloudSpec, make_cloud
from pytest_interop.resources import ResourceLedger, run_started_at
from pytest_interop.run import new_run_id


def _keypair_of_a_run(cloud, started: dt.datetime, journal) -> str:
    """A key pair a run that started at ``started`` made, through the adapter (and its
    ledger, as a crashed run's would be)."""
    spec = CloudSpec("outside", "openstack", {"config": cloud.cloud.cloud_config("outside")})
    ledger = ResourceLedger(new_run_id(started), "outside", journal)
    adapter = make_cloud(spec, ledger)
    try:
        return adapter.create_keypair().name
    finally:
        adapter.close()
        ledger.close()


def _names(cloud) -> set[str]:
    return {name for _, name in cloud.cloud.state.compute.keypairs}


def cleanup(cloud, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest_interop.cli", "cleanup", "--cloud", "outside", *args],
        env=cloud.env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_older_than_ages_key_pairs_by_the_run_id_in_their_name(outside, tmp_path):
    cloud = outside(machines=False)
    now = dt.datetime.now(dt.UTC)
    old = _keypair_of_a_run(cloud, now - dt.timedelta(hours=3), tmp_path / "old.jsonl")
    recent = _keypair_of_a_run(cloud, now, tmp_path / "new.jsonl")
    assert {old, recent} <= _names(cloud)

    result = cleanup(cloud, "--older-than", "2h")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"deleted   keypair {old}" in result.stdout
    assert old not in _names(cloud)
    assert recent in _names(cloud)  # younger than 2 h: kept

    result = cleanup(cloud, "--older-than", "0s")
    assert result.returncode == 0, result.stdout + result.stderr
    assert recent not in _names(cloud)
    assert "1 deleted" in result.stdout.splitlines()[-1]


def test_a_key_pair_that_cannot_be_aged_is_reported_as_skipped(outside):
    cloud = outside(machines=False)
    spec = CloudSpec("outside", "openstack", {"config": cloud.cloud.cloud_config("outside")})
    adapter = make_cloud(spec, None)
    try:
        adapter.create_keypair("interop-handmade")  # our prefix, no run id
    finally:
        adapter.close()
    result = cleanup(cloud, "--older-than", "0s")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "skipped   keypair interop-handmade: no creation time" in result.stdout
    assert "--run-id" in result.stdout
    assert result.stdout.splitlines()[-1].endswith("1 skipped")
    assert "interop-handmade" in _names(cloud)


def test_run_started_at_reads_the_run_id_of_a_name():
    started = dt.datetime(2026, 12, 4, 19, 27, 11, tzinfo=dt.UTC)
    name = f"interop-{new_run_id(started)}-keypair-e286684a"
    assert run_started_at(name) == started.timestamp()
    assert run_started_at("interop-handmade") is None
    assert run_started_at(None) is None
