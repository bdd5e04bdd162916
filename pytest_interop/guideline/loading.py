"""Find, read, validate and convert guideline files into the one model.

Every published DefCore schema (1.2, 1.3-1.6, 2.0 with add-ons) and ours
(2.0 plus the ``pytest-interop/1`` extension, see ``schemas/README.md``) load into
``pytest_interop.guideline.model.Guideline``. Known quirks of the published files are
accepted: ``cutoff_score`` as a string, ``required-since`` in 2.0 files, ``idempotent-id``
spelt with a hyphen, ``id-`` prefixed ids, empty dates, tests as a list or a mapping.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from pytest_interop.documents import NestingError, loads_json
from pytest_interop.errors import GuidelineError
from pytest_interop.guideline.model import (
    STATUSES,
    Capability,
    Component,
    Flag,
    Guideline,
    Platform,
    TestRef,
)

OUR_SCHEMA = "pytest-interop/1"
ADD_ONS_DIR = "add-ons"
# Schema versions -> the JSON Schema file (shipped in this package) that checks them.
SCHEMA_FILES: dict[str, str] = {
    "1.2": "defcore-1.2.json",
    "1.3": "defcore-1.3.json",
    "1.4": "defcore-1.3.json",
    "1.5": "defcore-1.3.json",
    "1.6": "defcore-1.3.json",
    "2.0": "defcore-2.0.json",
    OUR_SCHEMA: "pytest-interop-1.json",
}
# DefCore 1.x files name a single platform; 2.0 files name these three.
PLATFORM_NAME = "OpenStack Powered Platform"
COMPONENT_PLATFORMS = {
    "compute": "OpenStack Powered Compute",
    "object": "OpenStack Powered Storage",
}


@dataclass(frozen=True)
class SchemaIssue:
    """One schema violation: where (a JSON path such as ``$.capabilities["x"].tests``) and what."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


# --------------------------------------------------------------------------- finding


def available_guidelines(search_dirs: Sequence[Path | str]) -> dict[str, Path]:
    """Guideline id (the file name without ``.json``) -> file, from each dir and its ``add-ons/``.

    The first directory that holds an id wins, so a project's own directory can shadow a
    shared one.
    """
    found: dict[str, Path] = {}
    for directory in search_dirs:
        for folder in (Path(directory), Path(directory) / ADD_ONS_DIR):
            if not folder.is_dir():
                continue
            for path in sorted(folder.glob("*.json")):
                found.setdefault(path.stem, path)
    return found


def _looks_like_path(ref: str) -> bool:
    return ref.endswith(".json") or os.sep in ref or "/" in ref


def resolve_guideline(ref: str | os.PathLike[str], search_dirs: Sequence[Path | str] = ()) -> Path:
    """The file a guideline reference names: an existing path, or an id found in ``search_dirs``."""
    text = os.fspath(ref)
    candidate = Path(text)
    if candidate.is_file():
        return candidate
    if candidate.exists() and (isinstance(ref, os.PathLike) or _looks_like_path(text)):
        from pytest_interop.outputs import file_kind

        raise GuidelineError(
            f"guideline file {text} is {file_kind(candidate.stat().st_mode)}, not a regular "
            f"file; give the path of a guideline's .json file or an id such as "
            f"{_example_ids(search_dirs)}"
        )
    if isinstance(ref, os.PathLike) or _looks_like_path(text):
        raise GuidelineError(
            f"guideline file {text} not found; check the path, or pass a guideline id "
            f"such as {_example_ids(search_dirs)}"
        )
    available = available_guidelines(search_dirs)
    if text in available:
        return available[text]
    searched = ", ".join(str(Path(d)) for d in search_dirs) or "no directory"
    ids = ", ".join(sorted(available)) or "none"
    raise GuidelineError(
        f"unknown guideline '{text}': available ids are {ids} (searched {searched} and their "
        f"{ADD_ONS_DIR}/); pass one of those ids, a path to a guideline file, or "
        "--guideline-dir DIR"
    )


def _example_ids(search_dirs: Sequence[Path | str]) -> str:
    ids = sorted(available_guidelines(search_dirs))
    return ", ".join(ids[:3]) if ids else "2017.01"


# --------------------------------------------------------------------------- reading


def read_document(path: Path) -> tuple[dict[str, Any], bytes]:
    """The parsed JSON object and the raw bytes (for the sha256) of a guideline file."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise GuidelineError(f"cannot read guideline file {path}: {exc.strerror}") from None
    try:
        data = loads_json(raw.decode("utf-8"))
    except NestingError as exc:
        raise GuidelineError(f"{path}: not a guideline: {exc}") from None
    except UnicodeDecodeError as exc:
        raise GuidelineError(
            f"{path}: not UTF-8 text (byte {exc.start}); save the file as UTF-8"
        ) from None
    except json.JSONDecodeError as exc:
        raise GuidelineError(
            f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}; fix the syntax there"
        ) from None
    if not isinstance(data, dict):
        raise GuidelineError(
            f"{path}: a guideline must be a JSON object, not {type(data).__name__}"
        )
    return data, raw


def schema_version(data: Mapping[str, Any]) -> str:
    """Which schema a document claims: ``1.2`` ... ``2.0``, or ``pytest-interop/1`` for ours."""
    metadata = data.get("metadata")
    if isinstance(metadata, Mapping):
        if metadata.get("interop_schema") is not None:
            return str(metadata["interop_schema"])
        return str(metadata.get("schema", ""))
    return str(data.get("schema", ""))


@cache
def _validator(schema_file: str) -> jsonschema.protocols.Validator:
    text = (
        resources.files("pytest_interop.guideline")
        .joinpath("schemas", schema_file)
        .read_text(encoding="utf-8")
    )
    schema = json.loads(text)
    cls = jsonschema.validators.validator_for(schema)
    return cls(_inline_local_refs(schema, schema.get("$defs", {})))


def _inline_local_refs(
    node: Any, definitions: Mapping[str, Any], seen: tuple[str, ...] = ()
) -> Any:
    """The schema with each ``{"$ref": "#/$defs/NAME"}`` replaced by that definition, where the
    definition does not refer back to itself: resolving a reference for every instance it
    applies to is most of a large guideline's validation time. Errors are reported by
    instance path, so they read the same."""
    if isinstance(node, list):
        return [_inline_local_refs(item, definitions, seen) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/") and set(node) == {"$ref"}:
        name = ref.removeprefix("#/$defs/")
        if name in definitions and name not in seen:
            return _inline_local_refs(definitions[name], definitions, (*seen, name))
    return {key: _inline_local_refs(value, definitions, seen) for key, value in node.items()}


def _json_path(parts: Iterable[Any]) -> str:
    out = "$"
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", part):
            out += f".{part}"
        else:
            out += f"[{json.dumps(part)}]"
    return out


def _describe(error: jsonschema.ValidationError) -> jsonschema.ValidationError:
    # oneOf/anyOf errors say little; the most relevant sub-error says what to fix.
    if error.context:
        best = jsonschema.exceptions.best_match(error.context)
        if best is not None:
            return best
    return error


def validate_document(data: Mapping[str, Any]) -> list[SchemaIssue]:
    """Every schema violation of a parsed document, sorted by JSON path (empty: valid)."""
    version = schema_version(data)
    schema_file = SCHEMA_FILES.get(version)
    if schema_file is None:
        where = "$.metadata.schema" if "metadata" in data else "$.schema"
        supported = "1.2, 1.3, 1.4, 1.5, 1.6, 2.0 or metadata.interop_schema " + OUR_SCHEMA
        return [SchemaIssue(where, f"unsupported schema {version!r}; use {supported}")]
    issues = []
    for error in _validator(schema_file).iter_errors(data):
        detail = _describe(error)
        issues.append(SchemaIssue(_json_path(detail.absolute_path), detail.message))
    return sorted(set(issues), key=lambda issue: issue.path)


# --------------------------------------------------------------------------- loading


def load_guideline(
    ref: str | os.PathLike[str], search_dirs: Sequence[Path | str] = ()
) -> Guideline:
    """Load a guideline by id (``2017.01``, ``hybrid.2017.01``, ``next``) or by file path.

    Raises GuidelineError with one line naming the file and the fix: unknown id, unreadable
    file, malformed JSON (file:line:col), or a schema violation (first JSON path, how many more).
    """
    path = resolve_guideline(ref, search_dirs)
    data, raw = read_document(path)
    issues = validate_document(data)
    if issues:
        more = f" (and {len(issues) - 1} more)" if len(issues) > 1 else ""
        raise GuidelineError(
            f"{path}: does not match schema {schema_version(data) or '(none)'}: {issues[0]}{more}; "
            f"run 'interop guideline validate {path}' to list every error"
        )
    return parse_guideline(data, path=str(path), sha256=hashlib.sha256(raw).hexdigest())


def parse_guideline(
    data: Mapping[str, Any], *, path: str | None = None, sha256: str | None = None
) -> Guideline:
    """Convert a schema-valid document of any supported schema into the model."""
    if "metadata" in data:
        return _parse_v2(data, path=path, sha256=sha256)
    return _parse_v1(data, path=path, sha256=sha256)


def _text(value: Any) -> str | None:
    """Empty strings (``"required-since": ""``) mean absent."""
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def _score(value: Any) -> int | None:
    if value is None or value == "":
        return None
    return int(str(value).strip())


def normalize_idempotent_id(value: Any) -> str | None:
    """RefStack wrote ``id-<uuid>``; the model keeps the bare id. Empty means none."""
    text = _text(value)
    if text is None:
        return None
    return text[3:] if text.startswith("id-") else text


def _criteria(raw: Mapping[str, Any] | None) -> dict[str, dict]:
    criteria: dict[str, dict] = {}
    for key, entry in (raw or {}).items():
        # 1.x files spell it "Description".
        description = entry.get("description", entry.get("Description", ""))
        criteria[key] = {
            "name": entry.get("name", key),
            "weight": entry.get("weight", 0),
            "description": description,
        }
    return criteria


def _flag(raw: Any) -> Flag | None:
    if not raw:
        return None
    return Flag(
        reason=raw.get("reason", ""), action=_text(raw.get("action")), date=_text(raw.get("date"))
    )


def _tests(raw_tests: Any, flagged_names: Iterable[str] = ()) -> tuple[TestRef, ...]:
    flagged_set = set(flagged_names)
    refs: list[TestRef] = []
    if isinstance(raw_tests, list):  # schema 1.2: names only; flags are a separate list
        for name in raw_tests:
            flag = (
                Flag(reason="flagged (schema 1.2 gives no reason)") if name in flagged_set else None
            )
            refs.append(TestRef(name=name, flagged=flag))
        return tuple(refs)
    for name, entry in (raw_tests or {}).items():
        entry = entry or {}
        raw_id = entry.get("idempotent_id", entry.get("idempotent-id"))
        refs.append(
            TestRef(
                name=name,
                idempotent_id=normalize_idempotent_id(raw_id),
                flagged=_flag(entry.get("flagged", entry.get("flag"))),
                aliases=tuple(entry.get("aliases", ())),
            )
        )
    return tuple(refs)


def _capability(name: str, raw: Mapping[str, Any]) -> Capability:
    since = raw.get("required_since", raw.get("required-since"))
    return Capability(
        name=name,
        description=raw.get("description", "") or "",
        achievements=tuple(raw.get("achievements", ())),
        admin=bool(raw.get("admin", False)),
        project=_text(raw.get("project")),
        required_since=_text(since),
        tests=_tests(
            raw.get("tests"), raw.get("flagged", ()) if isinstance(raw.get("flagged"), list) else ()
        ),
    )


def _status_lists(raw: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    return {status: tuple(raw.get(status, ())) for status in STATUSES}


def _parse_v1(data: Mapping[str, Any], *, path: str | None, sha256: str | None) -> Guideline:
    components = {
        name: Component(name=name, capabilities=_status_lists(lists))
        for name, lists in data.get("components", {}).items()
    }
    # 1.x names one platform by its components' statuses; counted components make it up.
    platform_lists = data.get("platform", {})
    platform_components = tuple(
        c for status in ("required", "deprecated") for c in platform_lists.get(status, ())
    )
    platforms = {PLATFORM_NAME: Platform(PLATFORM_NAME, "", platform_components)}
    for component, platform_name in COMPONENT_PLATFORMS.items():
        if component in components and platform_components != (component,):
            platforms[platform_name] = Platform(platform_name, "", (component,))
    test_repositories = data.get("test-repositories", data.get("test_repositories", {}))
    return Guideline(
        id=str(data["id"]),
        schema=str(data["schema"]),
        status=str(data.get("status", "draft")),
        source=str(data.get("source", "")),
        reference=str(data.get("reference", "")),
        path=path,
        sha256=sha256,
        approved=_text(data.get("target_approval")),
        replaces=_text(data.get("replaces")),
        releases=tuple(data.get("releases", ())),
        cutoff_score=_score(data.get("cutoff_score")),
        criteria=_criteria(data.get("criteria")),
        platforms=platforms,
        components=components,
        capabilities={n: _capability(n, c) for n, c in data.get("capabilities", {}).items()},
        test_repositories=dict(test_repositories),
    )


def _component_names(refs: Iterable[Mapping[str, Any]]) -> tuple[str, ...]:
    return tuple(ref["name"] for ref in refs)


def _parse_v2(data: Mapping[str, Any], *, path: str | None, sha256: str | None) -> Guideline:
    metadata = data["metadata"]
    scoring = metadata.get("scoring", {}) or {}
    approval = metadata.get("os_trademark_approval", {}) or {}
    platforms = {
        name: Platform(name, p.get("description", ""), _component_names(p.get("components", ())))
        for name, p in data.get("platforms", {}).items()
    }
    add_ons = {
        name: Platform(name, a.get("description", ""), _component_names(a.get("components", ())))
        for name, a in data.get("add-ons", {}).items()
    }
    required_platform_components = tuple(
        ref["name"]
        for add_on in data.get("add-ons", {}).values()
        for ref in add_on.get("required_platform_components", ())
    )
    components = {
        name: Component(name=name, capabilities=_status_lists(entry.get("capabilities", {})))
        for name, entry in data.get("components", {}).items()
    }
    return Guideline(
        id=str(metadata["id"]),
        schema=str(metadata["schema"]),
        status=str(approval.get("status", "draft")),
        source=str(metadata.get("source", "")),
        reference=str(metadata.get("reference", "")),
        path=path,
        sha256=sha256,
        approved=_text(approval.get("target_approval")),
        replaces=_text(approval.get("replaces")),
        releases=tuple(approval.get("releases", ())),
        cutoff_score=_score(scoring.get("cutoff_score")),
        criteria=_criteria(scoring.get("criteria")),
        platforms=platforms,
        components=components,
        capabilities={n: _capability(n, c) for n, c in data.get("capabilities", {}).items()},
        is_add_on=bool(add_ons),
        required_platform_components=required_platform_components,
        test_repositories=dict(data.get("test_repositories", {})),
        add_ons=add_ons,
        interop_schema=_text(metadata.get("interop_schema")),
    )
