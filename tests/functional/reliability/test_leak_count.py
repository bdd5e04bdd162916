"""The leak count is what is still on the cloud (issue 17, defect 8).

Under faults the ledgers counted as leaked a resource the controller's sweep removed
afterwards, and a create answered with an error (an intent in the journal, no id) that
made nothing. The controller now asks the cloud about each live record: gone or deleted is
no leak; a cloud that cannot be asked makes the count *unconfirmed*, apart.
"""

from __future__ import annotations

import dataclasses

from pytest_interop.clouds.registry import CloudSpec, make_cloud
from pytest_interop.reference import ReferenceCloud
from pytest_interop.resources import ResourceLedger
from pytest_interop.run import InteropRun, RunSettings, new_run_id

from .conftest import FAST


def _run_with_failed_deletes(cloud: ReferenceCloud, journal_dir) -> tuple[InteropRun, str]:
    """A run whose worker ledger says 2 leaked: a key pair whose create was answered with an
    error (nothing made), and a key pair that exists, whose delete failed."""
    spec = CloudSpec("outside", "openstack", {"config": cloud.cloud_config("outside")})
    settings = RunSettings(new_run_id(), [], [], None, [spec.to_dict()], str(journal_dir))
    run = InteropRun(settings, [], [], [spec])
    ledger = ResourceLedger(settings.run_id, "outside", run.journal_path("outside", "gw0"))
    never_made = ledger.intend("keypair", ledger.new_name("keypair"))
    ledger.record_leaked(never_made, "InfrastructureError: nova.keypairs.create: 503")
    adapter = make_cloud(spec, ledger)
    try:
        pair = adapter.create_keypair()
    finally:
        adapter.close()
    (made,) = [r for r in ledger.records() if r.name == pair.name]
    ledger.record_leaked(made, "InfrastructureError: nova.keypairs.delete: 503")
    ledger.close()
    run.add_resource_totals({"outside": ledger.totals()})
    assert run.resources["outside"]["leaked"] == 2  # what the ledger alone believes
    return run, pair.name


def _keypairs(cloud: ReferenceCloud) -> set[str]:
    return {name for _, name in cloud.state.compute.keypairs}


def test_leaks_are_what_the_cloud_still_holds(tmp_path):
    with ReferenceCloud(**FAST, machines=False) as cloud:
        run, name = _run_with_failed_deletes(cloud, tmp_path)
        assert name in _keypairs(cloud)
        run.sweep_leftovers()
        counts = run.resources["outside"]
        assert counts["leaked"] == 0, counts
        assert counts["swept"] == 1
        assert "unconfirmed" not in counts
        assert name not in _keypairs(cloud)


def test_a_cloud_that_cannot_be_asked_makes_the_count_unconfirmed(tmp_path):
    with ReferenceCloud(**FAST, machines=False) as cloud:
        run, name = _run_with_failed_deletes(cloud, tmp_path)
        faults = cloud.state.faults
        calm = faults.settings
        faults.settings = dataclasses.replace(calm, rate_limit_rate=1.0, retry_after=0)
        run.sweep_leftovers()
        faults.settings = calm
        counts = run.resources["outside"]
        assert counts["unconfirmed"] == 2, counts
        assert counts["leaked"] == 0
        assert name in _keypairs(cloud)  # it is there: unconfirmed, not forgotten
