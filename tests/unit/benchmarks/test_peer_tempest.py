"""peer_tempest's bookkeeping: which Tempest test runs for a guideline id, and outcomes."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

PATH = Path(__file__).resolve().parents[3] / "benchmarks" / "peer_tempest.py"


@pytest.fixture(scope="module")
def peer():
    spec = importlib.util.spec_from_file_location("peer_tempest", PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


U1 = "a4d9ec4c-0306-4111-a75c-db01a709030b"
U2 = "b9232f5e-d9e5-4d97-b96c-28d3db4de1bd"
U3 = "11111111-2222-4333-8444-555555555555"
TESTS = {
    U1: ("networks-l2-CRUD", "tempest.api.network.test_networks.NetworksTest.test_a", False),
    U2: ("identity-v3-api-discovery", "tempest.api.identity.v3.T.test_renamed", False),
    U3: ("compute-servers-list", "tempest.api.compute.X.test_gone", True),
}
LISTED = [
    f"tempest.api.network.test_networks.NetworksIpV6Test.test_a[id-{U1}]",
    f"tempest.api.network.test_networks.NetworksTest.test_a[id-{U1},smoke]",
    f"tempest.api.identity.v3.T.test_new_name[id-{U2}]",
]


def test_the_guideline_name_wins_over_a_subclass_and_ids_follow_renames(peer):
    chosen = peer.match_listed(TESTS, LISTED)
    assert chosen == {U1: LISTED[1], U2: LISTED[2]}


def test_outcomes_class_setup_failures_and_skips_reach_their_tests(peer):
    chosen = peer.match_listed(TESTS, LISTED)
    raw = {
        LISTED[1]: {"status": "success", "reason": ""},
        "setUpClass (tempest.api.identity.v3.T)": {"status": "skip", "reason": "disabled"},
    }
    outcomes = peer._per_uuid(TESTS, chosen, raw)
    assert outcomes[U1]["status"] == "success"
    assert outcomes[U2] == {"status": "skip", "reason": "setUpClass: disabled", "id": LISTED[2]}
    assert outcomes[U3]["status"] == "missing"


def test_required_tests_of_a_published_guideline(peer, tmp_path):
    guideline = {
        "components": {"compute": {"required": ["c1"], "advisory": ["c2"]}},
        "capabilities": {
            "c1": {"tests": {"t.a": {"idempotent_id": f"id-{U1}"}, "t.b": {
                "idempotent_id": f"id-{U2}", "flagged": {"reason": "x"}}}},
            "c2": {"tests": {"t.c": {"idempotent_id": f"id-{U3}"}}},
        },
    }  # fmt: skip
    path = tmp_path / "g.json"
    path.write_text(json.dumps(guideline))
    assert peer.guideline_tests(path) == {U1: ("c1", "t.a", False), U2: ("c1", "t.b", True)}


def test_short_reason_picks_the_exception_line(peer):
    trace = "Traceback (most recent call last):\n  File \"x.py\", line 1\nKeyError: 'x-id'\n"
    assert peer.short_reason(trace) == "KeyError: 'x-id'"
