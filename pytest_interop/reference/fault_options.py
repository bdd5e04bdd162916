"""The reference cloud's fault knobs from the command line: ``--fault 5xx=0.2``.

``interop reference serve --fault ...``, pytest's ``--interop-reference-fault ...`` and the
ini key ``interop_reference_faults`` all take ``KNOB=VALUE`` items, parsed here into
:class:`~pytest_interop.reference.faults.FaultSettings` keyword arguments, so anyone can
reproduce a fault run without writing Python.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from pytest_interop.errors import ConfigurationError
from pytest_interop.reference.faults import FaultSettings

# Short names (what the knob does) for the settings' fields; the field names work too.
ALIASES = {
    "5xx": "server_error_rate",
    "429": "rate_limit_rate",
    "boot-failure": "boot_failure_rate",
    "slow-delete": "slow_delete_rate",
    "latency": "api_latency",
    "jitter": "api_latency_jitter",
}
INTEGER_KNOBS = frozenset({"seed", "retry_after"})


def knob_help() -> str:
    """One line listing every knob, for ``--help``."""
    fields = sorted(FaultSettings.knob_names())
    short = ", ".join(f"{alias} ({name})" for alias, name in ALIASES.items())
    rest = ", ".join(f.replace("_", "-") for f in fields if f not in ALIASES.values())
    return f"rates 0-1 or seconds: {short}; also {rest}"


def _field(name: str) -> str | None:
    key = name.strip().lower()
    if key in ALIASES:
        return ALIASES[key]
    key = key.replace("-", "_")
    return key if key in FaultSettings.knob_names() else None


def parse_faults(items: Iterable[str], option: str) -> dict[str, Any]:
    """``["5xx=0.2", "seed=7"]`` -> ``{"server_error_rate": 0.2, "seed": 7}``, checked
    (known knob, a number, in range); ConfigurationError naming ``option`` otherwise."""
    knobs: dict[str, Any] = {}
    for item in items:
        name, sep, value = item.partition("=")
        field = _field(name)
        if not sep or field is None:
            raise ConfigurationError(
                f"{option} {item!r}: give KNOB=VALUE with a knob of: {knob_help()}"
            )
        try:
            knobs[field] = int(value) if field in INTEGER_KNOBS else float(value)
        except ValueError:
            kind = "an integer" if field in INTEGER_KNOBS else "a number"
            raise ConfigurationError(f"{option} {item!r}: {value!r} is not {kind}") from None
    try:
        dataclasses.replace(FaultSettings(), **knobs)
    except ValueError as exc:
        raise ConfigurationError(f"{option}: {exc}") from None
    return knobs
