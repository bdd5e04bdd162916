"""The NoCloud seed: a `cidata` ISO whose meta-data and user-data are what cloud-init reads."""

from __future__ import annotations

import base64
import shutil
import subprocess

import pytest
import yaml

from pytest_interop.reference.vm.seed import EMPTY_USER_DATA, decode_user_data, write_seed

pytestmark = pytest.mark.skipif(
    not (shutil.which("genisoimage") and shutil.which("isoinfo")),
    reason="needs genisoimage (apt-get install genisoimage)",
)


def _extract(iso, name: str) -> str:
    done = subprocess.run(
        ["isoinfo", "-i", str(iso), "-J", "-x", f"/{name}"], capture_output=True, check=True
    )
    return done.stdout.decode()


def test_the_seed_carries_instance_host_keys_and_user_data(tmp_path):
    script = "#!/bin/sh\necho hello > /run/marker\n"
    iso = write_seed(
        tmp_path / "seed.iso",
        instance_id="0d7c1e2a-server",
        hostname="web-1",
        public_keys=["ssh-ed25519 AAAAC3Nza-example user@host"],
        user_data=base64.b64encode(script.encode()).decode(),  # as Nova takes it
    )
    volume = subprocess.run(["isoinfo", "-d", "-i", str(iso)], capture_output=True, text=True)
    assert "Volume id: cidata" in volume.stdout
    meta = yaml.safe_load(_extract(iso, "meta-data"))
    assert meta == {
        "instance-id": "0d7c1e2a-server",
        "local-hostname": "web-1",
        "public-keys": ["ssh-ed25519 AAAAC3Nza-example user@host"],
    }
    assert _extract(iso, "user-data") == script


def test_no_user_data_is_an_empty_cloud_config_and_raw_text_passes_as_is(tmp_path):
    assert decode_user_data(None) == EMPTY_USER_DATA.encode()
    assert decode_user_data("#cloud-config\n{}") == b"#cloud-config\n{}"  # not base64
    iso = write_seed(tmp_path / "s.iso", instance_id="i", hostname="h", public_keys=[])
    assert _extract(iso, "user-data") == EMPTY_USER_DATA
    assert "public-keys" not in yaml.safe_load(_extract(iso, "meta-data"))
