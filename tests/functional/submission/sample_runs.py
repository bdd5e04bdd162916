"""Realistic reports for the submission and HTML tests, and docs/make_screenshot.py.

Reports come from the real guideline files and the real compliance code: the guidelines in
``guidelines/`` are copied to a directory with one generated test per capability (so the
samples keep their shape however the real suite grows), outcomes are made
per cloud the way the reference cloud's profiles differ, and ``build_report`` does the rest.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pytest_interop import compliance
from pytest_interop.guideline.loading import load_guideline
from pytest_interop.guideline.model import Guideline
from pytest_interop.report.json_report import build_report

REPO = Path(__file__).resolve().parents[3]
GUIDELINE_FILES = ("2017.01.json", "add-ons/hybrid.2017.01.json")
THREE_CLOUDS = ("reference", "reference:floating-ip", "reference-aws")
FLAGGED_CAPABILITY = "compute-servers-verify"
MISSING_CAPABILITY = "volumes-v3-readonly"  # advisory: a gap that does not fail the verdict


def _generated_test(capability: str, project: str | None) -> tuple[str, dict[str, Any]]:
    service = (project or capability.split("-", 1)[0]).replace("-", "_")
    function = "test_" + capability.replace("-", "_").lower()
    name = f"tests/interop/{service}/test_{service}.py::{function}"
    entry: dict[str, Any] = {"idempotent_id": str(uuid.uuid5(uuid.NAMESPACE_URL, name))}
    if capability == FLAGGED_CAPABILITY:
        entry["flagged"] = {
            "reason": "needs SSH from the tester to the server",
            "action": "remove the flag once the SSH fixture is stable",
            "date": "2017-02-01",
        }
    return name, entry


def write_guidelines(directory: Path) -> Path:
    """Copies of the published guidelines, every capability with at least one test."""
    for relative in GUIDELINE_FILES:
        data = json.loads(
            (REPO / "pytest_interop" / "guidelines" / relative).read_text(encoding="utf-8")
        )
        for name, capability in data["capabilities"].items():
            # One generated test per capability: the samples keep their shape however the
            # real suite grows.
            test, entry = _generated_test(name, capability.get("project"))
            capability["tests"] = {test: entry}
        target = directory / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return directory


def load_guidelines(directory: Path) -> list[Guideline]:
    return [
        load_guideline(p.removesuffix(".json").split("/")[-1], [directory]) for p in GUIDELINE_FILES
    ]


# How each cloud differs: capability -> (outcome, message); the facts its hybrid tests record;
# and the answers (YES / NO / PARTIAL, why) that hybrid steps claim, as tests/interop/hybrid do.
Profile = dict[str, tuple[str, str]]
Facts = dict[str, Any]
Claims = dict[str, tuple[str, str]]
PROFILES: dict[str, tuple[Profile, Facts, Claims]] = {
    "reference": (
        {},
        {
            "hybrid.login_account": "ubuntu",
            "hybrid.public_address": "fixed address, routed",
            "hybrid.boot_seconds": 3.2,
            "hybrid.root_login": "prohibit-password",
        },
        {},
    ),
    "reference:floating-ip": (
        {
            "hybrid-node-public-address": (
                compliance.FAILED,
                "server has no address reachable from the tester: only a private fixed "
                "address; a floating IP must be allocated\nassert reachable_addresses == []",
            ),
            "compute-servers-suspend-resume": (compliance.SKIPPED, "suspend disabled by policy"),
            FLAGGED_CAPABILITY: (compliance.FAILED, "ssh: connection timed out"),
        },
        {
            "hybrid.login_account": "cloud-user",
            "hybrid.public_address": "floating IP required",
            "hybrid.boot_seconds": 4.9,
            "hybrid.root_login": "prohibit-password",
        },
        {
            "hybrid-node-public-address": ("NO", "no public address without a floating IP"),
            "hybrid-node-login": ("PARTIAL", "login account is cloud-user, found by trying"),
        },
    ),
    "reference-aws": (
        {
            "compute-servers-lock": (compliance.NOT_APPLICABLE, "AWS has no server lock"),
            "hybrid-root-key-password-off": (
                compliance.FAILED,
                "root login still accepts passwords after the tool's change: "
                "sshd -T reports 'permitrootlogin yes'",
            ),
            "images-v2-update": (
                compliance.ERROR,
                "InfrastructureError: 503 Service Unavailable after 5 attempts",
            ),
        },
        {
            "hybrid.login_account": "ec2-user",
            "hybrid.public_address": "public IP by default",
            "hybrid.boot_seconds": 11.5,
            "hybrid.root_login": "yes",
        },
        {
            "hybrid-discovery-pick": ("PARTIAL", "smallest instance type picked by name: t3.micro"),
            "hybrid-root-key-password-off": ("NO", "PermitRootLogin stays yes"),
        },
    ),
}


def outcomes_for(
    guidelines: Sequence[Guideline],
    clouds: Sequence[str],
    target: str | None = None,
    profile_of: Callable[[str], tuple[Profile, Facts, Claims]] | None = None,
) -> tuple[list[compliance.TestOutcome], list[str]]:
    """Outcomes of every selected test on every cloud, and the tests missing from the suite."""
    profile_of = profile_of or (lambda cloud: PROFILES.get(cloud, ({}, {}, {})))
    missing: list[str] = []
    outcomes = []
    for selection in compliance.select(guidelines, target):
        for name, status in selection.statuses.items():
            if status == "removed":
                continue
            for test in selection.guideline.capabilities[name].tests:
                if name == MISSING_CAPABILITY:
                    missing.append(test.name)
                    continue
                for cloud in clouds:
                    changes, facts, claims = profile_of(cloud)
                    outcome, message = changes.get(name, (compliance.PASSED, ""))
                    observed: dict[str, Any] = {}
                    if name.startswith("hybrid-"):
                        observed = dict(facts)
                        if name in claims:
                            answer, why = claims[name]
                            observed |= {"hybrid.result": answer, "hybrid.reason": why}
                    outcomes.append(
                        compliance.TestOutcome(
                            nodeid=f"{test.name}[{cloud}]",
                            cloud=cloud,
                            outcome=outcome,
                            idempotent_id=test.idempotent_id,
                            duration=1.25,
                            message=message,
                            findings=observed,
                            error_kind=compliance.INFRASTRUCTURE
                            if outcome == compliance.ERROR
                            else None,
                            call="PATCH /v2/images/{id}" if outcome == compliance.ERROR else None,
                        )
                    )
    return outcomes, missing


def make_report(
    guideline_dir: Path,
    clouds: Sequence[str] = THREE_CLOUDS,
    target: str | None = None,
    outcomes: Sequence[compliance.TestOutcome] | None = None,
    missing: Sequence[str] | None = None,
) -> dict[str, Any]:
    guidelines = load_guidelines(guideline_dir)
    if outcomes is None:
        outcomes, missing = outcomes_for(guidelines, clouds, target)
    verdicts = compliance.evaluate(
        compliance.select(guidelines, target), clouds, outcomes, missing or ()
    )
    return build_report(
        run_id="20261125T113000-a1b2c3",
        guidelines=guidelines,
        target=target,
        started="2026-11-25T11:30:00+00:00",
        finished="2026-11-25T11:41:07+00:00",
        duration_seconds=667.4,
        interrupted=False,
        verdicts=verdicts,
        identities={
            cloud: {
                "name": cloud,
                "provider": "aws" if "aws" in cloud else "openstack",
                "auth_url": f"http://127.0.0.1:5000/v3#{cloud}",
                "region_name": "RegionOne",
            }
            for cloud in clouds
        },
        resources_used={c: {"created": 14, "deleted": 14, "leaked": 0} for c in clouds},
        outcomes=outcomes,
        missing=missing or (),
        renamed={},
    )


PRODUCT_YAML = """\
vendor: Example Corp
product: Example Hybrid Cloud
version: "2026.1"
kind: public cloud
contact: interop@example.com
regions: [RegionOne]
clouds:
  reference: embedded reference cloud, default profile
tested_configuration:
  hypervisor: KVM (QEMU 8.2)
  storage: {block: Ceph RBD 18.2, object: Swift 2.33}
  network: {ml2: OVN 24.03, public_addresses: floating IPs}
  images:
    - {name: ubuntu-24.04, os: Ubuntu 24.04, login: ubuntu}
"""


KEY_KINDS = ("ed25519", "ecdsa", "rsa")


def write_private_key(path: Path, kind: str, passphrase: bytes | None = None) -> Path:
    """A fresh OpenSSH private key of ``kind`` at ``path`` and its ``.pub`` beside it."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    if kind == "ed25519":
        key: Any = ed25519.Ed25519PrivateKey.generate()
    elif kind == "ecdsa":
        key = ec.generate_private_key(ec.SECP256R1())
    elif kind == "rsa":
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    else:
        raise ValueError(kind)
    encryption = (
        serialization.BestAvailableEncryption(passphrase)
        if passphrase
        else serialization.NoEncryption()
    )
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, encryption
        )
    )
    path.chmod(0o600)
    public = key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    path.with_name(path.name + ".pub").write_bytes(public + b" test-key\n")
    return path
