import hashlib
import json
from pathlib import Path

import pytest

from pytest_interop.errors import GuidelineError
from pytest_interop.guideline.loading import (
    available_guidelines,
    load_guideline,
    validate_document,
)
from pytest_interop.guideline.model import Flag, Guideline

from .helpers import FIXTURES, fixture_data, write_json

REPO_GUIDELINES = Path(__file__).resolve().parents[3] / "pytest_interop" / "guidelines"


def test_schema_1_2_lists_become_test_refs_and_flags():
    g = load_guideline(FIXTURES / "defcore-1.2.json")
    assert isinstance(g, Guideline)
    assert (g.id, g.schema, g.status, g.replaces) == ("2015.03", "1.2", "superseded", "2014.07")
    assert g.cutoff_score is None
    servers = g.capabilities["compute-servers"]
    assert [t.name.rsplit(".", 1)[1] for t in servers.tests] == [
        "test_create_server",
        "test_reboot_server_soft",
    ]
    assert servers.tests[0].flagged is None
    assert servers.tests[1].flagged is not None
    assert [t.name for t in servers.counted_tests()] == [servers.tests[0].name]
    assert g.criteria["deployed"] == {
        "name": "Widely Deployed",
        "weight": 8,
        "description": "Widely deployed",
    }
    assert g.capability_statuses("compute")["compute-floating-ips"] == "removed"
    assert g.broadest_platform == "OpenStack Powered Platform"
    assert set(g.capability_statuses()) == {
        "compute-servers",
        "compute-servers-metadata",
        "compute-floating-ips",
        "objectstore-object",
    }


def test_schema_1_6_quirks_load():
    g = load_guideline(FIXTURES / "defcore-1.6.json")
    assert g.cutoff_score == 74  # written as the string "74"
    assert g.approved == "2017-01-24"
    listing = g.capabilities["compute-servers-list"]
    assert listing.required_since == "2014.07"
    by_name = {t.name.rsplit(".", 1)[1]: t for t in listing.tests}
    # "id-" prefixes are dropped: the model keeps bare UUIDs.
    assert by_name["test_list_servers"].idempotent_id == "9a438d88-10c6-4bcd-8b5b-5b6e25e1346f"
    assert by_name["test_list_servers_filter_by_active_status"].aliases == (
        "tempest.api.compute.servers.test_list_server_filters.ListServerFiltersTestJSON."
        "test_list_servers_filter_by_server_status",
    )
    assert by_name["test_list_servers_filtered_by_ip_regex"].flagged == Flag(
        reason="[D401] Skipped by Tempest because of a bug.",
        action="Remove flag when Tempest fix is in place.",
        date="2016-03-31",
    )
    # Empty required-since means never required; "idempotent-id" with a hyphen is read too.
    assert g.capabilities["compute-auth-create"].required_since is None
    upload = g.capabilities["volumes-v2-upload"].tests[0]
    assert upload.idempotent_id == "d8f1ca95-3d5b-44a3-b8ca-909691c9532d"
    assert g.test_repositories["tempest"]["git-sha"].startswith("4d63b16d")
    statuses = g.capability_statuses("OpenStack Powered Storage")
    assert statuses == {
        "objectstore-object-create": "required",
        "identity-v3-tokens-create": "required",
    }


def test_schema_2_0_with_both_date_spellings():
    g = load_guideline(FIXTURES / "defcore-2.0.json")
    assert (g.id, g.schema, g.replaces, g.approved, g.cutoff_score) == (
        "2018.02",
        "2.0",
        "2017.09",
        "2018.02",
        74,
    )
    assert g.capabilities["compute-servers-create"].required_since == "2014.07"
    assert g.capabilities["identity-v3-tokens-create"].required_since == "2015.05"
    assert g.capabilities["compute-servers-suspend-resume"].required_since is None
    assert g.platforms["OpenStack Powered Compute"].components == ("os_powered_compute",)
    assert g.capability_statuses("OpenStack Powered Compute") == {
        "compute-servers-create": "required",
        "identity-v3-tokens-create": "required",
        "compute-servers-suspend-resume": "advisory",
    }
    assert g.interop_schema is None and not g.is_add_on


def test_schema_2_0_add_on():
    g = load_guideline(FIXTURES / "defcore-2.0-addon.json")
    assert g.is_add_on
    assert g.platforms == {}
    assert g.required_platform_components == ("os_powered_compute",)
    assert g.targets() == ["DNS", "os_powered_dns"]
    expected = {"dns-zone-crud": "required", "dns-record-crud": "advisory"}
    assert g.capability_statuses() == expected
    assert g.capability_statuses("DNS") == expected


def test_ours_loads_with_path_and_sha256():
    path = FIXTURES / "ours.json"
    g = load_guideline(path)
    assert g.interop_schema == "pytest-interop/1"
    assert g.path == str(path)
    assert g.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    test = g.capabilities["compute-servers-create"].tests[0]
    assert (
        test.name
        == "tests/interop/compute/test_servers.py::test_server_create_is_active_and_reachable"
    )
    assert g.test_repositories["pytest-interop"]["versions"] == ">=0.1"


def test_every_schema_form_fills_the_same_model():
    loaded = [
        load_guideline(FIXTURES / n)
        for n in (
            "defcore-1.2.json",
            "defcore-1.6.json",
            "defcore-2.0.json",
            "defcore-2.0-addon.json",
            "ours.json",
        )
    ]
    assert all(isinstance(g, Guideline) for g in loaded)
    assert all(g.capability_statuses() for g in loaded)


def test_lookup_by_id_in_dir_and_add_ons(tmp_path):
    write_json(tmp_path / "2099.01.json", fixture_data("ours.json"))
    write_json(tmp_path / "add-ons" / "dns.2019.06.json", fixture_data("defcore-2.0-addon.json"))
    assert available_guidelines([tmp_path]) == {
        "2099.01": tmp_path / "2099.01.json",
        "dns.2019.06": tmp_path / "add-ons" / "dns.2019.06.json",
    }
    assert load_guideline("dns.2019.06", [tmp_path]).is_add_on
    assert load_guideline("2099.01", [tmp_path]).id == "2099.01"


def test_first_search_dir_wins(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    write_json(first / "x.json", fixture_data("ours.json"))
    write_json(second / "x.json", fixture_data("defcore-2.0.json"))
    assert load_guideline("x", [first, second]).id == "2099.01"


def test_unknown_id_lists_available_ids_and_dirs(tmp_path):
    write_json(tmp_path / "2099.01.json", fixture_data("ours.json"))
    with pytest.raises(GuidelineError) as excinfo:
        load_guideline("2017.13", [tmp_path])
    message = str(excinfo.value)
    assert "\n" not in message
    assert "unknown guideline '2017.13'" in message
    assert "2099.01" in message and str(tmp_path) in message and "add-ons/" in message


def test_missing_file_path_names_it(tmp_path):
    with pytest.raises(GuidelineError, match=r"guideline file .*nope\.json not found"):
        load_guideline(tmp_path / "nope.json")


def test_malformed_json_gives_file_line_and_column(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{\n  "metadata": {\n    "id": "x",\n    "schema" "2.0"\n  }\n}\n')
    with pytest.raises(GuidelineError) as excinfo:
        load_guideline(path)
    assert str(excinfo.value).startswith(f"{path}:4:14: invalid JSON: Expecting ':' delimiter")


def test_schema_error_names_first_json_path_and_count(tmp_path):
    data = fixture_data("ours.json")
    del data["capabilities"]["compute-servers-create"]["description"]
    data["capabilities"]["identity-tokens-create"]["tests"]["not a node id"] = {
        "idempotent_id": "x"
    }
    path = write_json(tmp_path / "broken.json", data)
    with pytest.raises(GuidelineError) as excinfo:
        load_guideline(path)
    message = str(excinfo.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: does not match schema pytest-interop/1: ")
    assert '$.capabilities["compute-servers-create"]' in message
    assert "(and 1 more)" in message
    assert f"interop guideline validate {path}" in message


def test_validate_document_reports_every_error_with_paths():
    data = fixture_data("ours.json")
    data["metadata"]["scoring"]["cutoff_score"] = "74"  # ours must be an integer
    data["test_repositories"] = {}
    issues = validate_document(data)
    paths = [i.path for i in issues]
    assert paths == ["$.metadata.scoring.cutoff_score", "$.test_repositories"]


def test_unsupported_schema_version_is_one_issue():
    issues = validate_document({"id": "x", "schema": "9.9"})
    assert [i.path for i in issues] == ["$.schema"]
    assert "unsupported schema '9.9'" in issues[0].message


def test_our_guideline_files_load():
    found = available_guidelines([REPO_GUIDELINES])
    assert {"2017.01", "next", "hybrid.2017.01"} <= set(found)
    for path in found.values():
        assert load_guideline(path).interop_schema == "pytest-interop/1"


def test_2017_01_structure():
    g = load_guideline("2017.01", [REPO_GUIDELINES])
    assert g.cutoff_score == 74 and g.replaces == "2016.08"
    assert g.platforms["OpenStack Powered Platform"].components == ("compute", "object")
    compute = g.capability_statuses("OpenStack Powered Compute")
    assert compute["compute-servers-create"] == "required"
    assert compute["networks-l3-router"] == "advisory"
    assert compute["compute-auth-create"] == "removed"
    assert "objectstore-object-get" not in compute
    storage = g.capability_statuses("OpenStack Powered Storage")
    assert storage["identity-v3-tokens-create"] == "required"
    assert storage["objectstore-container-metadata"] == "advisory"
    assert sum(w["weight"] for w in g.criteria.values()) == 100


def test_hybrid_add_on_statuses():
    g = load_guideline("hybrid.2017.01", [REPO_GUIDELINES])
    assert g.is_add_on and g.required_platform_components == ("compute",)
    statuses = g.capability_statuses()
    assert len(statuses) == 8 and set(statuses.values()) == {"required"}
    assert "hybrid-node-public-address" in statuses


def test_next_follows_the_published_draft():
    g = load_guideline("next", [REPO_GUIDELINES])
    assert g.replaces == "2018.02" and g.status == "draft"
    assert "OpenStack Powered Compute" in g.targets()


def test_2020_06_requires_78_capabilities_and_its_hybrid_names_it_as_base():
    g = load_guideline("2020.06", [REPO_GUIDELINES])
    statuses = g.capability_statuses()
    assert sum(1 for s in statuses.values() if s == "required") == 78
    assert g.status == "approved" and g.replaces == "2019.11"
    hybrid = load_guideline("hybrid.2020.06", [REPO_GUIDELINES])
    assert hybrid.required_platform_components == ("os_powered_compute",)
    assert (
        hybrid.capability_statuses()
        == load_guideline("hybrid.2017.01", [REPO_GUIDELINES]).capability_statuses()
    )


def test_json_written_back_is_identical_model(tmp_path):
    # Reading is independent of key order and whitespace.
    data = fixture_data("defcore-1.6.json")
    path = tmp_path / "compact.json"
    path.write_text(json.dumps(data, separators=(",", ":"), sort_keys=True))
    a, b = load_guideline(FIXTURES / "defcore-1.6.json"), load_guideline(path)
    assert a.capability_statuses() == b.capability_statuses()
    assert {n: c.tests for n, c in a.capabilities.items()} == {
        n: c.tests for n, c in b.capabilities.items()
    }
