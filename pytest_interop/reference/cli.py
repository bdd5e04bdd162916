"""``interop reference serve`` and ``interop reference profiles``."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any

from pytest_interop.reference.fault_options import knob_help, parse_faults
from pytest_interop.reference.profiles import PROFILES


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("reference", help="run or describe the embedded reference cloud")
    commands = parser.add_subparsers(dest="reference_command", metavar="COMMAND", required=True)

    serve = commands.add_parser("serve", help="serve a reference cloud until interrupted")
    serve.add_argument("--profile", default="default", choices=sorted(PROFILES))
    serve.add_argument("--port", type=int, default=0, help="HTTP port (default: a free one)")
    serve.add_argument("--host", default="127.0.0.1", help="loopback address to bind")
    serve.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="KNOB=VALUE",
        help=f"inject faults, repeatable (e.g. --fault 5xx=0.2 --fault boot-failure=0.2); "
        f"{knob_help()}",
    )
    serve.set_defaults(func=serve_command)

    profiles = commands.add_parser("profiles", help="list the profiles and what each reproduces")
    profiles.set_defaults(func=profiles_command)


def profiles_command(args: argparse.Namespace) -> int:
    for profile in PROFILES.values():
        print(f"{profile.name}\n    {profile.description}")
    return 0


def serve_command(args: argparse.Namespace) -> int:
    from pytest_interop.reference.cloud import ReferenceCloud

    faults = parse_faults(args.fault, "--fault")
    cloud = ReferenceCloud(args.profile, host=args.host, port=args.port, **faults)
    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    cloud.start()
    try:
        sys.stdout.write(cloud.clouds_yaml())
        sys.stdout.flush()
        injected = ", ".join(f"{k}={v}" for k, v in faults.items())
        print(
            f"# reference cloud ({args.profile}) at {cloud.base_url}"
            f"{f'; faults {injected}' if injected else ''}; Ctrl-C stops it",
            file=sys.stderr,
        )
        while not stop.wait(0.5):
            pass
    finally:
        cloud.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
