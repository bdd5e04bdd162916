"""SSH through a guideline run: host keys checked against the console log, and strings
the cloud supplies (server names, metadata) never executed by the shell on the server."""

from __future__ import annotations

import re

import paramiko

from pytest_interop.nodes import sha256_fingerprint

from .conftest import GUIDELINE_ID, load_report, run_pytest, small_guideline, write_suite

SSH_ID = "c3000000-0000-4000-8000-000000000001"
HOSTILE_ID = "c3000000-0000-4000-8000-000000000002"

SUITE = f'''
import pytest

from pytest_interop.fixtures import BootedServer, connected_node

HOSTILE_NAME = "srv-$(touch /tmp/pwned-name);`touch /tmp/pwned-tick`|touch /tmp/pwned-pipe&&x"
HOSTILE_METADATA = {{
    "role": "x'; touch /tmp/pwned-quote; echo '",
    "note": '"$(touch /tmp/pwned-dq)" > /tmp/pwned-redirect',
    "glob": "* ~ ${{HOME}} ?[a] #",
}}


@pytest.mark.idempotent_id("{SSH_ID}")
def test_server_answers_over_ssh(node):
    assert node.run(["echo", "hello"]).stdout == "hello\\n"


@pytest.mark.idempotent_id("{HOSTILE_ID}")
def test_cloud_supplied_strings_stay_data(cloud, keypair):
    image = cloud.discover_image()
    flavor = cloud.discover_flavor(image)
    name = cloud.resource_name("server") + HOSTILE_NAME
    server = cloud.create_server(
        name=name, image=image, flavor=flavor, network=cloud.discover_network(),
        key_name=keypair.name, metadata=HOSTILE_METADATA,
    )
    try:
        booted = BootedServer(
            cloud, server, image, flavor, keypair, cloud.reachable_address(server)
        )
        with connected_node(booted, timeout=60) as node:
            # what the cloud says, used to build commands
            told_name = cloud.get_server(server.id).name
            told = cloud.get_server_metadata(server.id)
            assert told_name == name
            for value in [told_name, *(told[key] for key in HOSTILE_METADATA)]:
                assert node.run(["echo", value]).stdout == value + "\\n"
                node.run(["tee", "/tmp/value"], input=value)
                assert node.read_file("/tmp/value") == value
                node.run(["sh", "-c", 'printf "%s" "$1" > /tmp/arg', "sh", value])
                assert node.read_file("/tmp/arg") == value
            node.run(["mkdir", "-p", "/tmp/by-name"])
            node.run(["touch", "/tmp/by-name/" + told_name.replace("/", "_")])
            listing = node.run(["ls", "/tmp"]).stdout.split()
            assert not [entry for entry in listing if entry.startswith("pwned")], listing
    finally:
        cloud.delete_server(server.id)
'''

GUIDELINE = small_guideline(
    required={
        "cap-ssh": "test_server_answers_over_ssh",
        "cap-hostile": "test_cloud_supplied_strings_stay_data",
    },
    advisory={},
    id_of={
        "test_server_answers_over_ssh": SSH_ID,
        "test_cloud_supplied_strings_stay_data": HOSTILE_ID,
    },
)


def guideline_run(directory, cloud):
    return run_pytest(
        directory, cloud.env(), f"--guideline={GUIDELINE_ID}", f"--cloud={cloud.name}", "-v"
    )


def test_cloud_supplied_strings_with_shell_metacharacters_are_not_executed(pytester, outside):
    write_suite(pytester.path, SUITE, GUIDELINE)
    cloud = outside()
    result = guideline_run(pytester.path, cloud)
    assert result.returncode == 0, result.stdout + result.stderr
    outcomes = {o["nodeid"].split("::")[1]: o for o in load_report(pytester.path)["outcomes"]}
    assert outcomes["test_cloud_supplied_strings_stay_data[outside]"]["outcome"] == "passed"
    assert outcomes["test_server_answers_over_ssh[outside]"]["findings"]["host_key_verified"]
    assert cloud.leaked() == {}


def test_a_console_log_with_other_host_keys_is_a_host_key_mismatch(pytester, outside):
    write_suite(pytester.path, SUITE, GUIDELINE)
    cloud = outside()
    impostor = sha256_fingerprint(paramiko.ECDSAKey.generate().asbytes())
    machines = cloud.cloud.state.machines
    real_console_log = machines.console_log
    tampered = []

    def console_log(server_id: str, hostname: str) -> str:
        text = real_console_log(server_id, hostname)
        changed = re.sub(r"SHA256:[A-Za-z0-9+/=]+", impostor, text)
        tampered.append(changed != text)
        return changed

    machines.console_log = console_log
    result = guideline_run(pytester.path, cloud)
    assert result.returncode == 1, result.stdout + result.stderr
    assert tampered and all(tampered)
    report = load_report(pytester.path)
    outcomes = {o["nodeid"].split("::")[1]: o for o in report["outcomes"]}
    for name in ("test_server_answers_over_ssh", "test_cloud_supplied_strings_stay_data"):
        outcome = outcomes[f"{name}[outside]"]
        assert outcome["outcome"] in ("error", "failed"), outcome
        assert "HostKeyMismatch" in outcome["message"], outcome
        assert impostor in outcome["message"]
    assert report["clouds"][0]["verdict"] == "not compliant"
    assert cloud.leaked() == {}
