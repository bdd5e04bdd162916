"""The orchestration add-on's behavioural tests fail on a reference Heat broken for them.

One reference cloud, its Heat broken four ways (user data never reaches the guest, every
update replaces instead of changing in place, a handle loses what it is signalled, a
rollback removes nothing), runs the node tests in an inner pytest; each broken behaviour
must fail its test, and nothing may be left behind.
"""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import run_pytest
from .test_faults_break_the_2020_06_capabilities import _outcomes, _project_root

NODES = "pytest_interop/suite/orchestration/test_nodes.py"
BROKEN = {
    "user data not run": "test_stack_node_is_reached_with_the_stacks_key_and_ran_its_user_data",
    "updates replace": "test_flavor_update_resizes_the_server_in_place_as_the_guest_sees",
    "updates replace (parameter)": "test_parameter_update_changes_only_what_uses_the_parameter",
    "signals lose data": "test_wait_condition_signalled_from_the_guest_completes_the_stack",
    "rollback removes nothing": "test_failed_resource_rolls_the_stack_back_leaving_nothing",
}


def break_heat(cloud: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    state = cloud.state
    engine = state.orchestration.engine
    types = state.orchestration.types
    # User data never runs, except a script that signals a wait condition: without it the
    # signal test would only wait out its timeout, not show its own break.
    run_user_data = state.machines.run_user_data
    monkeypatch.setattr(
        state.machines,
        "run_user_data",
        lambda server_id, text: run_user_data(server_id, text) if "curl" in text else None,
    )
    monkeypatch.setattr(types["OS::Nova::Server"], "needs_replace", lambda old, new: True)
    handle = types["OS::Heat::WaitConditionHandle"]
    signal = handle.signal
    monkeypatch.setattr(
        handle,
        "signal",
        lambda run, resource, data: signal(run, resource, {**(data or {}), "data": None}),
    )
    monkeypatch.setattr(
        engine,
        "_rollback_create",
        lambda run, stack: engine._finish(stack, "ROLLBACK", "COMPLETE", "rolled back (not)"),
    )


def test_each_broken_orchestration_behaviour_fails_its_test(outside, tmp_path, monkeypatch):
    broken = outside(machines=True)
    break_heat(broken.cloud, monkeypatch)
    junit = tmp_path / "junit.xml"
    result = run_pytest(
        tmp_path,
        broken.env(),
        "--rootdir",
        str(_project_root()),
        "-p",
        "no:cacheprovider",
        "-p",
        "no:randomly",
        f"--cloud={broken.name}",
        f"--junitxml={junit}",
        *(f"{_project_root()}/{NODES}::{n}" for n in sorted(set(BROKEN.values()))),
        timeout=600,
    )
    outcomes = _outcomes(junit)
    for behaviour, name in BROKEN.items():
        node_id = f"{NODES}::{name}"
        assert outcomes.get(node_id) == "failed", (
            f"{behaviour}: {node_id} did not fail: {outcomes}\n{result.stdout[-3000:]}"
        )
    assert broken.leaked() == {}, "the failing tests left resources behind"
