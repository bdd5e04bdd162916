"""Write our guidelines from OpenStack's published ones and tools/guideline-tests.json.

A published guideline (DefCore schema 1.x or 2.0) names Tempest tests; ours names the
behavioural tests of ``pytest_interop/suite``. Everything else (platforms, components,
capability statuses, scoring criteria and weights, achievements, required-since dates,
releases, approval) is copied from the published file, so a reviewer compares the two with
``interop guideline diff`` and this script is the only place a difference can come from:

* the tests: each capability lists the tests ``guideline-tests.json`` gives it;
* spelling fixes the published files need to be read at all: ``descriptin``, ``acheivements``,
  ``required-since``, empty achievement strings, ``Description`` in 1.x criteria;
* flags: a published flag names a Tempest test; it is carried onto ours only where
  ``carried_flags`` says which of our tests exercise what the flagged test did;
* ``next``: our proposals (``proposals``) are added as advisory, their description marked
  ``Proposal (pytest-interop):``;
* add-ons (``DERIVED_ADD_ONS``, from ``add-ons/`` of the published folder): the base platform
  component they require, and ``target_approval``, are named by our guideline id
  (``2020.06``; published: a URL, and for orchestration the add-on's own id).

Usage (from the project root)::

    python tools/derive_guidelines.py --published ../shared/published-guidelines [--check] [ID ...]

``--check`` writes nothing and exits 1 when a committed file differs from what it would write.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
GUIDELINES = ROOT / "pytest_interop" / "guidelines"
TESTS_FILE = Path(__file__).resolve().parent / "guideline-tests.json"
DERIVED = ("2017.09", "2018.02", "2018.11", "2019.06", "2019.11", "2020.06", "next")
# Published add-ons (in add-ons/ of both trees) derived the same way.
DERIVED_ADD_ONS = ("dns.2020.06", "orchestration.2020.06")
STATUSES = ("required", "advisory", "deprecated", "removed")
PROPOSAL_MARK = "Proposal (pytest-interop): "
REFERENCE = "https://opendev.org/openstack/interop/raw/branch/master/{id}.json"
TEST_REPOSITORIES = {
    "pytest-interop": {
        "repository": "https://pypi.org/project/pytest-interop/",
        "versions": ">=0.1,<1.0",
        "description": "The behavioural must-pass suite in pytest_interop/suite/ of pytest-interop",
    }
}
# 1.x files have no platforms section: the ones our 2017.01 (and the loader) give them.
PLATFORMS_1X = {
    "OpenStack Powered Platform": {
        "description": "Compute and object storage: every core service of the guideline",
        "components": [{"name": "compute"}, {"name": "object"}],
    },
    "OpenStack Powered Compute": {
        "description": "Compute, images, networks, block storage and identity",
        "components": [{"name": "compute"}],
    },
    "OpenStack Powered Storage": {
        "description": "Object storage and identity",
        "components": [{"name": "object"}],
    },
}


def _is_2x(published: dict[str, Any]) -> bool:
    return "metadata" in published


def _criteria(raw: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, criterion in sorted(raw.items()):
        out[key] = {
            "name": criterion["name"],
            "description": criterion.get("description", criterion.get("Description", "")),
            "weight": int(criterion["weight"]),
        }
    return out


def _metadata(published: dict[str, Any], guideline_id: str) -> dict[str, Any]:
    if _is_2x(published):
        meta = published["metadata"]
        scoring = meta["scoring"]
        approval = dict(meta["os_trademark_approval"])
    else:
        scoring = {"cutoff_score": published["cutoff_score"], "criteria": published["criteria"]}
        approval = {
            "target_approval": published["target_approval"],
            "replaces": published.get("replaces"),
            "releases": published.get("releases", []),
            "status": published["status"],
        }
    return {
        "id": guideline_id,
        "schema": "2.0",
        "interop_schema": "pytest-interop/1",
        "reference": REFERENCE.format(id=guideline_id),
        "source": f"pytest_interop/guidelines/{guideline_id}.json",
        "scoring": {
            "cutoff_score": int(scoring["cutoff_score"]),
            "criteria": _criteria(scoring["criteria"]),
        },
        "os_trademark_approval": approval,
    }


def _components(published: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for name, component in published["components"].items():
        lists = component["capabilities"] if _is_2x(published) else component
        entry: dict[str, Any] = {"capabilities": {s: list(lists.get(s, [])) for s in STATUSES}}
        if "designated_sections" in component:
            entry["designated_sections"] = component["designated_sections"]
        out[name] = entry
    return out


def _published_flags(capability: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Tempest test name -> its flag, in either spelling of the published tests."""
    tests = capability.get("tests", {})
    if isinstance(tests, list):
        return {}
    return {name: dict(entry["flagged"]) for name, entry in tests.items() if entry.get("flagged")}


def _capability(name: str, published: dict[str, Any], mapping: dict[str, Any]) -> dict[str, Any]:
    achievements = published.get("achievements", published.get("acheivements", []))
    description = published.get("description", published.get("descriptin", ""))
    since = published.get("required_since", published.get("required-since"))
    out: dict[str, Any] = {
        "achievements": [a for a in achievements if a],
        "admin": bool(published.get("admin", False)),
        "description": description or name,
        "project": published.get("project"),
    }
    if since:
        out["required_since"] = since
    tests = copy.deepcopy(mapping["capabilities"].get(name, {}))
    carried = mapping["carried_flags"].get(name, {})
    for tempest_test, flag in _published_flags(published).items():
        for ours in carried.get(tempest_test, ()):
            tests[ours]["flagged"] = flag
    out["tests"] = tests
    return out


def derive(
    published: dict[str, Any],
    guideline_id: str,
    mapping: dict[str, Any],
    replaced: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Our guideline ``guideline_id`` from its published file and the test mapping.

    ``replaced``: the published guideline it replaces. The published ``next`` lists removed
    capabilities it no longer defines; their definitions come from there.
    """
    components = _components(published)
    defined = dict(published["capabilities"])
    listed = {n for c in components.values() for names in c["capabilities"].values() for n in names}
    for name in sorted(listed - set(defined)):
        if replaced is None or name not in replaced["capabilities"]:
            raise ValueError(f"{guideline_id}: {name} is listed but defined nowhere")
        defined[name] = replaced["capabilities"][name]
    capabilities = {name: _capability(name, cap, mapping) for name, cap in sorted(defined.items())}
    if guideline_id == "next":
        for name, proposal in sorted(mapping["proposals"].items()):
            capability = copy.deepcopy(proposal["capability"])
            capability["description"] = PROPOSAL_MARK + capability["description"]
            capability["tests"] = copy.deepcopy(mapping["capabilities"].get(name, {}))
            capabilities[name] = capability
            advisory = components[proposal["component"]]["capabilities"]["advisory"]
            if name not in advisory:
                advisory.append(name)
    document: dict[str, Any] = {"metadata": _metadata(published, guideline_id)}
    if "add-ons" in published:
        document["metadata"]["reference"] = REFERENCE.format(id=f"add-ons/{guideline_id}")
        document["metadata"]["source"] = f"pytest_interop/guidelines/add-ons/{guideline_id}.json"
        document["add-ons"] = _add_ons(published["add-ons"])
        bases = [
            ref["source"]
            for add_on in document["add-ons"].values()
            for ref in add_on.get("required_platform_components", ())
        ]
        approval = document["metadata"].get("os_trademark_approval") or {}
        if bases and approval.get("target_approval") == guideline_id:
            # orchestration's file names itself; ours dates the add-on by its base, as dns's does
            approval["target_approval"] = bases[0]
    else:
        document["platforms"] = published["platforms"] if _is_2x(published) else PLATFORMS_1X
    document["components"] = components
    document["capabilities"] = capabilities
    document["test_repositories"] = TEST_REPOSITORIES
    return document


def _add_ons(add_ons: dict[str, Any]) -> dict[str, Any]:
    """The published add-ons; a required base component names its guideline by id, as ours
    do (``.../interop/2020.06.json`` -> ``2020.06``)."""
    out = copy.deepcopy(add_ons)
    for add_on in out.values():
        for ref in add_on.get("required_platform_components", ()):
            ref["source"] = ref["source"].rstrip("/").rsplit("/", 1)[-1].removesuffix(".json")
    return out


def _replaces(published: dict[str, Any]) -> str | None:
    if _is_2x(published):
        return published["metadata"]["os_trademark_approval"].get("replaces")
    return published.get("replaces")


HYBRID = GUIDELINES / "add-ons" / "hybrid.2017.01.json"


def derive_hybrid(hybrid: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    """The hybrid add-on on another base guideline: the same eight steps, capabilities and
    tests; only the base it names (and the id and dates) change."""
    base_id = base["metadata"]["id"]
    document = copy.deepcopy(hybrid)
    meta = document["metadata"]
    meta["id"] = f"hybrid.{base_id}"
    meta["source"] = f"pytest_interop/guidelines/add-ons/hybrid.{base_id}.json"
    meta["os_trademark_approval"].update(
        {"target_approval": base_id, "replaces": hybrid["metadata"]["id"]}
    )
    compute = next(iter(base["platforms"]["OpenStack Powered Compute"]["components"]))["name"]
    for add_on in document["add-ons"].values():
        add_on["required_platform_components"] = [{"name": compute, "source": base_id}]
    return document


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--published", required=True, type=Path, metavar="DIR")
    parser.add_argument("--check", action="store_true", help="compare, write nothing")
    parser.add_argument("ids", nargs="*", metavar="ID", default=[*DERIVED, *DERIVED_ADD_ONS])
    args = parser.parse_args(argv)
    mapping = json.loads(TESTS_FILE.read_text())
    stale = []
    for guideline_id in args.ids:
        folder = "add-ons" if guideline_id in DERIVED_ADD_ONS else ""
        source = args.published / folder / f"{guideline_id}.json"
        if not source.is_file():
            print(
                f"--published {args.published}: no {source.name}; pass the folder of "
                "OpenStack's published guideline files",
                file=sys.stderr,
            )
            return 2
        published = json.loads(source.read_text())
        replaces = _replaces(published)
        replaced_file = args.published / f"{replaces}.json"
        replaced = json.loads(replaced_file.read_text()) if replaced_file.is_file() else None
        text = render(derive(published, guideline_id, mapping, replaced))
        target = GUIDELINES / folder / f"{guideline_id}.json"
        if args.check:
            if not target.is_file() or target.read_text() != text:
                stale.append(target.relative_to(ROOT).as_posix())
            continue
        target.write_text(text)
    if "2020.06" in args.ids:
        base = json.loads((GUIDELINES / "2020.06.json").read_text())
        text = render(derive_hybrid(json.loads(HYBRID.read_text()), base))
        target = GUIDELINES / "add-ons" / "hybrid.2020.06.json"
        if args.check:
            if not target.is_file() or target.read_text() != text:
                stale.append(target.relative_to(ROOT).as_posix())
        else:
            target.write_text(text)
    if stale:
        print("out of date (run tools/derive_guidelines.py): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
