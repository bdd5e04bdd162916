"""Stacks that run systems: what a template asked for is there, and reachable.

Capabilities: stack-create (a node stack comes up and the tester logs in with the stack's
own key; its user data ran in the guest; a failed resource rolls the stack back leaving
nothing), stack-update (a flavor change is seen in the guest, the same server resized in
place; a parameter change changes only what uses it), stack-signal-resource (a wait
condition signalled from inside the guest completes the stack), stack-delete (deleting the
stack leaves nothing, asked of the services that made each resource).
"""

from __future__ import annotations

import json

import pytest

from pytest_interop.clouds.base import StackResource
from pytest_interop.suite.orchestration import templates
from pytest_interop.suite.orchestration.conftest import logged_in, node_stack

EXTERNAL_TYPES = {
    "Server",
    "KeyPair",
    "Net",
    "Subnet",
    "Port",
    "Router",
    "SecurityGroup",
    "FloatingIP",
    "Volume",
    "Instance",
    "VPC",
    "EIP",
}


def _external(resources):
    """The resources that made something in another service (not Heat's own bookkeeping)."""
    return [r for r in resources if r.type.split("::")[-1] in EXTERNAL_TYPES]


def _mem_total_kb(session) -> int:
    line = next(
        x for x in session.read_file("/proc/meminfo").splitlines() if x.startswith("MemTotal")
    )
    return int(line.split()[1])


@pytest.mark.idempotent_id("aea5f3f5-5cec-4aa1-8e5a-63b9eb14ec0c")
def test_stack_node_is_reached_with_the_stacks_key_and_ran_its_user_data(
    cloud, stacks, record_finding
):
    node = node_stack(stacks)
    record_finding("template_dialect", cloud.template_dialect)
    record_finding("stack_id_form", "arn" if node.stack.id.startswith("arn:") else "uuid")
    with logged_in(cloud, node) as session:
        record_finding("ssh_login_user", session.username)
        marker = session.run(["cat", templates.MARKER]).stdout.strip()
    assert marker == node.parameters["marker"], "the template's user data did not run"
    resources = {r.name: r for r in cloud.stack_resources(node.stack.id)}
    assert all(r.status == "CREATE_COMPLETE" for r in resources.values()), resources
    server = cloud.get_server(node.stack.outputs["server_id"])
    assert server.status == "ACTIVE"


@pytest.mark.idempotent_id("bead554f-a260-4b6f-bd2b-bcd23b476b53")
def test_flavor_update_resizes_the_server_in_place_as_the_guest_sees(cloud, stacks, record_finding):
    node = node_stack(stacks)
    before = {r.name: r.physical_id for r in cloud.stack_resources(node.stack.id)}
    with logged_in(cloud, node) as session:
        cpus = int(session.run(["nproc"]).stdout)
        memory = _mem_total_kb(session)
    flavor = templates.larger_flavor(cloud, cloud.get_flavor(node.parameters["flavor"]))
    spec = templates.node(cloud, flavor=flavor)
    parameters = {**node.parameters, "flavor": flavor.id}
    updated = cloud.update_stack(node.stack.id, spec.template, parameters)
    assert updated.status == "UPDATE_COMPLETE", updated.status_reason
    after = {r.name: r.physical_id for r in cloud.stack_resources(node.stack.id)}
    assert after == before, "a flavor change replaced resources instead of resizing"
    with logged_in(cloud, node, updated.outputs["address"]) as session:
        assert int(session.run(["nproc"]).stdout) == flavor.vcpus > cpus
        assert _mem_total_kb(session) > memory
        marker = session.run(["cat", templates.MARKER]).stdout.strip()
    assert marker == node.parameters["marker"], "the guest's disk did not survive the resize"
    record_finding("flavor_update", "resized in place, same server")


@pytest.mark.idempotent_id("2967686a-cc08-4162-8c0a-abe5146c4a6e")
def test_parameter_update_changes_only_what_uses_the_parameter(cloud, stacks):
    node = node_stack(stacks)
    before = {r.name: r for r in cloud.stack_resources(node.stack.id)}
    with logged_in(cloud, node) as session:
        boot_id = session.read_file("/proc/sys/kernel/random/boot_id").strip()
    spec = templates.node(cloud)
    updated = cloud.update_stack(
        node.stack.id, spec.template, {**node.parameters, "greeting": "changed"}
    )
    assert updated.status == "UPDATE_COMPLETE", updated.status_reason
    after = {r.name: r for r in cloud.stack_resources(node.stack.id)}
    assert {n: r.physical_id for n, r in after.items()} == {
        n: r.physical_id for n, r in before.items()
    }
    changed = {n for n, r in after.items() if r.status != before[n].status}
    assert changed <= {"server"}, f"only the server uses the parameter; changed: {changed}"
    server_id = node.stack.outputs["server_id"]
    assert cloud.get_server_metadata(server_id).get("greeting") == "changed"
    with logged_in(cloud, node) as session:
        assert session.read_file("/proc/sys/kernel/random/boot_id").strip() == boot_id


@pytest.mark.idempotent_id("eccbdf52-fbca-48ac-b957-b07d09f7ae57")
def test_wait_condition_signalled_from_the_guest_completes_the_stack(cloud, stacks, record_finding):
    node = node_stack(stacks, signal=True)
    signalled = node.stack.outputs["signalled"]
    if isinstance(signalled, str) and signalled.startswith("{"):
        signalled = json.loads(signalled)  # CloudFormation's Data: a JSON object, as a string
        record_finding("wait_condition_data", "a JSON string of UniqueId to Data")
    elif isinstance(signalled, dict):
        record_finding("wait_condition_data", "a map of signal id to data")
    values = list(signalled.values()) if isinstance(signalled, dict) else [signalled]
    with logged_in(cloud, node) as session:
        boot_id = session.read_file("/proc/sys/kernel/random/boot_id").strip()
    assert values == [boot_id], "the wait condition's data is not what the guest sent"
    events = cloud.stack_events(node.stack.id)
    done = [
        e for e in events if e["resource_name"] == "booted" and e["status"].endswith("COMPLETE")
    ]
    server_up = [
        i
        for i, e in enumerate(events)
        if e["resource_name"] == "server" and e["status"] == "CREATE_COMPLETE"
    ]
    assert done and server_up, "the wait condition completed before the server existed"


@pytest.mark.idempotent_id("61f89a41-5dbb-4e3e-9002-ec7df4959630")
def test_failed_resource_rolls_the_stack_back_leaving_nothing(cloud, stacks, record_finding):
    template = templates.rollback(cloud)
    stack = stacks.create(template, rollback=True)
    record_finding("failed_create", stack.status)
    record_finding("rollback_on_failure_by_default", cloud.rollback_by_default)
    assert stack.status == "ROLLBACK_COMPLETE", f"{stack.status}: {stack.status_reason}"
    kinds = templates.resource_types(template)
    made = [
        StackResource(e["resource_name"], kinds[e["resource_name"]], e["physical_id"], "")
        for e in cloud.stack_events(stack.id)
        if e["status"] == "CREATE_COMPLETE" and e["physical_id"] and e["resource_name"] in kinds
    ]
    external = _external(made)
    assert len(external) >= 3, f"the key pair, network and group were not made first: {made}"
    left = [r.name for r in external if cloud.stack_resource_exists(r)]
    assert not left, f"the rollback left {left}"


@pytest.mark.idempotent_id("8c7cceea-2f8d-40ae-9917-389190026155")
def test_deleting_a_stack_leaves_nothing(cloud, stacks):
    node = node_stack(stacks)
    made = _external(cloud.stack_resources(node.stack.id))
    kinds = {r.type.split("::")[-1] for r in made}
    assert "KeyPair" in kinds and kinds & {"Server", "Instance"}, kinds
    stacks.delete(node.stack.id)
    assert node.stack.id not in {s.id for s in cloud.list_stacks()}
    left = [r.name for r in made if cloud.stack_resource_exists(r)]
    assert not left, f"deleting the stack left {left}"
