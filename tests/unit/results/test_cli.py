"""``interop results migrate | keys`` and ``interop submission upload``'s errors, in-process."""

from __future__ import annotations

import pytest

from pytest_interop.cli import main
from tests.functional.submission.sample_runs import write_private_key


@pytest.mark.idempotent_id("b7c0d2e4-6f8a-4b1c-9d3e-5f7a9b1c3d64")
def test_keys_add_list_revoke_and_migrate(tmp_path, capsys):
    database = str(tmp_path / "r.sqlite")
    key = write_private_key(tmp_path / "vendor", "ed25519")
    assert main(["results", "migrate", "--db", database]) == 0
    assert "schema at revision 0001" in capsys.readouterr().out
    assert main(["results", "keys", "add", f"{key}.pub", "--vendor", "V", "--db", database]) == 0
    fingerprint = capsys.readouterr().out.split()[1]
    assert fingerprint.startswith("SHA256:")
    assert main(["results", "keys", "add", f"{key}.pub", "--vendor", "V", "--db", database]) == 2
    assert "registered already" in capsys.readouterr().err
    assert (
        main(["results", "keys", "revoke", fingerprint, "--reason", "lost", "--db", database]) == 0
    )
    assert main(["results", "keys", "list", "--db", database]) == 0
    assert f"{fingerprint}  V  revoked" in capsys.readouterr().out
    assert (
        main(["results", "keys", "revoke", "SHA256:nope", "--reason", "x", "--db", database]) == 2
    )
    assert "no registered key SHA256:nope" in capsys.readouterr().err


@pytest.mark.idempotent_id("d9e1f3a5-7b9c-4d2e-8f0a-6b8c0d2e4f75")
def test_bad_input_is_one_clear_error(tmp_path, capsys):
    (tmp_path / "not.pub").write_text("hello\n")
    assert main(["results", "keys", "add", str(tmp_path / "not.pub"), "--vendor", "V",
                 "--db", str(tmp_path / "r.sqlite")]) == 2  # fmt: skip
    assert "not an OpenSSH public key line" in capsys.readouterr().err
    assert main(["submission", "upload", str(tmp_path), "--to", "http://127.0.0.1:9"]) == 2
    assert "not a submission bundle (no MANIFEST)" in capsys.readouterr().err
    (tmp_path / "MANIFEST").write_text("")
    assert main(["submission", "upload", str(tmp_path), "--to", "ftp://x"]) == 2
    assert "give the service's http:// or https:// URL" in capsys.readouterr().err
    assert main(["submission", "upload", str(tmp_path), "--to", "http://127.0.0.1:9"]) == 2
    assert "cannot reach the results service" in capsys.readouterr().err
    assert main(["results", "migrate", "--db", "postgresql://u:hunter2@127.0.0.1:9/x"]) == 2
    err = capsys.readouterr().err
    assert "cannot open or migrate" in err and "hunter2" not in err


@pytest.mark.idempotent_id("5c2e7a91-3d4b-4f6e-8a0c-9b1d3e5f7a86")
def test_the_wsgi_factory_reads_its_settings_from_the_environment(tmp_path, monkeypatch):
    from pytest_interop.results.app import from_environment

    monkeypatch.setenv("INTEROP_RESULTS_DB", str(tmp_path / "w.sqlite"))
    monkeypatch.setenv("INTEROP_RESULTS_REVIEWER_TOKEN", "a-reviewer-token-of-length")
    monkeypatch.setenv("INTEROP_RESULTS_MAX_UPLOAD_MB", "1")
    client = from_environment().test_client()
    assert client.get("/healthz").get_json()["schema"] == "0001"
    assert client.post("/api/v1/keys", json={}).status_code == 401
    answer = client.post("/api/v1/submissions", data=b"x" * (2 * 1024 * 1024))
    assert answer.status_code == 413 and "limit of 1048576 bytes" in answer.get_json()["error"]
    assert (tmp_path / "w.sqlite").is_file()
