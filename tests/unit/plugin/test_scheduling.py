"""The order a load-scheduled worker runs a guideline's tests in, and the durations kept for it."""

from __future__ import annotations

import json
from dataclasses import dataclass

from pytest_interop.scheduling import (
    API_ESTIMATE_S,
    BOOT_ESTIMATE_S,
    DURATIONS_KEY,
    costliest_first,
    estimated_cost,
)


@dataclass
class FakeItem:
    nodeid: str
    fixturenames: tuple[str, ...] = ("cloud",)


def test_tests_with_a_server_of_their_own_come_first_in_collection_order():
    items = [
        FakeItem("a::read"),
        FakeItem("b::reboot", ("cloud", "server")),
        FakeItem("c::list"),
        FakeItem("d::resize", ("cloud", "keypair", "server", "node")),
    ]
    ordered = [item.nodeid for item in costliest_first(items, {})]
    assert ordered == ["b::reboot", "d::resize", "a::read", "c::list"]


def test_a_known_duration_wins_over_the_estimate():
    boots, reads = FakeItem("boots", ("server",)), FakeItem("slow_read")
    assert estimated_cost(boots, {}) == BOOT_ESTIMATE_S
    assert estimated_cost(reads, {}) == API_ESTIMATE_S
    durations = {"boots": 3.0, "slow_read": 9.5}
    assert [i.nodeid for i in costliest_first([boots, reads], durations)] == ["slow_read", "boots"]


# -- through pytester: a guideline run under xdist ------------------------------------------

WHERE_CONFTEST = """
import os
import pytest

@pytest.fixture(autouse=True)
def _log_where(request):
    with open(os.environ["WHERE_LOG"], "a") as log:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        log.write(f"{worker} {request.node.name}\\n")
"""

SERVER_FIXTURE = """

@pytest.fixture
def server():
    return "a server of the test's own"
"""


def where_run(synth, monkeypatch, *args: str) -> list[tuple[str, str]]:
    log = synth.path / "where.log"
    monkeypatch.setenv("WHERE_LOG", str(log))
    (synth.path / "tests" / "interop" / "conftest.py").write_text(WHERE_CONFTEST)
    synth.runpytest_subprocess("--guideline=2099.01", "--cloud=memory:ok", *args)
    return [tuple(line.split(" ", 1)) for line in log.read_text().splitlines()]


def test_a_worker_runs_the_tests_with_a_server_of_their_own_first(synth, monkeypatch):
    suite = synth.path / "tests" / "interop" / "test_synth.py"
    text = suite.read_text() + SERVER_FIXTURE
    suite.write_text(text.replace("def test_lock(cloud):", "def test_lock(cloud, server):"))
    ran = [name for _, name in where_run(synth, monkeypatch, "-n", "1")]
    assert ran[0] == "test_lock[memory:ok]", ran
    rest = ["create", "flagged_but_broken", "new_name", "advisory_fails", "infra"]
    assert ran[1:] == [f"test_{name}[memory:ok]" for name in rest], "the others keep their order"


def test_a_module_sharing_a_module_scoped_fixture_runs_on_one_worker(synth, monkeypatch):
    suite = synth.path / "tests" / "interop" / "test_synth.py"
    suite.write_text(
        suite.read_text()
        + '\n\n@pytest.fixture(scope="module", autouse=True)\ndef booted_once():\n    return 1\n'
    )
    workers = {worker for worker, _ in where_run(synth, monkeypatch, "-n", "3")}
    assert len(workers) == 1, workers


def test_without_a_shared_fixture_the_tests_spread_over_workers(synth, monkeypatch):
    workers = {worker for worker, _ in where_run(synth, monkeypatch, "-n", "3")}
    assert len(workers) > 1, workers


def test_the_run_keeps_each_tests_duration_for_the_next_order(synth):
    synth.makeini("[pytest]\naddopts = -p memory_cloud\n")
    synth.runpytest_subprocess("--guideline=2099.01", "--cloud=memory:ok", "-n", "2")
    stored = json.loads((synth.path / ".pytest_cache" / "v" / DURATIONS_KEY).read_text())
    assert "tests/interop/test_synth.py::test_create[memory:ok]" in stored
    assert all(isinstance(seconds, float) and seconds >= 0 for seconds in stored.values())


def test_each_clouds_block_is_ordered_on_its_own():
    @dataclass
    class CallSpec:
        params: dict

    @dataclass
    class ParamItem(FakeItem):
        callspec: CallSpec | None = None

    def item(name: str, cloud: str, *fixtures: str) -> ParamItem:
        return ParamItem(f"{name}[{cloud}]", ("cloud", *fixtures), CallSpec({"cloud": cloud}))

    items = [
        item("read", "a"),
        item("boot", "a", "server"),
        item("read", "b"),
        item("boot", "b", "node"),
    ]
    ordered = [i.nodeid for i in costliest_first(items, {})]
    assert ordered == ["boot[a]", "read[a]", "boot[b]", "read[b]"]


def test_a_module_sharing_a_server_keeps_its_file_order_in_its_places():
    items = [
        FakeItem("m.py::first"),
        FakeItem("m.py::boots", ("cloud", "server")),
        FakeItem("o.py::read"),
        FakeItem("o.py::boots", ("cloud", "node")),
        FakeItem("m.py::last"),
    ]
    ordered = [i.nodeid for i in costliest_first(items, {}, in_file_order=["m.py"])]
    # costliest first: m.py::boots, o.py::boots, then m.py::first, o.py::read, m.py::last;
    # m.py's tests take those places in their file order
    assert ordered == ["m.py::first", "o.py::boots", "m.py::boots", "o.py::read", "m.py::last"]
