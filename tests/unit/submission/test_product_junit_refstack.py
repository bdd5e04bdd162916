from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
import yaml

from pytest_interop import compliance
from pytest_interop.errors import ConfigurationError
from pytest_interop.redaction import Redactor
from pytest_interop.report.refstack import refstack_upload, write_refstack
from pytest_interop.submission.bundle import redact_log
from pytest_interop.submission.junit import junit_xml
from pytest_interop.submission.product import PRODUCT_TEMPLATE, load_product, validate_product
from tests.functional.submission.sample_runs import PRODUCT_YAML, make_report, write_guidelines


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    return make_report(write_guidelines(tmp_path_factory.mktemp("g")))


def test_template_and_sample_declarations_are_valid():
    assert validate_product(yaml.safe_load(PRODUCT_TEMPLATE)) == []
    assert validate_product(yaml.safe_load(PRODUCT_YAML)) == []


@pytest.mark.parametrize(
    ("edit", "complaint"),
    [
        (lambda p: p.pop("vendor"), "'vendor' is a required property"),
        (lambda p: p["tested_configuration"].pop("hypervisor"), "'hypervisor' is a required"),
        (lambda p: p["tested_configuration"].update(images=[]), "images"),
        (lambda p: p.update(kind="spaceship"), "kind"),
        (lambda p: p.update(regions=[]), "regions"),
    ],
)
def test_incomplete_declarations_name_the_field(edit, complaint, tmp_path):
    product = yaml.safe_load(PRODUCT_YAML)
    edit(product)
    assert any(complaint in problem for problem in validate_product(product))
    path = tmp_path / "product.yaml"
    path.write_text(yaml.safe_dump(product))
    with pytest.raises(ConfigurationError, match=r"product\.yaml"):
        load_product(path)


def test_invalid_yaml_names_the_line(tmp_path):
    path = tmp_path / "product.yaml"
    path.write_text("vendor: [unclosed\n")
    with pytest.raises(ConfigurationError, match=r"product\.yaml:\d+:\d+: invalid YAML"):
        load_product(path)


def test_junit_has_one_suite_per_cloud_and_counts_outcomes(report):
    root = ET.fromstring(junit_xml(report))
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert list(suites) == [
        "interop[reference]",
        "interop[reference:floating-ip]",
        "interop[reference-aws]",
    ]
    aws = suites["interop[reference-aws]"]
    per_cloud = sum(1 for o in report["outcomes"] if o["cloud"] == "reference-aws")
    assert aws.get("tests") == str(per_cloud)
    assert (aws.get("failures"), aws.get("errors"), aws.get("skipped")) == ("1", "1", "1")
    failure = next(c for c in aws.iter("testcase") if c.find("failure") is not None)
    assert failure.get("name").endswith("[reference-aws]")
    assert "permitrootlogin yes" in failure.find("failure").text
    error = aws.find(".//error")
    assert error.get("type") == compliance.INFRASTRUCTURE


def test_refstack_upload_lists_passed_tests_only(report):
    upload = refstack_upload(report, cloud="reference-aws", cpid="0123abcd")
    assert set(upload) == {"cpid", "duration_seconds", "results"}
    assert upload["cpid"] == "0123abcd"
    assert upload["duration_seconds"] == 667
    names = {r["name"] for r in upload["results"]}
    passed = {
        compliance.TestOutcome.from_dict(o).test_name
        for o in report["outcomes"]
        if o["cloud"] == "reference-aws" and o["outcome"] == "passed"
    }
    assert names == passed
    assert not any("hybrid_root_key_password_off" in n for n in names)
    assert not any("compute_servers_lock" in n for n in names)  # not applicable is no pass
    assert all(set(r) == {"name", "uuid"} for r in upload["results"])


def test_refstack_needs_a_cloud_when_there_are_several_and_derives_cpid(report, tmp_path):
    with pytest.raises(ConfigurationError, match="--cloud"):
        refstack_upload(report)
    with pytest.raises(ConfigurationError, match="not in the report"):
        refstack_upload(report, cloud="elsewhere")
    path = write_refstack(tmp_path / "up.json", report, cloud="reference")
    data = json.loads(path.read_text())
    assert len(data["cpid"]) == 32  # md5 of the identity endpoint, as refstack-client did


def test_log_redaction_masks_known_and_look_alike_secrets():
    text = (
        "auth with hunter2-long-secret ok\n"
        'headers {"X-Auth-Token": "gAAAAAB123"}\n'
        "aws_secret_access_key = AKIAabcdef123\n"
        "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n"
        "3 passed\n"
    )
    masked = redact_log(text, Redactor(["hunter2-long-secret"]))
    for secret in ("hunter2-long-secret", "gAAAAAB123", "AKIAabcdef123", "MIIE"):
        assert secret not in masked
    assert "3 passed" in masked
