"""One shared server for all xdist workers of a run, through a real parallel run."""

from __future__ import annotations

import pytest

from .conftest import outside_cloud

# Two tests, one per worker. The first boots the shared server, and its worker is done soon;
# the second joins while it runs, and logs in to it only once the first
# worker's session fixtures are gone. Session fixtures are set up in the order they are named.
SHARING_SUITE = """
import time

import pytest

@pytest.fixture(scope="session")
def after_the_other_booted():
    time.sleep(1)

@pytest.fixture(scope="session")
def after_the_other_ended():
    time.sleep(3)

def test_boots_it_and_ends(shared_server):
    time.sleep(2)  # the other worker joins meanwhile
    assert shared_server.id

def test_logs_in_late(after_the_other_booted, shared_server, after_the_other_ended, shared_node):
    assert shared_node.run(["true"]).exit_status == 0
"""


@pytest.fixture
def external_cloud(tmp_path, monkeypatch):
    with outside_cloud(tmp_path, monkeypatch, boot_delay=0.05) as cloud:
        yield cloud


def test_a_worker_attaching_late_still_logs_in_and_one_server_serves_both(pytester, external_cloud):
    pytester.makepyfile(test_sharing=SHARING_SUITE)
    result = pytester.runpytest_subprocess("--cloud=outside", "-n", "2", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    counters = external_cloud.counters()
    assert counters["servers_booted"] == 1
    assert sum(counters["live"].get("servers", {}).values()) == 0
