"""Each capability new in 2020.06 has a test that fails on a reference cloud broken for it.

One reference cloud, broken in eight ways at once (each break touches only what one
capability depends on), runs the new capabilities' must-pass tests in an inner pytest; each
capability must then have a failed test, reported as a failure (not an error or a skip).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from pytest_interop.reference.compute import multiple
from pytest_interop.reference.identity.responses import IdentityResponses
from pytest_interop.reference.machines.volume_disks import decode_disk, encode_disk
from pytest_interop.reference.object import large_objects
from pytest_interop.suite.volume.test_volumes_data import UPLOAD_MARKER

from .conftest import run_pytest

SUITE = "pytest_interop/suite"
# capability -> the node ids (without [cloud]) of which at least one must fail
NEW = {
    "compute-keypairs-create-type": [
        f"{SUITE}/compute/test_keypair_types.py::test_x509_type_key_pair_holds_its_certificate"
    ],
    "compute-servers-create-multiple": [
        f"{SUITE}/compute/test_servers_create_multiple.py::"
        "test_min_max_count_boots_distinct_reachable_servers"
    ],
    "identity-v3-catalog": [
        f"{SUITE}/identity/test_catalog.py::test_catalog_endpoints_answer_a_client"
    ],
    "identity-v3-tokens-validate": [
        f"{SUITE}/identity/test_tokens_validate.py::"
        "test_validated_token_carries_the_scope_it_was_issued_with"
    ],
    "identity-v3-tokens-delete": [
        f"{SUITE}/identity/test_tokens_delete.py::"
        "test_deleted_token_is_refused_by_every_catalog_service"
    ],
    "objectstore-dlo-support": [
        f"{SUITE}/object/test_large_objects.py::test_dlo_manifest_reads_back_as_its_segments_in_order"
    ],
    "objectstore-slo-support": [
        f"{SUITE}/object/test_large_objects.py::test_slo_manifest_reads_back_as_its_segments",
        f"{SUITE}/object/test_large_objects.py::test_slo_refuses_a_segment_with_a_wrong_etag_or_size",
    ],
    "volumes-v3-upload": [
        f"{SUITE}/volume/test_volumes_data.py::"
        "test_v3_image_uploaded_from_a_bootable_volume_boots_and_holds_what_was_written"
    ],
}


def _rewrite_json(response: Any, change: Any) -> Any:
    body = json.loads(response.get_data())
    change(body)
    response.set_data(json.dumps(body))
    return response


def break_identity_responses(monkeypatch: pytest.MonkeyPatch) -> None:
    """Before the cloud starts: its routes bind the responses' methods when it does."""
    # The catalog names a compute endpoint nothing listens at (loopback port 9, discard).
    auth_catalog = IdentityResponses.auth_catalog

    def dead_compute(body: dict) -> None:
        for service in body["catalog"]:
            if service["type"] == "compute":
                for endpoint in service["endpoints"]:
                    endpoint["url"] = "http://127.0.0.1:9/compute/v2.1"

    monkeypatch.setattr(
        IdentityResponses,
        "auth_catalog",
        lambda self, ctx, request: _rewrite_json(auth_catalog(self, ctx, request), dead_compute),
    )
    # Validation loses the token's roles.
    validate = IdentityResponses.validate_token
    monkeypatch.setattr(
        IdentityResponses,
        "validate_token",
        lambda self, ctx, request: _rewrite_json(
            validate(self, ctx, request), lambda body: body["token"].update(roles=[])
        ),
    )


def break_the_models(cloud: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    state = cloud.state
    # Key pair types ignored: every key pair is taken as an SSH key.
    create_keypair = state.compute.create_keypair
    monkeypatch.setattr(
        state.compute,
        "create_keypair",
        lambda ctx, body, *a, **k: create_keypair(ctx, {**body, "type": "ssh"}, *a, **k),
    )
    # Multiple create boots one server whatever min_count says.
    monkeypatch.setattr(
        multiple,
        "create_servers",
        lambda model, ctx, body: [
            model.create_server(
                ctx, {k: v for k, v in body.items() if k not in ("min_count", "max_count")}
            )
        ],
    )
    # Deleting a token answers 204 and forgets nothing.
    monkeypatch.setattr(state.identity, "revoke_token", lambda token_id: True)
    # Manifests read back as the manifest object itself; SLO segments are not checked.
    monkeypatch.setattr(
        large_objects, "assemble", lambda model, caller, account, stored: (stored.data, '"x"')
    )
    monkeypatch.setattr(
        large_objects,
        "parse_slo_manifest",
        lambda model, caller, account, body: [
            {"container": "", "name": "", "etag": str(e.get("etag"))} for e in json.loads(body)
        ],
    )
    # A volume uploaded to an image loses the files written to it (the rest of its bytes stay).
    upload = state.image.upload

    def forgetful_upload(ctx: Any, ident: str, data: bytes) -> None:
        files = decode_disk(data)
        if files is not None:
            files.pop(UPLOAD_MARKER, None)
            data = encode_disk(files)
        upload(ctx, ident, data)

    monkeypatch.setattr(state.image, "upload", forgetful_upload)


def test_each_new_capability_fails_on_a_cloud_broken_for_it(outside, tmp_path, monkeypatch):
    break_identity_responses(monkeypatch)
    broken = outside()
    break_the_models(broken.cloud, monkeypatch)
    junit = tmp_path / "junit.xml"
    node_ids = sorted({n for names in NEW.values() for n in names})
    result = run_pytest(
        tmp_path,
        broken.env(),
        "--rootdir",
        str(_project_root()),
        "-p",
        "no:cacheprovider",
        "-p",
        "no:randomly",
        f"--cloud={broken.name}",
        f"--junitxml={junit}",
        *(f"{_project_root()}/{n}" for n in node_ids),
    )
    outcomes = _outcomes(junit)
    for capability, names in NEW.items():
        failed = [n for n in names if outcomes.get(n) == "failed"]
        assert failed, (
            f"{capability}: no test failed on the broken cloud: {outcomes}\n{result.stdout[-3000:]}"
        )
    assert broken.leaked() == {}, "the failing tests left resources behind"


def _project_root():
    from pathlib import Path

    return Path(__file__).resolve().parents[3]


def _outcomes(junit) -> dict[str, str]:
    """node id without [cloud] -> passed | failed | error | skipped."""
    out = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        path = case.get("classname", "").replace(".", "/")
        name = case.get("name", "").split("[", 1)[0]
        kind = "passed"
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                kind = {"failure": "failed"}.get(child.tag, child.tag)
        out[f"{path}.py::{name}"] = kind
    return out
