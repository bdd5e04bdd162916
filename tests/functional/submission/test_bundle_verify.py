"""Sign a bundle, verify it, then tamper with it every way a submitter or a mishap could."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from pytest_interop import cli
from pytest_interop.errors import ConfigurationError
from pytest_interop.submission import create_submission, verify_submission
from pytest_interop.submission.bundle import PRODUCT_NAME, REPORT_NAME, SIGNER_NAME
from pytest_interop.submission.manifest import (
    MANIFEST_NAME,
    SIGNATURE_NAME,
    compute_digests,
    render_manifest,
)
from pytest_interop.submission.signing import PublicKey, load_private_key, sign

BUNDLED_FILES = (
    "report.json",
    "junit.xml",
    "product.yaml",
    "run.log",
    "signer.pub",
    "guidelines/2017.01.json",
    "guidelines/hybrid.2017.01.json",
)


def failing(result) -> dict[str, list[str]]:
    return {c.name: c.details for c in result.checks if not c.ok}


@pytest.fixture
def bundle(tmp_path, report_file, product_file, run_log, keys, published) -> Path:
    return create_submission(
        report_file,
        tmp_path / "bundle",
        keys["ed25519"],
        product_file,
        log_path=run_log,
        guideline_dirs=[published],
    )


@pytest.mark.parametrize("kind", ["ed25519", "ecdsa", "rsa"])
def test_bundle_signed_with_each_key_type_verifies_and_every_tampered_file_is_named(
    kind, tmp_path, report_file, product_file, run_log, keys, published
):
    original = create_submission(
        report_file,
        tmp_path / "bundle",
        keys[kind],
        product_file,
        log_path=run_log,
        guideline_dirs=[published],
    )
    assert sorted(p.relative_to(original).as_posix() for p in original.rglob("*.*")) == sorted(
        [*BUNDLED_FILES, SIGNATURE_NAME]
    )
    public = Path(f"{keys[kind]}.pub")
    result = verify_submission(original, public, [published])
    assert result.ok, result.lines()
    assert result.signer_fingerprint == PublicKey.from_path(public).fingerprint
    assert result.verdicts == {
        "reference": "compliant",
        "reference:floating-ip": "not compliant",
        "reference-aws": "not compliant",
    }

    for name in (*BUNDLED_FILES, MANIFEST_NAME, SIGNATURE_NAME):
        copy = tmp_path / f"tampered-{name.replace('/', '_')}"
        shutil.copytree(original, copy)
        target = copy / name
        data = bytearray(target.read_bytes())
        data[len(data) // 2] ^= 0x01  # one bit of one byte
        target.write_bytes(bytes(data))
        result = verify_submission(copy, public, [published])
        assert not result.ok, name
        assert any(name in detail for details in failing(result).values() for detail in details), (
            name,
            result.lines(),
        )


def test_added_and_removed_files_are_named(bundle, keys, published):
    (bundle / "extra.txt").write_text("not part of the submission\n")
    result = verify_submission(bundle, None, [published])
    assert failing(result)["digests"] == ["extra.txt: not listed in MANIFEST (file added)"]

    (bundle / "extra.txt").unlink()
    (bundle / "run.log").unlink()
    result = verify_submission(bundle, None, [published])
    assert failing(result)["digests"] == ["run.log: listed in MANIFEST but missing"]


def _claim_compliance(report: dict) -> None:
    """What a submitter might edit: every cloud's summary says compliant."""
    for cloud in report["clouds"]:
        cloud["verdict"] = "compliant"
        cloud["required"]["passed"] = cloud["required"]["total"]
        for capability in cloud["capabilities"]:
            if capability["counted"]:
                capability["result"] = "passed"
                for test in capability["tests"]:
                    test["result"] = "passed"


def _resign(bundle: Path, key_path: Path) -> None:
    key = load_private_key(key_path)
    (bundle / SIGNER_NAME).write_text(PublicKey.from_pkey(key).openssh_line() + "\n")
    manifest = render_manifest(compute_digests(bundle))
    (bundle / MANIFEST_NAME).write_text(manifest)
    (bundle / SIGNATURE_NAME).write_text(sign(manifest.encode(), key))


@pytest.mark.parametrize("signer", ["vendor", "intruder"])
def test_summary_edited_to_claim_compliance_and_resigned_is_caught_by_recomputation(
    signer, bundle, keys, intruder_key, published
):
    report = json.loads((bundle / REPORT_NAME).read_text())
    _claim_compliance(report)
    (bundle / REPORT_NAME).write_text(json.dumps(report, indent=2))
    _resign(bundle, keys["ed25519"] if signer == "vendor" else intruder_key)

    result = verify_submission(bundle, None, [published])
    problems = failing(result)
    assert set(problems) == {"verdicts"}, result.lines()  # digests and signature hold
    assert (
        "report.json: cloud reference-aws: report says 'compliant', recomputed 'not compliant'"
        in problems["verdicts"]
    )
    assert any(
        "capability hybrid-node-public-address result: report says 'passed', recomputed 'failed'"
        in line
        for line in problems["verdicts"]
    )
    assert result.verdicts["reference:floating-ip"] == "not compliant"

    with_key = verify_submission(bundle, Path(f"{keys['ed25519']}.pub"), [published])
    assert ("signature" in failing(with_key)) == (signer == "intruder")


def test_verify_with_a_different_key_fails(bundle, intruder_key, published):
    result = verify_submission(bundle, Path(f"{intruder_key}.pub"), [published])
    assert set(failing(result)) == {"signature"}
    assert "not by the given key" in failing(result)["signature"][0]


def test_a_bundled_guideline_that_is_not_the_published_one_fails(bundle, published, tmp_path):
    other = tmp_path / "other-published"
    shutil.copytree(published, other)
    path = other / "2017.01.json"
    data = json.loads(path.read_text())
    data["metadata"]["source"] = "edited after publication"
    path.write_text(json.dumps(data, indent=2))
    result = verify_submission(bundle, None, [other])
    assert failing(result)["guidelines"] == [
        f"guidelines/2017.01.json: differs from the published {path}"
    ]
    assert "verdicts" in failing(result)


def test_summary_and_bundled_guideline_edited_together_are_caught(bundle, keys, published):
    """Dropping a failing capability from the bundled guideline (and the report's hash of it)
    makes the recomputation agree, so the published-guideline check must catch it."""
    guideline = bundle / "guidelines/hybrid.2017.01.json"
    data = json.loads(guideline.read_text())
    statuses = data["components"]["hybrid"]["capabilities"]
    statuses["required"].remove("hybrid-node-public-address")
    statuses["removed"].append("hybrid-node-public-address")
    guideline.write_text(json.dumps(data))
    report = json.loads((bundle / REPORT_NAME).read_text())
    entry = next(g for g in report["guidelines"] if g["id"] == "hybrid.2017.01")
    entry["sha256"] = hashlib.sha256(guideline.read_bytes()).hexdigest()
    (bundle / REPORT_NAME).write_text(json.dumps(report))
    _resign(bundle, keys["ed25519"])
    result = verify_submission(bundle, None, [published])
    assert failing(result)["guidelines"] == [
        "guidelines/hybrid.2017.01.json: differs from the published "
        f"{published / 'add-ons' / 'hybrid.2017.01.json'}"
    ]


def test_create_replaces_an_earlier_bundle_whole(
    bundle, report_file, product_file, keys, published
):
    (bundle / "stale.txt").write_text("left from an earlier bundle")
    again = create_submission(
        report_file, bundle, keys["rsa"], product_file, guideline_dirs=[published]
    )
    assert again == bundle
    assert not (bundle / "stale.txt").exists()
    assert not (bundle / "run.log").exists()
    assert verify_submission(bundle, Path(f"{keys['rsa']}.pub"), [published]).ok
    assert [p.name for p in bundle.parent.iterdir() if p.name.startswith(".")] == []


def test_create_refuses_a_directory_that_is_not_a_bundle(
    tmp_path, report_file, product_file, keys, published
):
    out = tmp_path / "work"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(ConfigurationError, match="not a submission bundle"):
        create_submission(
            report_file, out, keys["ed25519"], product_file, guideline_dirs=[published]
        )
    assert (out / "notes.txt").read_text() == "mine"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_create_refuses_a_guideline_that_differs_from_the_run(
    tmp_path, report_file, product_file, keys
):
    # The repository's own guidelines/ lack the generated tests, so their sha256 differ.
    with pytest.raises(ConfigurationError, match=r"2017\.01\.json: sha256 .* differs"):
        create_submission(
            report_file,
            tmp_path / "b",
            keys["ed25519"],
            product_file,
            guideline_dirs=[Path(__file__).resolve().parents[3] / "pytest_interop" / "guidelines"],
        )
    assert not (tmp_path / "b").exists()


def test_create_refuses_an_incomplete_product_declaration(tmp_path, report_file, keys, published):
    product = tmp_path / "product.yaml"
    product.write_text("vendor: Example\nproduct: Cloud\nversion: '1'\nkind: distribution\n")
    with pytest.raises(ConfigurationError, match="regions"):
        create_submission(
            report_file, tmp_path / "b", keys["ed25519"], product, guideline_dirs=[published]
        )


def test_the_bundled_log_is_redacted(bundle):
    log = (bundle / "run.log").read_text()
    assert "s3cret-Passw0rd" not in log and "gAAAAABlongtokenvalue" not in log
    assert "282 passed" in log


def test_encrypted_key_needs_the_passphrase_variable(
    tmp_path, report_file, product_file, published, monkeypatch
):
    from tests.functional.submission.sample_runs import write_private_key

    key = write_private_key(tmp_path / "locked", "ecdsa", passphrase=b"correct horse")
    monkeypatch.delenv("INTEROP_KEY_PASSPHRASE", raising=False)
    with pytest.raises(ConfigurationError, match="INTEROP_KEY_PASSPHRASE") as failure:
        create_submission(
            report_file, tmp_path / "b", key, product_file, guideline_dirs=[published]
        )
    assert "correct horse" not in str(failure.value)
    monkeypatch.setenv("INTEROP_KEY_PASSPHRASE", "correct horse")
    out = create_submission(
        report_file, tmp_path / "b", key, product_file, guideline_dirs=[published]
    )
    assert verify_submission(out, Path(f"{key}.pub"), [published]).ok


def test_cli_create_verify_and_exit_codes(
    tmp_path, report_file, product_file, run_log, keys, published, capsys
):
    out = tmp_path / "cli-bundle"
    code = cli.main(
        [
            "submission", "create", str(report_file), "--out", str(out),
            "--key", str(keys["ecdsa"]), "--product", str(product_file),
            "--log", str(run_log), "--guideline-dir", str(published),
        ]
    )  # fmt: skip
    assert code == 0 and (out / "MANIFEST.sig").is_file()
    capsys.readouterr()

    verify = ["submission", "verify", str(out), "--guideline-dir", str(published)]
    assert cli.main([*verify, "--key", f"{keys['ecdsa']}.pub"]) == 0
    printed = capsys.readouterr().out
    assert "verified: every check holds" in printed
    assert "reference-aws: not compliant (recomputed from the raw outcomes)" in printed

    (out / PRODUCT_NAME).write_text((out / PRODUCT_NAME).read_text() + "# edited\n")
    assert cli.main(verify) == 1
    printed = capsys.readouterr().out
    assert "product.yaml: sha256 differs from MANIFEST (file changed)" in printed
    assert "NOT VERIFIED" in printed

    assert cli.main(["submission", "verify", str(tmp_path / "nowhere")]) == 1


def test_cli_create_without_product_is_a_usage_error(tmp_path, report_file, keys, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["submission", "create", str(report_file), "--out", str(tmp_path / "b"),
                  "--key", str(keys["ed25519"])])  # fmt: skip
    assert exit_info.value.code == 2
    assert "--product" in capsys.readouterr().err


def test_cli_product_template_is_a_valid_declaration(capsys):
    from pytest_interop.submission.product import parse_product

    assert cli.main(["submission", "product-template"]) == 0
    _, problems = parse_product(capsys.readouterr().out, "template")
    assert problems == []


def test_a_guideline_id_that_is_a_path_is_refused_without_reading_outside(
    bundle, keys, published, tmp_path
):
    outside = tmp_path / "outside.json"
    outside.write_text("{}")
    report = json.loads((bundle / REPORT_NAME).read_text())
    report["guidelines"][0]["id"] = "../../outside"
    (bundle / REPORT_NAME).write_text(json.dumps(report))
    _resign(bundle, keys["ed25519"])
    result = verify_submission(bundle, None, [published])
    assert failing(result)["guidelines"][0] == (
        "report.json: guideline id '../../outside' is not a plain name"
    )
