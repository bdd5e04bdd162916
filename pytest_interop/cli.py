"""The ``interop`` command: one sub-command group per module.

Each group module exposes ``register(subparsers)``, which adds its sub-command and sets
``func`` on its parser; ``func(args)`` returns the exit code.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from pytest_interop import __version__
from pytest_interop.errors import ConfigurationError, printable

COMMAND_GROUPS: tuple[str, ...] = (
    "pytest_interop.guideline.cli",
    "pytest_interop.reference.cli",
    "pytest_interop.clouds.cli",
    "pytest_interop.submission.cli",
    "pytest_interop.report.cli",
    "pytest_interop.fleet",
    "pytest_interop.results.cli",
)

USAGE_ERROR = 2
# What a shell reports for a tool that SIGPIPE ended (128 + 13): `interop ... | head` is normal use.
BROKEN_PIPE = 141


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="interop",
        description="Guideline, reference-cloud, submission and clean-up tools of pytest-interop.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_name in COMMAND_GROUPS:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ConfigurationError as exc:
        print(f"interop: error: {printable(str(exc))}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, as a Unix tool does. Point stdout at
        # /dev/null so the interpreter's final flush does not raise a second time.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return BROKEN_PIPE


if __name__ == "__main__":
    sys.exit(main())
