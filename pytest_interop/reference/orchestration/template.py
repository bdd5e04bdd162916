"""HOT templates: reading them, their versions and functions, and their parameters.

Templates are YAML (or JSON, which is YAML) read by PyYAML with the timestamp resolver
removed: ``heat_template_version: 2018-08-31`` stays the string Heat compares, not a date.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from pytest_interop.reference.orchestration import exceptions


class _HotLoader(yaml.SafeLoader):
    """SafeLoader without timestamps, as Heat's own loader."""


_HotLoader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

# version -> the functions it adds (Heat's HOT versions and their aliases)
_HOT_VERSIONS: tuple[tuple[str, str | None, dict[str, str]], ...] = (
    (
        "2013-05-23",
        None,
        {
            "get_attr": "A function for resolving resource attributes.",
            "get_param": "A function for resolving parameter references.",
            "get_resource": "A function for resolving resource references.",
            "str_replace": "A function for performing string substitutions.",
        },
    ),
    ("2014-10-16", None, {"list_join": "A function for joining strings."}),
    (
        "2015-04-30",
        None,
        {
            "digest": "A function for performing digest operations.",
            "repeat": "A function for iterating over a list of items.",
        },
    ),
    ("2015-10-15", None, {"str_split": "A function for splitting delimited strings into a list."}),
    ("2016-04-08", None, {"map_merge": "A function for merging maps."}),
    (
        "2016-10-14",
        "newton",
        {"if": "A function to return corresponding value based on condition evaluation."},
    ),
    ("2017-02-24", "ocata", {"map_replace": "A function for performing mapping replacements."}),
    (
        "2017-09-01",
        "pike",
        {
            "filter": "A function for filtering out values from lists.",
            "str_replace_strict": "A function for performing string substitutions, "
            "raising an error when a parameter is unused.",
        },
    ),
    (
        "2018-03-02",
        "queens",
        {
            "list_concat": "A function for extending lists.",
            "list_concat_unique": "A function for extending lists with unique items.",
            "contains": "A function for checking whether specific value is in sequence.",
        },
    ),
    ("2018-08-31", "rocky", {}),
    ("2021-04-16", "wallaby", {}),
)
_CONDITION_FUNCTIONS = {
    "equals": (
        "2016-10-14",
        "A function for comparing whether two values are equal.",
    ),
    "get_param": ("2016-10-14", "A function for resolving parameter references."),
    "not": ("2016-10-14", "A function for negating a condition."),
    "and": ("2017-02-24", "A function for checking that every condition is true."),
    "or": ("2017-02-24", "A function for checking that some condition is true."),
    "contains": ("2018-03-02", "A function for checking whether a value is in a sequence."),
}
HOT_KEYS = frozenset(
    {
        "heat_template_version",
        "description",
        "parameter_groups",
        "parameters",
        "resources",
        "outputs",
        "conditions",
    }
)
PARAMETER_TYPES = {
    "string": "String",
    "number": "Number",
    "comma_delimited_list": "CommaDelimitedList",
    "json": "Json",
    "boolean": "Boolean",
}
TRUE_WORDS = ("true", "t", "yes", "y", "on", "1")
FALSE_WORDS = ("false", "f", "no", "n", "off", "0")


def _dates() -> list[str]:
    return [date for date, _, _ in _HOT_VERSIONS]


def canonical_version(raw: Any) -> str:
    """The date of a HOT version given by date or alias; 400 for anything else."""
    text = str(raw)
    for date, alias, _ in _HOT_VERSIONS:
        if text in (date, alias):
            return date
    choices = ", ".join(f'"heat_template_version.{d}"' for d in _dates())
    raise exceptions.invalid(
        f'The template version is invalid: "heat_template_version: {text}". '
        f"Should be one of: {choices}"
    )


def template_versions() -> list[dict[str, Any]]:
    found = []
    for date, alias, _ in _HOT_VERSIONS:
        found.append(
            {
                "version": f"heat_template_version.{date}",
                "type": "hot",
                "aliases": [f"heat_template_version.{alias}"] if alias else [],
            }
        )
    return found


def functions(version: str, *, conditions: bool = False) -> dict[str, str]:
    """The functions (or condition functions) a HOT version offers: name -> description."""
    if conditions:
        return {
            name: text for name, (since, text) in _CONDITION_FUNCTIONS.items() if since <= version
        }
    found: dict[str, str] = {}
    for date, _, added in _HOT_VERSIONS:
        if date <= version:
            found.update(added)
    return found


def version_of_key(key: str) -> str:
    """``heat_template_version.2016-10-14`` (or an alias) -> its date; 404 otherwise."""
    prefix, _, value = key.partition(".")
    if prefix != "heat_template_version":
        raise exceptions.not_found(f"Template version {key} not found.", "NotFound")
    try:
        return canonical_version(value)
    except exceptions.HeatError:
        raise exceptions.not_found(f"Template version {key} not found.", "NotFound") from None


def load(raw: Any, what: str = "template") -> dict[str, Any]:
    """A template (or environment) from a dict or its YAML/JSON text."""
    if isinstance(raw, dict):
        return raw
    if not isinstance(raw, str):
        raise exceptions.bad_request(f"The {what} must be a mapping or its YAML text.")
    try:
        document = yaml.load(raw, Loader=_HotLoader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise exceptions.bad_request(f"Error parsing {what}: {exc}") from None
    if document is None and what == "environment":
        return {}
    if not isinstance(document, dict):
        raise exceptions.bad_request(f"The {what} is not a JSON object or YAML mapping.")
    return document


def check(template: dict[str, Any]) -> str:
    """The template's version, after the checks Heat makes before any resource is read."""
    if "heat_template_version" not in template:
        if "AWSTemplateFormatVersion" in template or "HeatTemplateFormatVersion" in template:
            raise exceptions.invalid(
                "CloudFormation templates are not served by the reference cloud's Heat; "
                "use a HOT template (heat_template_version)."
            )
        raise exceptions.invalid(
            "Template format version not found: the template needs heat_template_version."
        )
    version = canonical_version(template["heat_template_version"])
    unknown = sorted(set(template) - HOT_KEYS)
    if unknown:
        raise exceptions.invalid(f'"{unknown[0]}" is not a valid keyword inside a HOT template')
    for section in ("parameters", "resources", "outputs", "conditions"):
        value = template.get(section)
        if value is not None and not isinstance(value, dict):
            raise exceptions.invalid(f'The template section "{section}" must be a map.')
    for name, definition in (template.get("resources") or {}).items():
        if not isinstance(definition, dict) or "type" not in definition:
            raise exceptions.invalid(f'"type" is missing from resource "{name}".')
    return version


def _coerce(name: str, kind: str, value: Any) -> Any:
    try:
        if kind == "number":
            if isinstance(value, bool):
                raise ValueError
            number = float(value)
            return int(number) if number.is_integer() and "." not in str(value) else number
        if kind == "comma_delimited_list":
            if isinstance(value, list):
                return [str(item) for item in value]
            return [item.strip() for item in str(value).split(",")] if str(value) else []
        if kind == "json":
            return json.loads(value) if isinstance(value, str) else value
        if kind == "boolean":
            if isinstance(value, bool):
                return value
            text = str(value).lower()
            if text in TRUE_WORDS or text in FALSE_WORDS:
                return text in TRUE_WORDS
            raise ValueError
        return (
            value
            if isinstance(value, str)
            else json.dumps(value)
            if not isinstance(value, int | float)
            else str(value)
        )
    except (ValueError, TypeError):
        raise exceptions.invalid(
            f"Parameter '{name}' is invalid: Value \"{value}\" is not a valid {kind}."
        ) from None


def _constraints(name: str, schema: dict[str, Any], value: Any) -> None:
    for constraint in schema.get("constraints") or []:
        if not isinstance(constraint, dict):
            continue
        text = constraint.get("description")
        if "allowed_values" in constraint and value not in constraint["allowed_values"]:
            allowed = constraint["allowed_values"]
            reason = text or f"{value!r} is not an allowed value {allowed}"
            raise exceptions.invalid(f"Parameter '{name}' is invalid: {reason}")
        if "length" in constraint and isinstance(value, str):
            bounds = constraint["length"]
            if len(value) < bounds.get("min", 0) or len(value) > bounds.get("max", len(value)):
                raise exceptions.invalid(
                    f"Parameter '{name}' is invalid: {text or 'length out of range'}"
                )
        if "range" in constraint and isinstance(value, int | float):
            bounds = constraint["range"]
            if value < bounds.get("min", value) or value > bounds.get("max", value):
                raise exceptions.invalid(
                    f"Parameter '{name}' is invalid: {text or 'value out of range'}"
                )


def resolve_parameters(
    template: dict[str, Any],
    given: dict[str, Any],
    environment: dict[str, Any],
    *,
    strict: bool = True,
) -> dict[str, Any]:
    """Each declared parameter's value: given, else the environment's, else the default.

    ``strict``: a required parameter without a value is an error (create, preview); a
    validation lists it instead.
    """
    declared = template.get("parameters") or {}
    env_values = dict(environment.get("parameter_defaults") or {})
    env_values.update(environment.get("parameters") or {})
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise exceptions.invalid(f"The Parameter ({unknown[0]}) was not defined in template.")
    values: dict[str, Any] = {}
    for name, schema in declared.items():
        if not isinstance(schema, dict) or "type" not in schema:
            raise exceptions.invalid(f"Missing parameter type for parameter: {name}")
        kind = str(schema["type"])
        if kind not in PARAMETER_TYPES:
            raise exceptions.invalid(f"Invalid type ({kind})")
        if name in given:
            raw = given[name]
        elif name in env_values:
            raw = env_values[name]
        elif "default" in schema:
            raw = schema["default"]
        else:
            if strict:
                raise exceptions.invalid(f"The Parameter ({name}) was not provided.")
            continue
        value = _coerce(name, kind, raw)
        _constraints(name, schema, value)
        values[name] = value
    return values


def describe_parameters(
    template: dict[str, Any], given: dict[str, Any], environment: dict[str, Any]
) -> dict[str, Any]:
    """The ``Parameters`` of a validation, as Heat words them."""
    values = resolve_parameters(template, given, environment, strict=False)
    out = {}
    for name, schema in (template.get("parameters") or {}).items():
        entry: dict[str, Any] = {
            "Type": PARAMETER_TYPES[str(schema["type"])],
            "Description": schema.get("description", ""),
            "Label": schema.get("label", name),
            "NoEcho": "true" if schema.get("hidden") else "false",
        }
        if "default" in schema:
            entry["Default"] = schema["default"]
        if name in values:
            entry["Value"] = values[name]
        for constraint in schema.get("constraints") or []:
            if isinstance(constraint, dict) and "allowed_values" in constraint:
                entry["AllowedValues"] = list(constraint["allowed_values"])
        out[name] = entry
    return out
