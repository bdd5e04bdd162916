"""The plugin's fast paths (issue 9) give the same results as the general ones."""

from __future__ import annotations

import gc

import pytest

from pytest_interop import compliance, plugin
from pytest_interop.clouds.registry import CloudSpec
from pytest_interop.guideline.model import Capability, Guideline, TestRef
from pytest_interop.run import InteropRun, RunSettings
from pytest_interop.selection import item_idempotent_id

from .conftest import load_report

ID_FUNCTION = "aaaaaaaa-0000-4000-8000-000000000001"
ID_CLASS = "BBBBBBBB-0000-4000-8000-000000000002"


def make_run(*specs: CloudSpec) -> InteropRun:
    settings = RunSettings(
        run_id="r1",
        guideline_refs=[],
        guideline_dirs=[],
        target=None,
        clouds=[spec.to_dict() for spec in specs],
        journal_dir="/nonexistent",
    )
    return InteropRun(settings, [], [], list(specs))


def phase(nodeid: str, when: str, outcome: str, duration: float, data: dict | None = None):
    return pytest.TestReport(
        nodeid,
        ("t.py", 1, "t"),
        {},
        outcome,
        None if outcome == "passed" else "E   boom",
        when,
        duration=duration,
        user_properties=[("interop", data)] if data is not None else [],
    )


def test_sdk_warning_filters_only_for_runs_with_an_openstack_cloud(pytester: pytest.Pytester):
    config = pytester.parseconfig()
    before = list(config.getini("filterwarnings"))
    plugin._quiet_sdk_warnings(config, make_run(CloudSpec("memory:ok", "memory", {})))
    assert config.getini("filterwarnings") == before  # nothing that makes pytest import openstack
    plugin._quiet_sdk_warnings(config, make_run(CloudSpec("mine", "openstack", {})))
    added = [f for f in config.getini("filterwarnings") if f not in before]
    assert added == [f"ignore::{w}" for w in plugin.SDK_INTERNAL_WARNINGS]


def test_passing_setup_and_teardown_count_only_their_duration():
    run = make_run(CloudSpec("c1", "memory", {}))
    nodeid = "t.py::test_a[c1]"
    run.record(phase(nodeid, "setup", "passed", 0.5))
    run.record(phase(nodeid, "call", "passed", 0.25, {"cloud": "c1", "idempotent_id": "x"}))
    run.record(phase(nodeid, "teardown", "passed", 0.125))
    (outcome,) = run.outcomes()
    assert (outcome.outcome, outcome.cloud, outcome.idempotent_id) == ("passed", "c1", "x")
    assert outcome.duration == 0.875


def test_a_failing_teardown_without_data_still_turns_a_pass_into_an_error():
    run = make_run(CloudSpec("c1", "memory", {}))
    nodeid = "t.py::test_a[c1]"
    run.record(phase(nodeid, "setup", "passed", 0.0))
    run.record(phase(nodeid, "call", "passed", 0.0, {"cloud": "c1", "idempotent_id": "x"}))
    run.record(phase(nodeid, "teardown", "failed", 0.0))
    (outcome,) = run.outcomes()
    assert outcome.outcome == "error"
    assert outcome.message == "E   boom"


def test_a_call_report_without_data_is_still_recorded():
    """E.g. the report xdist makes for a crashed worker: the cloud comes from the node id."""
    run = make_run(CloudSpec("c1", "memory", {}))
    run.record(phase("t.py::test_a[c1]", "call", "failed", 0.0))
    (outcome,) = run.outcomes()
    assert (outcome.cloud, outcome.outcome) == ("c1", "failed")


def test_idempotent_id_is_the_closest_marker_and_stays_the_same(pytester: pytest.Pytester):
    pytester.makeini("[pytest]\nmarkers = idempotent_id(uuid): id\n")
    items = pytester.getitems(
        f"""
        import pytest

        @pytest.mark.idempotent_id("{ID_CLASS}")
        class TestGroup:
            def test_inherits(self):
                pass

            @pytest.mark.idempotent_id("{ID_FUNCTION}")
            def test_own(self):
                pass

        def test_none():
            pass
        """
    )
    ids = {item.name: item_idempotent_id(item) for item in items}
    assert ids == {
        "test_inherits": ID_CLASS.lower(),
        "test_own": ID_FUNCTION,
        "test_none": None,
    }
    assert {item.name: item_idempotent_id(item) for item in items} == ids  # asked again


@pytest.mark.parametrize(
    ("outcome", "result", "message"),
    [
        ("passed", "passed", ""),
        ("failed", "failed", "why"),
        ("error", "error", "why"),
        ("skipped", "not_run", "why"),
        ("not_applicable", "not_applicable", "why"),
    ],
)
def test_a_test_with_one_outcome_gets_what_the_general_path_gives(outcome, result, message):
    test = TestRef("t.py::test_a", "id-a")
    guideline = Guideline(
        id="g",
        schema="2.0",
        status="draft",
        capabilities={"cap": Capability("cap", tests=(test,))},
    )
    selection = compliance.Selection(guideline, {"cap": "required"})
    one = compliance.TestOutcome(
        "t.py::test_a[c]", "c", outcome, "id-a", 0.5, "why", {"k": 1}, "kind", "call"
    )
    (verdict,) = compliance.evaluate([selection], ["c"], [one])
    (capability,) = verdict.capabilities
    (single,) = capability.tests
    general = compliance._test_result(test, [one, one], frozenset())
    assert single.result == general.result == result
    assert single.message == general.message == message
    assert single.nodeids == (one.nodeid,)
    assert single.duration == 0.5
    assert single.findings == {"k": 1}
    assert (single.error_kind, single.call) == ("kind", "call")


@pytest.mark.parametrize("enabled", [True, False])
def test_the_collector_is_paused_only_while_the_report_is_built(enabled):
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        with pytest.raises(RuntimeError), plugin._cyclic_gc_paused():
            assert not gc.isenabled()
            raise RuntimeError("the report failed")
        assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()


def test_a_guideline_run_leaves_the_collector_on(synth):
    result = synth.runpytest("--guideline=2099.01", "--cloud=memory:ok")
    assert result.ret == 0, result.stdout.str()
    assert gc.isenabled()
    assert load_report(synth)["clouds"][0]["verdict"] == "compliant"
