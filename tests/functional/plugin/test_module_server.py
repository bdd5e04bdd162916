"""A module's server lent to its tests one at a time: put back as booted, or replaced."""

from __future__ import annotations

import json

import pytest

from .conftest import outside_cloud

# Run in file order (serially, or on one worker: the module shares a module-scoped server).
SUITE = """
import json
from pathlib import Path

from pytest_interop.fixtures import module_server_fixtures

SEEN = Path(__file__).parent / "seen.jsonl"
DISKS = []


def state(booted, node):
    return node.run(["cat", "/proc/sys/kernel/random/boot_id"]).stdout.strip() and "as booted"


module_server, server, node = module_server_fixtures(state=state)


def seen(server, node, name):
    got = server.cloud.get_server(server.id)
    entry = {"test": name, "id": server.id, "status": got.status, "flavor": got.flavor_id,
             "locked": got.locked, "answers": node.run(["true"]).exit_status == 0}
    with SEEN.open("a") as out:
        out.write(json.dumps(entry) + "\\n")


def test_1_stops_it_and_resizes_it(cloud, server, node):
    seen(server, node, "1")
    bigger = max(cloud.list_flavors(), key=lambda f: (f.vcpus, f.ram_mb))
    cloud.resize_server(server.id, bigger)
    cloud.confirm_resize(server.id)
    cloud.stop_server(server.id)
    cloud.lock_server(server.id)


def test_2_gets_it_back_running(server, node):
    seen(server, node, "2")
    node.close()


def test_3_fails_on_it(server, node):
    seen(server, node, "3")
    raise AssertionError("deliberately")


def test_4_gets_another(cloud, server, node):
    seen(server, node, "4")
    cloud.delete_server(server.id)


def test_5_gets_another_after_a_delete(server, node):
    seen(server, node, "5")
"""


@pytest.fixture
def external_cloud(tmp_path, monkeypatch):
    with outside_cloud(tmp_path, monkeypatch, boot_delay=0.05, action_delay=0.02) as cloud:
        yield cloud


# Outside a guideline run xdist's --dist is the user's (a guideline run groups such a module
# on one worker itself, pytest_interop.scheduling): loadfile keeps the module on one worker.
@pytest.mark.parametrize(
    "workers", [[], ["-n", "2", "--dist", "loadfile"]], ids=["serial", "xdist"]
)
def test_module_server_is_put_back_or_replaced(pytester, external_cloud, workers):
    pytester.makepyfile(test_lent=SUITE)
    result = pytester.runpytest_subprocess("--cloud=outside", "-p", "no:cacheprovider", *workers)
    result.assert_outcomes(passed=4, failed=1)
    seen = [json.loads(line) for line in (pytester.path / "seen.jsonl").read_text().splitlines()]
    assert [entry["test"] for entry in seen] == ["1", "2", "3", "4", "5"]  # file order
    ids = [entry["id"] for entry in seen]
    # stopped, locked and resized: put back; failed on: replaced; deleted: replaced
    assert ids[0] == ids[1] == ids[2] != ids[3] != ids[4] and ids[4] != ids[0]
    assert all(e["status"] == "ACTIVE" and not e["locked"] and e["answers"] for e in seen)
    assert len({entry["flavor"] for entry in seen}) == 1
    counters = external_cloud.counters()
    assert counters["servers_booted"] == 3
    assert sum(counters["live"].get("servers", {}).values()) == 0
