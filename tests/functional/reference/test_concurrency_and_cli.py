"""50 concurrent openstacksdk clients; the ``interop reference`` commands."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

from tests.functional.reference.conftest import boot, connect

ROOT = Path(__file__).resolve().parents[3]


def test_fifty_concurrent_clients(cloud, conn, admin_conn):
    admin_conn.compute.update_quota_set(
        conn.current_project_id, instances=100, cores=100, ram=512000
    )

    def client(index: int) -> tuple[int, int]:
        conn = connect(cloud.cloud_config())
        try:
            server = boot(conn, f"concurrent-{index}", wait=False)
            seen = sum(1 for _ in conn.compute.servers(details=True))
            conn.compute.delete_server(server)
            return index, seen
        finally:
            conn.close()

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(client, range(50)))
    assert sorted(index for index, _ in results) == list(range(50))
    assert all(seen >= 1 for _, seen in results)
    assert cloud.counters()["api_calls"]["compute POST /compute/v2.1/servers"] >= 50


def test_profiles_command_lists_every_profile(capsys):
    from pytest_interop.reference import cli
    from pytest_interop.reference.profiles import PROFILES

    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers())
    args = parser.parse_args(["reference", "profiles"])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    for name, profile in PROFILES.items():
        assert name in out and profile.description[:30] in out


def test_serve_prints_clouds_yaml_and_stops_on_sigterm():
    script = textwrap.dedent("""
        import argparse, sys
        from pytest_interop.reference import cli
        parser = argparse.ArgumentParser()
        cli.register(parser.add_subparsers())
        args = parser.parse_args(sys.argv[1:])
        sys.exit(args.func(args))
    """)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-c", script, "reference", "serve", "--profile", "floating-ip"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    try:
        lines = []
        while not lines or not lines[-1].strip().startswith("profile:"):
            line = process.stdout.readline()
            assert line, process.stderr.read()
            lines.append(line)
        document = yaml.safe_load("".join(lines))
        config = document["clouds"]["reference"]
        assert config["interop"]["profile"] == "floating-ip"
        conn = connect(config)
        assert "private" in {n.name for n in conn.network.networks()}
        conn.close()
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
