"""The run's guards, one at a time: log redaction, SIGTERM as an interrupt, a clean-up
stopped by a second interrupt, clouds.yaml syntax errors, secrets from clouds.yaml entries."""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal

import pytest
import yaml

from pytest_interop.clouds.registry import CloudSpec, _yaml_problem, secret_bearing_settings
from pytest_interop.plugin import install_sigterm_as_interrupt
from pytest_interop.redaction import Redactor, install_log_redaction
from pytest_interop.reference.faults import FaultSettings
from pytest_interop.resources import ResourceLedger
from pytest_interop.run import InteropRun, RunSettings

SECRET = "hunter2-but-longer"


@pytest.fixture
def redacted_logs():
    undo = install_log_redaction(Redactor([SECRET]))
    yield
    undo()


def test_log_records_are_masked_in_message_args_and_exceptions(redacted_logs, caplog):
    log = logging.getLogger("keystoneauth.session")
    with caplog.at_level(logging.DEBUG):
        log.debug("REQ: %s", {"password": SECRET})
        try:
            raise ValueError(f"bad {SECRET}")
        except ValueError:
            log.exception("failed")
    assert SECRET not in caplog.text
    assert "'password': '***'" in caplog.text
    assert "ValueError: bad ***" in caplog.text


def test_log_redaction_undo_restores_the_factory():
    before = logging.getLogRecordFactory()
    undo = install_log_redaction(Redactor([SECRET]))
    assert logging.getLogRecordFactory() is not before
    undo()
    assert logging.getLogRecordFactory() is before


def test_records_without_secrets_are_left_alone(redacted_logs):
    record = logging.getLogRecordFactory()("x", logging.INFO, __file__, 1, "a %s", ("b",), None)
    assert (record.msg, record.args) == ("a %s", ("b",))


def test_sigterm_becomes_keyboard_interrupt_and_undo_restores_it():
    before = signal.getsignal(signal.SIGTERM)
    undo = install_sigterm_as_interrupt()
    try:
        with pytest.raises(KeyboardInterrupt, match="SIGTERM"):
            os.kill(os.getpid(), signal.SIGTERM)  # the handler runs before the next line
    finally:
        undo()
    assert signal.getsignal(signal.SIGTERM) == before


class InterruptedCloud:
    """An adapter whose clean-up is interrupted by a second Ctrl-C."""

    def __init__(self, ledger: ResourceLedger) -> None:
        self.ledger = ledger
        self.closed = False

    def cleanup_run(self):
        raise KeyboardInterrupt

    def close(self) -> None:
        self.closed = True


def test_a_second_interrupt_stops_the_clean_up_and_counts_what_is_left(tmp_path):
    settings = RunSettings("r1", [], [], None, [], str(tmp_path))
    run = InteropRun(settings, [], [], [CloudSpec("c1", "memory"), CloudSpec("c2", "memory")])
    clouds = {}
    for name in ("c1", "c2"):
        ledger = ResourceLedger("r1", name, tmp_path / f"{name}.jsonl")
        record = ledger.intend("server", f"interop-r1-server-{name}")
        ledger.record_created(record, f"id-{name}")
        clouds[name] = InterruptedCloud(ledger)
    run._connected.update(clouds)
    totals = run.release_clouds()
    assert run.cleanup_interrupted is True
    assert totals == {
        "c1": {"created": 1, "deleted": 0, "leaked": 0, "left": 1},
        "c2": {"created": 1, "deleted": 0, "leaked": 0, "left": 1},
    }
    assert all(cloud.closed for cloud in clouds.values())


def test_yaml_problem_names_the_line(tmp_path):
    bad = tmp_path / "clouds.yaml"
    bad.write_text("clouds:\n  a:\n    auth: {x: [\n")
    assert _yaml_problem(bad).startswith("line ")
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump({"clouds": {}}))
    assert _yaml_problem(good) is None
    assert _yaml_problem(tmp_path / "absent.yaml") is None


def test_secrets_of_a_clouds_yaml_entry_reach_the_run_redactor(tmp_path, monkeypatch):
    config = {
        "clouds": {
            "mine": {
                "auth": {
                    "auth_url": "http://127.0.0.1:9/identity/v3",
                    "username": "u",
                    "password": SECRET,
                    "project_name": "p",
                    "user_domain_name": "Default",
                    "project_domain_name": "Default",
                },
                "region_name": "RegionOne",
            }
        }
    }
    path = tmp_path / "clouds.yaml"
    path.write_text(yaml.safe_dump(config))
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(path))
    spec = CloudSpec("mine", "openstack", {"cloud": "mine"})
    redactor = Redactor.from_settings(secret_bearing_settings(spec))
    assert redactor(f"auth failed for {SECRET}") == "auth failed for ***"


def test_token_lifetime_knob_is_validated():
    assert FaultSettings(token_lifetime=0.5).token_lifetime == 0.5
    with pytest.raises(ValueError, match="token_lifetime"):
        FaultSettings(token_lifetime=-1)


def test_tokens_are_cut_short_by_the_knob_but_advertise_keystones_lifetime():
    from pytest_interop.reference import ReferenceCloud

    cloud = ReferenceCloud(machines=False, token_lifetime=60)
    cloud.start()
    try:
        identity = cloud.state.identity
        auth = {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {
                        "name": "demo",
                        "domain": {"id": "default"},
                        "password": cloud.cloud_config()["auth"]["password"],
                    }
                },
            }
        }
        token = identity.issue_token(auth)
        assert token.expires_at - token.issued_at > dt.timedelta(hours=1)
        assert identity.validate_token(token.id) is token
        token.issued_at -= dt.timedelta(seconds=61)  # a minute later
        assert identity.validate_token(token.id) is None
    finally:
        cloud.stop()
