"""The DNS add-on's behavioural tests fail on a reference cloud whose name server does not
serve what its API says: Designate reports every change ACTIVE, but named gets only the new
SOA (records never arrive, deletes never leave), and the zones it serves name another name
server than the one the API lists."""

from __future__ import annotations

from pytest_interop.reference.dns import models
from pytest_interop.reference.dns.bind import NamedServer

from .conftest import run_pytest
from .test_faults_break_the_2020_06_capabilities import _outcomes, _project_root

SUITE = "pytest_interop/suite/dns"
BROKEN = {
    "dns-zone-crud": [f"{SUITE}/test_zones.py::test_zone_served_by_the_listed_name_servers"],
    "dns-record-crud": [
        f"{SUITE}/test_resolution.py::test_created_records_resolve",
        f"{SUITE}/test_resolution.py::test_update_changes_the_answer_and_the_serial",
        f"{SUITE}/test_resolution.py::test_deleted_records_are_gone",
    ],
}


def test_dns_tests_fail_where_the_name_server_does_not_serve_the_api(
    outside, tmp_path, monkeypatch
):
    update = NamedServer.update
    monkeypatch.setattr(
        NamedServer, "update", lambda self, zone, soa, changes: update(self, zone, soa, [])
    )
    zone_text = models.DnsModel.zone_text
    monkeypatch.setattr(
        models.DnsModel,
        "zone_text",
        lambda self, zone, **kw: zone_text(self, zone, **kw).replace(
            models.NS_HOSTNAME, "ns9.elsewhere.test."
        ),
    )
    broken = outside(machines=False)
    junit = tmp_path / "junit.xml"
    nodes = sorted(n for names in BROKEN.values() for n in names)
    result = run_pytest(
        tmp_path,
        broken.env(INTEROP_DNS_SERVE_TIMEOUT="2"),
        "--rootdir",
        str(_project_root()),
        "-p",
        "no:cacheprovider",
        f"--cloud={broken.name}",
        f"--junitxml={junit}",
        *(f"{_project_root()}/{n}" for n in nodes),
    )
    outcomes = _outcomes(junit)
    for capability, names in BROKEN.items():
        for name in names:
            assert outcomes.get(name) == "failed", (
                f"{capability}: {name} did not fail: {outcomes}\n{result.stdout[-3000:]}"
            )
    assert broken.leaked() == {}, "the failing tests left zones behind"


def test_a_dns_run_on_a_sound_cloud_passes_and_leaves_no_zone_on_named(outside, tmp_path):
    sound = outside(machines=False)
    junit = tmp_path / "junit.xml"
    result = run_pytest(
        tmp_path,
        sound.env(),
        "--rootdir",
        str(_project_root()),
        "-p",
        "no:cacheprovider",
        f"--cloud={sound.name}",
        f"--junitxml={junit}",
        *(f"{_project_root()}/{n}" for n in sorted(n for ns in BROKEN.values() for n in ns)),
        f"{_project_root()}/{SUITE}/test_recordsets.py",
    )
    outcomes = _outcomes(junit)
    assert outcomes and set(outcomes.values()) == {"passed"}, result.stdout[-3000:]
    assert sound.cloud.state.dns.server is not None  # named served this run
    assert sound.leaked() == {}  # no zone in the API, none left on named
    assert sound.cloud.counters()["live"]["dns_served_zones"] == {"all": 0}
