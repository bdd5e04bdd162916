import copy

from pytest_interop.guideline.diff import diff_guidelines
from pytest_interop.guideline.loading import parse_guideline

from .helpers import fixture_data

CREATE = "compute-servers-create"
CREATE_TEST = "tests/interop/compute/test_servers.py::test_server_create_is_active_and_reachable"
FLAGGED_TEST = (
    "tests/interop/compute/test_servers.py::TestServerInvalid::test_bad_flavor_is_refused"
)


def test_identical_guidelines_have_empty_diff():
    g = parse_guideline(fixture_data("ours.json"))
    assert diff_guidelines(g, g).empty


def test_every_kind_of_change():
    old_data = fixture_data("ours.json")
    new_data = copy.deepcopy(old_data)
    new_data["metadata"]["id"] = "2099.07"
    caps = new_data["components"]["compute"]["capabilities"]
    caps["advisory"] = ["compute-servers-suspend"]
    caps["required"].append("compute-servers-reboot")  # promoted
    new_data["components"]["identity"]["capabilities"] = {
        "required": [],
        "advisory": [],
        "deprecated": ["identity-tokens-create"],
        "removed": [],
    }  # demoted
    new_data["capabilities"]["compute-servers-suspend"] = {
        "achievements": [],
        "admin": False,
        "description": "Suspend",
        "tests": {},
    }
    tests = new_data["capabilities"][CREATE]["tests"]
    renamed = tests.pop(CREATE_TEST)
    tests["tests/interop/compute/test_create.py::test_server_is_active"] = renamed  # renamed
    tests[FLAGGED_TEST].pop("flagged")  # unflagged
    tests["tests/interop/compute/test_servers.py::test_new"] = {
        "idempotent_id": "77777777-7777-4777-8777-777777777777",
        "flagged": {"reason": "new and shaky", "action": "a", "date": "2099-07-01"},
    }
    new_data["capabilities"]["identity-tokens-create"]["tests"] = {}  # removed test
    reboot = new_data["capabilities"]["compute-servers-reboot"]["tests"]
    reboot[next(iter(reboot))]["flagged"] = {
        "reason": "boot id unreadable",
        "action": "a",
        "date": "2099-07-01",
    }

    diff = diff_guidelines(parse_guideline(old_data), parse_guideline(new_data))
    assert diff.capabilities_added == ["compute-servers-suspend"]
    assert diff.capabilities_removed == []
    assert [(c.capability, c.old, c.new) for c in diff.promoted] == [
        ("compute-servers-reboot", "advisory", "required")
    ]
    assert [(c.capability, c.old, c.new) for c in diff.demoted] == [
        ("identity-tokens-create", "required", "deprecated")
    ]
    assert [t.test for t in diff.tests_added] == ["tests/interop/compute/test_servers.py::test_new"]
    assert [t.capability for t in diff.tests_removed] == ["identity-tokens-create"]
    assert [(t.detail, t.test) for t in diff.tests_renamed] == [
        (CREATE_TEST, "tests/interop/compute/test_create.py::test_server_is_active")
    ]
    assert [t.test for t in diff.tests_unflagged] == [FLAGGED_TEST]
    assert [(t.capability, t.detail) for t in diff.tests_flagged] == [
        ("compute-servers-reboot", "boot id unreadable")
    ]
    assert not diff.empty
    assert diff.as_dict()["promoted"][0]["new"] == "required"


def test_capability_removed_from_every_component():
    old_data = fixture_data("ours.json")
    new_data = copy.deepcopy(old_data)
    new_data["components"]["compute"]["capabilities"]["advisory"] = []
    diff = diff_guidelines(parse_guideline(old_data), parse_guideline(new_data))
    assert diff.capabilities_removed == ["compute-servers-reboot"]
