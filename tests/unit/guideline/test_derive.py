"""tools/derive_guidelines.py: our guidelines from the published ones, nothing invented."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SPEC = importlib.util.spec_from_file_location(
    "derive_guidelines", ROOT / "tools" / "derive_guidelines.py"
)
derive_guidelines = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(derive_guidelines)

TEST = "pytest_interop/suite/compute/test_x.py::test_resize"
MAPPING = {
    "capabilities": {"compute-servers-resize": {TEST: {"idempotent_id": "0" * 8}}},
    "carried_flags": {"compute-servers-resize": {"tempest.Resize.test_confirm": [TEST]}},
    "proposals": {
        "compute-new": {
            "component": "os_powered_compute",
            "capability": {"achievements": [], "admin": False, "description": "New thing"},
        }
    },
}
FLAG = {"reason": "insecure", "action": "fix it", "date": "2015-05-07"}


def published(guideline_id: str = "2099.01") -> dict:
    return {
        "metadata": {
            "id": guideline_id,
            "schema": "2.0",
            "scoring": {"cutoff_score": "74", "criteria": {"a": {"name": "A", "weight": 74}}},
            "os_trademark_approval": {"status": "approved", "replaces": "2098.01"},
        },
        "platforms": {"P": {"components": [{"name": "os_powered_compute"}]}},
        "components": {
            "os_powered_compute": {
                "capabilities": {"required": ["compute-servers-resize", "gone"], "removed": []}
            }
        },
        "capabilities": {
            "compute-servers-resize": {
                "acheivements": ["a", ""],
                "admin": False,
                "descriptin": "Resize",
                "required-since": "2014.07",
                "tests": {
                    "tempest.Resize.test_confirm": {"idempotent_id": "id-1", "flagged": FLAG}
                },
            }
        },
    }


def test_copies_the_published_data_fixing_only_spellings_and_naming_our_tests():
    replaced = {"capabilities": {"gone": {"achievements": [], "admin": True, "description": "G"}}}
    ours = derive_guidelines.derive(published(), "2099.01", MAPPING, replaced)
    assert ours["metadata"]["scoring"]["cutoff_score"] == 74
    assert ours["metadata"]["os_trademark_approval"]["status"] == "approved"
    resize = ours["capabilities"]["compute-servers-resize"]
    assert resize["achievements"] == ["a"] and resize["description"] == "Resize"
    assert resize["required_since"] == "2014.07"
    assert resize["tests"] == {TEST: {"idempotent_id": "0" * 8, "flagged": FLAG}}
    assert ours["capabilities"]["gone"]["description"] == "G"  # from the replaced guideline
    assert "compute-new" not in ours["capabilities"]  # proposals go to next only


def test_next_marks_our_proposals_as_advisory():
    replaced = {"capabilities": {"gone": {"achievements": [], "admin": True, "description": "G"}}}
    ours = derive_guidelines.derive(published("next"), "next", MAPPING, replaced)
    assert ours["capabilities"]["compute-new"]["description"].startswith(
        derive_guidelines.PROPOSAL_MARK
    )
    lists = ours["components"]["os_powered_compute"]["capabilities"]
    assert "compute-new" in lists["advisory"]


def test_a_capability_defined_nowhere_is_an_error():
    with pytest.raises(ValueError, match="gone is listed but defined nowhere"):
        derive_guidelines.derive(published(), "2099.01", MAPPING, None)


def _published_dir() -> Path | None:
    for candidate in (
        os.environ.get("INTEROP_PUBLISHED_GUIDELINES"),
        ROOT.parent / "shared" / "published-guidelines",
    ):
        if candidate and Path(candidate, "2020.06.json").is_file():
            return Path(candidate)
    return None


def test_committed_guidelines_are_what_the_tool_writes():
    source = _published_dir()
    if source is None:
        pytest.skip("OpenStack's published guideline files are not on this machine")
    assert derive_guidelines.main(["--published", str(source), "--check"]) == 0


def test_mapping_names_only_capabilities_the_published_guidelines_define():
    mapping = json.loads(derive_guidelines.TESTS_FILE.read_text())
    shipped = set()
    for path in [
        *derive_guidelines.GUIDELINES.glob("*.json"),
        *derive_guidelines.GUIDELINES.glob("add-ons/*.json"),
    ]:
        shipped |= set(json.loads(path.read_text())["capabilities"])
    assert set(mapping["capabilities"]) <= shipped


def test_a_published_add_on_keeps_its_add_ons_and_names_its_base_by_id():
    add_on = published()
    del add_on["platforms"]
    add_on["add-ons"] = {
        "DNS": {
            "description": "OpenStack Powered with DNS",
            "components": [{"name": "os_powered_compute"}],
            "required_platform_components": [
                {
                    "name": "os_powered_compute",
                    "source": "http://opendev.org/openstack/interop/2020.06.json",
                }
            ],
        }
    }
    replaced = {"capabilities": {"gone": {"achievements": [], "admin": True, "description": "G"}}}
    ours = derive_guidelines.derive(add_on, "dns.2099.01", MAPPING, replaced)
    assert "platforms" not in ours
    assert ours["metadata"]["source"] == "pytest_interop/guidelines/add-ons/dns.2099.01.json"
    (dns,) = ours["add-ons"].values()
    assert dns["required_platform_components"] == [
        {"name": "os_powered_compute", "source": "2020.06"}
    ]
    assert add_on["add-ons"]["DNS"]["required_platform_components"][0]["source"].endswith(".json")


def test_an_add_on_keeps_the_published_capabilities_and_names_our_tests():
    published = {
        "metadata": {
            "id": "orchestration.2020.06",
            "schema": "2.0",
            "source": "http://example.invalid/add-ons/orchestration.2020.06.json",
            "scoring": {
                "cutoff_score": 60,
                "criteria": {"doc": {"name": "Documented", "description": "d", "weight": 8}},
            },
            "os_trademark_approval": {
                "target_approval": "orchestration.2020.06",
                "replaces": "orchestration.2019.11",
                "releases": [],
                "status": "approved",
            },
        },
        "add-ons": {
            "Orchestration": {
                "components": [{"name": "orch"}],
                "required_platform_components": [
                    {"name": "os_powered_compute", "source": "http://example.invalid/2020.06.json"}
                ],
            }
        },
        "components": {
            "orch": {
                "capabilities": {
                    "required": ["stack-list"],
                    "advisory": [],
                    "deprecated": [],
                    "removed": [],
                }
            }
        },
        "capabilities": {
            "stack-list": {
                "achievements": ["doc"],
                "admin": False,
                "description": "List stacks.",
                "project": "heat",
                "tests": {"heat_tempest_plugin.x": {"idempotent_id": "0"}},
            }
        },
        "designated_sections": {"heat": {}},
    }
    ours = {"suite/test_x.py::test_list": {"idempotent_id": "1"}}
    mapping = {"capabilities": {"stack-list": ours}, "carried_flags": {}, "proposals": {}}
    derived = derive_guidelines.derive(published, "orchestration.2020.06", mapping)
    assert "platforms" not in derived
    assert derived["capabilities"]["stack-list"]["tests"] == ours
    approval = derived["metadata"]["os_trademark_approval"]
    assert (approval["target_approval"], approval["replaces"]) == (
        "2020.06",
        "orchestration.2019.11",
    )
    assert derived["add-ons"]["Orchestration"]["required_platform_components"] == [
        {"name": "os_powered_compute", "source": "2020.06"}
    ]
    assert "designated_sections" not in derived  # as for the base guidelines: code, not behaviour
    assert published["add-ons"]["Orchestration"]["required_platform_components"][0][
        "source"
    ].startswith("http")  # the published document is not changed
