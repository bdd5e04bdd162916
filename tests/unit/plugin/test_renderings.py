"""A guideline run writes the HTML page and a signed submission bundle when asked."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pytest_interop.submission.product import PRODUCT_TEMPLATE
from pytest_interop.submission.verify import verify_submission


@pytest.fixture
def vendor_key(tmp_path):
    key = Ed25519PrivateKey.generate()
    path = tmp_path / "vendor_ed25519"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.OpenSSH,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)
    return path


def test_html_page_is_written_beside_the_report(synth):
    result = synth.runpytest("--guideline=2099.01", "--cloud=memory:ok", "--interop-html=r.html")
    assert result.ret == 0
    page = (synth.path / "r.html").read_text()
    assert "cap-create" in page and "memory:ok" in page
    result.stdout.fnmatch_lines(["html: r.html"])


def test_submission_bundle_verifies(synth, vendor_key, tmp_path):
    product = tmp_path / "product.yaml"
    product.write_text(PRODUCT_TEMPLATE)
    result = synth.runpytest(
        "--guideline=2099.01",
        "--cloud=memory:ok",
        "--submission=bundle",
        f"--submission-key={vendor_key}",
        f"--submission-product={product}",
        "--junitxml=junit.xml",
    )
    assert result.ret == 0, result.stdout.str()
    bundle = synth.path / "bundle"
    assert (bundle / "junit.xml").read_text() == (synth.path / "junit.xml").read_text()
    verified = verify_submission(bundle, guideline_dirs=[synth.path / "guidelines"])
    assert verified.ok, verified.lines()


def test_submission_needs_key_and_product_before_any_test_runs(synth):
    result = synth.runpytest_subprocess("--guideline=2099.01", "--submission=bundle")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --submission needs --submission-key*"])


def test_a_bad_key_stops_the_run_before_collection(synth, tmp_path):
    bad = tmp_path / "key"
    bad.write_text("not a key")
    product = tmp_path / "product.yaml"
    product.write_text(PRODUCT_TEMPLATE)
    result = synth.runpytest_subprocess(
        "--guideline=2099.01",
        "--submission=bundle",
        f"--submission-key={bad}",
        f"--submission-product={product}",
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "Traceback" not in result.stderr.str()
    assert not (synth.path / "bundle").exists()
