"""The clouds.yaml files openstacksdk will read, checked before it reads them.

openstacksdk reads the first clouds file (and the first secure file) that exists, from
``OS_CLIENT_CONFIG_FILE`` (``OS_CLIENT_SECURE_FILE``) and then its search path. A file that
is a list or a scalar, that has ``clouds:`` as a list, a cloud or its ``auth`` that is not a
mapping, that is not UTF-8 or nests absurdly deep made it raise ConfigException,
AttributeError, UnicodeDecodeError or RecursionError from inside its loader: an INTERNALERROR
in pytest, a traceback in ``interop cleanup``. :func:`check_config_files` says instead, in
one line, which file is wrong, where, and how to fix it. YAML syntax errors are left to the
registry, which reports them with their line and column.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pytest_interop.documents import NestingError, load_yaml, loads_json
from pytest_interop.errors import CloudNotFound


def _first_existing(paths: Iterable[str]) -> Path | None:
    for path in paths:
        if os.path.exists(path):
            return Path(path)
    return None


def sdk_config_files() -> list[Path]:
    """The clouds file and the secure file openstacksdk would read now (those that exist)."""
    from openstack.config import loader

    chosen = []
    for variable, defaults in (
        ("OS_CLIENT_CONFIG_FILE", loader.CONFIG_FILES),
        ("OS_CLIENT_SECURE_FILE", loader.SECURE_FILES),
    ):
        override = os.environ.get(variable)
        found = _first_existing([override, *defaults] if override else defaults)
        if found is not None:
            chosen.append(found)
    return chosen


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "empty"
    if isinstance(value, dict):
        return "a mapping"
    # the type only: a misplaced value may be a password
    return {str: "a string", bool: "a boolean"}.get(type(value), "a number")


def config_file_problem(path: Path) -> str | None:
    """What is wrong with one clouds.yaml (or .json) file's shape; None if nothing is (or if
    it cannot be parsed as YAML at all: the registry reports syntax errors)."""
    import yaml

    try:
        raw = path.read_bytes()
    except OSError:
        return None  # unreadable: openstacksdk skips it, as we do
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"is not UTF-8 text (byte {exc.start}); save it as UTF-8"
    try:
        data = loads_json(text) if path.suffix == ".json" else load_yaml(text)
    except NestingError as exc:
        return f"is {exc}"
    except (ValueError, yaml.YAMLError):
        return None
    if not isinstance(data, dict):
        return f"is {_kind(data)}, not a mapping; it needs `clouds:` mapping names to clouds"
    clouds = data.get("clouds")
    if "clouds" in data and not isinstance(clouds, dict):
        return f"has `clouds:` as {_kind(clouds)}; it must map each cloud's name to its settings"
    for name, entry in (clouds or {}).items():
        if not isinstance(entry, dict):
            return f"has cloud {name!r} as {_kind(entry)}; give its settings as a mapping"
        if "auth" in entry and not isinstance(entry["auth"], dict):
            return f"has `auth:` of cloud {name!r} as {_kind(entry['auth'])}; it must be a mapping"
    return None


def check_config_files(option: str) -> None:
    """CloudNotFound naming the file when openstacksdk would choke on one."""
    for path in sdk_config_files():
        problem = config_file_problem(path)
        if problem:
            raise CloudNotFound(f"{option}: {path} {problem}")
