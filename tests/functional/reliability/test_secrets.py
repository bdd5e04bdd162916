"""A full guideline run with known secrets, and every output it writes scanned for them.

Secrets: the clouds.yaml password (and the peer and admin passwords beside it), an
application-credential secret in the clouds.yaml entry, the reference AWS endpoint's secret
key, every token the cloud issued, the private keys the run generated, and the vendor's
signing key. Outputs: the JSON report, the HTML page, JUnit XML, a DEBUG log file, the
terminal output (with DEBUG logs captured into failing tests' sections) and the submission
bundle.
"""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

from pytest_interop.nodes import generate_keypair

from .conftest import GUIDELINE_ID, SMALL_SUITE, load_report, run_pytest, write_suite

APP_CREDENTIAL_SECRET = "appcred-SECRET-7f3b9c1d2e4a6b8c"

# The controller writes the secrets only it knows (the embedded AWS endpoint's key) and each
# test its private key to a directory the scan leaves out, so the outer test knows them.
RECORDING_CONFTEST = '''
import logging
import os
import pathlib

import pytest

from pytest_interop.run import RUN_KEY

SEEN = pathlib.Path(os.environ["SECRETS_SEEN"])


def pytest_sessionstart(session):
    run = session.config.stash.get(RUN_KEY, None)
    if run is None:
        return
    for spec in run.specs.values():
        key = spec.settings.get("aws_secret_access_key")
        if key:
            (SEEN / f"aws-{spec.name}").write_text(key)


@pytest.fixture(autouse=True)
def log_the_cloud_settings(request):
    """What a test author debugging a cloud might do: the SDK's whole config, at DEBUG."""
    if "cloud" in request.fixturenames:
        cloud = request.getfixturevalue("cloud")
        config = getattr(getattr(cloud.native, "config", None), "config", None)
        logging.getLogger("suite").debug("cloud settings: %s", config or vars(cloud))


@pytest.fixture(autouse=True)
def record_private_key(request):
    if "server" in request.fixturenames:
        server = request.getfixturevalue("server")
        path = pathlib.Path(server.keypair.private_key_path)
        (SEEN / f"key-{server.keypair.name}").write_text(path.read_text())
'''


def private_key_lines(text: str) -> list[str]:
    """The base64 body of a PEM/OpenSSH private key: what must never be seen."""
    return [line for line in text.splitlines() if line and not line.startswith("-----")]


def test_no_output_of_a_run_holds_a_secret(pytester, outside, tmp_path):
    write_suite(pytester.path, SMALL_SUITE)
    (pytester.path / "conftest.py").write_text(RECORDING_CONFTEST)
    seen = tmp_path / "seen"
    seen.mkdir()
    cloud = outside()
    config = cloud.cloud.cloud_config(cloud.name)
    # beside the password: an application credential, in the settings and in a sibling cloud
    config["interop"]["application_credential_secret"] = APP_CREDENTIAL_SECRET
    sibling = {
        "auth_type": "v3applicationcredential",
        "auth": {
            "auth_url": config["auth"]["auth_url"],
            "application_credential_id": "0123456789abcdef",
            "application_credential_secret": APP_CREDENTIAL_SECRET,
        },
    }
    cloud.write_config(config, sibling=sibling)
    tokens: list[str] = []
    issue = cloud.cloud.state.identity.issue_token

    def issue_token(auth):
        token = issue(auth)
        tokens.append(token.id)
        return token

    cloud.cloud.state.identity.issue_token = issue_token
    signing_key, _ = generate_keypair(tmp_path)
    product = pytester.path / "product.yaml"
    product.write_text(
        subprocess.run(
            [sys.executable, "-m", "pytest_interop.cli", "submission", "product-template"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    out = pytester.path / "out"
    result = run_pytest(
        pytester.path,
        cloud.env(SECRETS_SEEN=str(seen)),
        f"--guideline={GUIDELINE_ID}",
        f"--cloud={cloud.name}",
        "--cloud=reference-aws",
        "-v",
        "-rA",
        "--log-level=DEBUG",
        f"--log-file={out}/run.log",
        "--log-file-level=DEBUG",
        f"--junitxml={out}/junit.xml",
        f"--interop-report={out}/report.json",
        f"--interop-html={out}/report.html",
        f"--submission={out}/bundle",
        f"--submission-key={signing_key}",
        f"--submission-product={product}",
    )
    assert (out / "report.json").exists(), result.stdout[-3000:] + result.stderr[-3000:]
    report = load_report(out, "report.json")
    verdicts = {c["name"]: c["verdict"] for c in report["clouds"]}
    assert verdicts == {"outside": "compliant", "reference-aws": "compliant"}, (
        result.stdout[-3000:] + result.stderr[-3000:]
    )

    secrets = {
        "password": config["auth"]["password"],
        "peer password": config["interop"]["peer_auth"]["password"],
        "admin password": config["interop"]["admin_auth"]["password"],
        "application credential secret": APP_CREDENTIAL_SECRET,
        "aws secret key": (seen / "aws-reference-aws").read_text(),
    }
    for n, token in enumerate(tokens):
        secrets[f"token {n}"] = token
    keys = sorted(seen.glob("key-*"))
    assert len(keys) >= 2 * 3  # the three server tests on both clouds
    for key in keys:
        for n, line in enumerate(private_key_lines(key.read_text())):
            secrets[f"{key.name} line {n}"] = line
    for n, line in enumerate(private_key_lines(signing_key.read_text())):
        secrets[f"signing key line {n}"] = line
    assert len(tokens) >= 2

    outputs = {"stdout": result.stdout, "stderr": result.stderr}
    files = [p for p in out.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"run.log", "junit.xml", "report.json", "report.html"}
    assert any("bundle" in p.parts for p in files)
    for path in files:
        outputs[str(path.relative_to(out))] = path.read_bytes().decode("utf-8", "replace")
    assert "keystoneauth" in outputs["run.log"]  # the SDKs' DEBUG logs are in it
    leaks = [
        f"{what} in {where}"
        for where, text in outputs.items()
        for what, secret in secrets.items()
        if secret in text
    ]
    assert leaks == []


def test_generated_private_keys_are_0600_and_gone_after_the_run(pytester, outside, tmp_path):
    suite = (
        SMALL_SUITE
        + """

import os, stat, pathlib

def test_private_key_is_private(keypair):
    path = pathlib.Path(keypair.private_key_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    (pathlib.Path(os.environ["SECRETS_SEEN"]) / "key-path").write_text(str(path))
"""
    )
    write_suite(pytester.path, suite)
    seen = tmp_path / "seen"
    seen.mkdir()
    cloud = outside()
    result = run_pytest(
        pytester.path,
        cloud.env(SECRETS_SEEN=str(seen)),
        f"--cloud={cloud.name}",
        "-k",
        "private_key",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    key_path = Path((seen / "key-path").read_text())
    assert not key_path.exists()
    assert not key_path.parent.exists()
    assert stat.S_ISDIR((tmp_path).stat().st_mode)
