"""The must-pass fixtures, run by an inner pytest against both embedded clouds."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]

INNER_CONFTEST = """
import json
from pathlib import Path

import pytest

from pytest_interop.clouds.aws import AwsCloud
from pytest_interop.clouds.openstack import OpenStackCloud
from pytest_interop.clouds.registry import CloudSpec
from pytest_interop.fixtures import (  # noqa: F401 - fixtures are found by name
    interop_key_dir, keypair, node, record_finding, server, shared_keypair, shared_node,
    shared_server,
)
from pytest_interop.reference.aws import ReferenceAws
from pytest_interop.reference.cloud import ReferenceCloud
from pytest_interop.resources import ResourceLedger

RESULTS = Path(__file__).parent / "results.jsonl"


@pytest.fixture(scope="session", params=["reference", "reference-aws"])
def cloud(request, tmp_path_factory):
    ledger = ResourceLedger("fx", request.param, tmp_path_factory.mktemp("j") / "j.jsonl")
    if request.param == "reference":
        endpoint = ReferenceCloud(profile="floating-ip", boot_delay=0.05, action_delay=0.02,
                                  delete_delay=0.02)
        endpoint.start()
        spec = CloudSpec("reference", "openstack", {"config": endpoint.cloud_config()})
        adapter = OpenStackCloud.from_spec(spec, ledger)
    else:
        endpoint = ReferenceAws()
        endpoint.start()
        settings = endpoint.settings()
        settings["interop"]["flavor"] = "t3.micro"
        adapter = AwsCloud.from_spec(CloudSpec("reference-aws", "aws", settings), ledger)
    yield adapter
    summary = adapter.cleanup_run()
    adapter.close()
    counters = endpoint.counters()
    endpoint.stop()
    with open(RESULTS, "a") as out:
        out.write(json.dumps({"cloud": request.param, "summary": summary.as_dict(),
                              "totals": ledger.totals(), "counters": counters}) + "\\n")
"""

INNER_TESTS = """
import os
from pathlib import Path

from pytest_interop.findings import FINDINGS_KEY

SEEN = {}


def test_keypair(keypair, cloud):
    assert keypair.name in {k.name for k in cloud.list_keypairs()}
    assert os.stat(keypair.private_key_path).st_mode & 0o777 == 0o600
    SEEN[cloud.name] = keypair.private_key_path


def test_keypair_files_are_removed_after_the_test(cloud):
    assert not Path(SEEN[cloud.name]).exists()


def test_shared_node(shared_node, shared_server, record_finding, request):
    assert shared_node.run(["whoami"]).stdout.strip() == shared_server.image.login_user
    assert shared_server.findings["host_key_verified"] is True
    record_finding("observed", "yes")
    assert request.node.stash[FINDINGS_KEY]["observed"] == "yes"


def test_shared_server_is_shared(shared_server, cloud):
    assert cloud.get_server(shared_server.id).status == "ACTIVE"


def test_own_server_and_node(server, node, keypair, request, cloud):
    assert server.keypair is keypair
    assert node.run(["id", "-un"]).stdout.strip() == server.image.login_user
    findings = request.node.stash[FINDINGS_KEY]
    expected = "floating-ip" if cloud.provider == "openstack" else "public-ip"
    assert findings["reachable_via"] == expected
    assert findings["login_user"] == server.image.login_user
"""


def test_fixtures_on_both_embedded_clouds(pytester: pytest.Pytester, monkeypatch):
    pytester.makeconftest(INNER_CONFTEST)
    pytester.makepyfile(test_inner=INNER_TESTS)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    result = pytester.runpytest_subprocess("-p", "no:interop", "-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=10)
    lines = (pytester.path / "results.jsonl").read_text().splitlines()
    results = {entry["cloud"]: entry for entry in map(json.loads, lines)}
    assert set(results) == {"reference", "reference-aws"}
    for entry in results.values():
        assert entry["summary"]["leaked"] == []
        assert entry["totals"]["created"] == entry["totals"]["deleted"]
        assert entry["totals"]["leaked"] == 0
    assert results["reference-aws"]["counters"]["live_instances"] == 0
    live = results["reference"]["counters"]["live"]
    projects = results["reference"]["counters"]["projects"]
    demo = [pid for pid, name in projects.items() if name != "admin"]
    for kind in ("servers", "keypairs", "floatingips"):
        assert sum(live.get(kind, {}).get(pid, 0) for pid in demo) == 0
