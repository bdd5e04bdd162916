"""A reboot boots the guest again: it lasts as long as a boot, not as a quick state change."""

from __future__ import annotations

import time

from pytest_interop.reference import ReferenceCloud
from tests.functional.reference.conftest import boot, connect


def test_hard_reboot_takes_a_boot_time():
    with ReferenceCloud(
        "default", boot_delay=0.6, action_delay=0.02, delete_delay=0.0, machines=False
    ) as cloud:
        conn = connect(cloud.cloud_config())
        server = boot(conn, "reboot-pace")
        started = time.monotonic()
        conn.compute.reboot_server(server, "HARD")
        time.sleep(0.3)
        assert conn.compute.get_server(server.id).status == "HARD_REBOOT"
        while conn.compute.get_server(server.id).status != "ACTIVE":
            assert time.monotonic() - started < 10
            time.sleep(0.05)
        assert time.monotonic() - started >= 0.6
        conn.compute.delete_server(server)
