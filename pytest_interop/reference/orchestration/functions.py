"""HOT's intrinsic functions, evaluated over a template's parameters and resources.

A single-key map whose key is a function of the template's version is a call; anything else
is data, as in Heat. Arguments are evaluated before the call, except ``if``'s branches.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pytest_interop.reference.orchestration import exceptions, template

DIGESTS = ("md5", "sha1", "sha224", "sha256", "sha384", "sha512")


@dataclass
class Scope:
    """What functions read: parameters, pseudo-parameters, resources and conditions."""

    version: str
    params: dict[str, Any]
    pseudo: dict[str, str] = field(default_factory=dict)  # OS::stack_name, ...
    conditions: dict[str, bool] = field(default_factory=dict)
    resource_ref: Callable[[str], Any] = lambda name: None
    resource_attr: Callable[[str, str, list[Any]], Any] = lambda name, attr, path: None
    known_resources: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        self.available = template.functions(self.version)
        self.condition_functions = template.functions(self.version, conditions=True)


def _call_name(value: Any, names: Any) -> str | None:
    if isinstance(value, dict) and len(value) == 1:
        (key,) = value
        if key in names:
            return key
    return None


def references(value: Any) -> set[str]:
    """The resources a snippet names through get_resource or get_attr (its dependencies)."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, argument in value.items():
            if key == "get_resource" and isinstance(argument, str):
                found.add(argument)
            elif key == "get_attr" and isinstance(argument, list) and argument:
                found |= {argument[0]} if isinstance(argument[0], str) else set()
            found |= references(argument)
    elif isinstance(value, list):
        for item in value:
            found |= references(item)
    return found


def resolve(value: Any, scope: Scope) -> Any:
    name = _call_name(value, scope.available)
    if name is not None:
        argument = value[name]
        if name == "if":
            return _if(argument, scope)
        return FUNCTIONS[name](resolve(argument, scope), scope)
    if isinstance(value, dict):
        return {key: resolve(item, scope) for key, item in value.items()}
    if isinstance(value, list):
        return [resolve(item, scope) for item in value]
    return value


def condition(value: Any, scope: Scope) -> bool:
    """A condition: a name from the conditions section, a boolean, or a condition function."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        if value not in scope.conditions:
            raise exceptions.invalid(f'Invalid condition "{value}"')
        return scope.conditions[value]
    name = _call_name(value, scope.condition_functions)
    if name is None:
        raise exceptions.invalid(f"Invalid condition function: {json.dumps(value)}")
    argument = value[name]
    if name == "get_param":
        return bool(_get_param(resolve(argument, scope), scope))
    if name == "equals":
        left, right = _pair(resolve(argument, scope), "equals")
        return left == right
    if name == "not":
        return not condition(argument, scope)
    if name in ("and", "or"):
        if not isinstance(argument, list) or len(argument) < 2:
            raise exceptions.invalid(f'Arguments to "{name}" must be a list of conditions')
        results = [condition(item, scope) for item in argument]
        return all(results) if name == "and" else any(results)
    sequence = resolve(argument, scope)
    item, items = _pair(sequence, "contains")
    return item in (items or [])


def evaluate_conditions(section: dict[str, Any], scope: Scope) -> dict[str, bool]:
    """The conditions section, each condition able to name the ones before it."""
    for key, expression in (section or {}).items():
        scope.conditions[key] = condition(expression, scope)
    return scope.conditions


def _pair(argument: Any, name: str) -> tuple[Any, Any]:
    if not isinstance(argument, list) or len(argument) != 2:
        raise exceptions.invalid(f'Arguments to "{name}" must be of the form: [value1, value2]')
    return argument[0], argument[1]


def _if(argument: Any, scope: Scope) -> Any:
    if not isinstance(argument, list) or len(argument) != 3:
        raise exceptions.invalid(
            'Arguments to "if" must be of the form: [condition_name, value_if_true, value_if_false]'
        )
    chosen = argument[1] if condition(argument[0], scope) else argument[2]
    return resolve(chosen, scope)


def _walk(value: Any, path: list[Any], what: str) -> Any:
    for key in path:
        if isinstance(value, dict) and key in value:
            value = value[key]
        elif isinstance(value, list) and str(key).isdigit() and int(key) < len(value):
            value = value[int(key)]
        else:
            return None
    return value


def _get_param(argument: Any, scope: Scope) -> Any:
    path = argument if isinstance(argument, list) else [argument]
    if not path or not isinstance(path[0], str):
        raise exceptions.invalid("Arguments to get_param must be a parameter name or a list")
    name = path[0]
    if name in scope.pseudo:
        return scope.pseudo[name]
    if name not in scope.params:
        raise exceptions.invalid(f"The Parameter ({name}) was not provided.")
    return _walk(scope.params[name], path[1:], name)


def _get_resource(argument: Any, scope: Scope) -> Any:
    if not isinstance(argument, str) or argument not in scope.known_resources:
        raise exceptions.invalid(f'The specified reference "{argument}" is not a resource.')
    return scope.resource_ref(argument)


def _get_attr(argument: Any, scope: Scope) -> Any:
    if not isinstance(argument, list) or len(argument) < 2:
        raise exceptions.invalid("Arguments to get_attr must be a list: [resource, attribute]")
    name, attribute, *path = argument
    if name not in scope.known_resources:
        raise exceptions.invalid(f'The specified reference "{name}" is not a resource.')
    return scope.resource_attr(name, str(attribute), path)


def _str_replace(argument: Any, scope: Scope, *, strict: bool = False) -> Any:
    if not isinstance(argument, dict) or not {"template", "params"} <= set(argument):
        raise exceptions.invalid('Arguments to "str_replace" must be: {template:, params:}')
    text, params = argument["template"], argument["params"]
    if not isinstance(text, str) or not isinstance(params, dict):
        raise exceptions.invalid('"str_replace" needs a string template and a map of params')
    # longest keys first, as Heat, so that "$var_long" is not eaten by "$var"
    for key in sorted(params, key=lambda k: len(str(k)), reverse=True):
        replacement = params[key]
        if replacement is None:
            replacement = ""
        elif not isinstance(replacement, str):
            replacement = (
                json.dumps(replacement)
                if isinstance(replacement, dict | list)
                else str(replacement)
            )
        if strict and str(key) not in text:
            raise exceptions.invalid(
                f'The following params were not found in the template: "{key}"'
            )
        text = text.replace(str(key), replacement)
    return text


def _list_join(argument: Any, scope: Scope) -> Any:
    if not isinstance(argument, list) or len(argument) < 2 or not isinstance(argument[0], str):
        raise exceptions.invalid('Arguments to "list_join" must be: [delimiter, list, ...]')
    delimiter, *lists = argument
    items: list[str] = []
    for part in lists:
        if part is None:
            continue
        if not isinstance(part, list):
            raise exceptions.invalid('Incorrect arguments: items to "list_join" must be lists')
        items += [json.dumps(i) if isinstance(i, dict | list) else str(i) for i in part]
    return delimiter.join(items)


def _str_split(argument: Any, scope: Scope) -> Any:
    if not isinstance(argument, list) or len(argument) not in (2, 3):
        raise exceptions.invalid('Arguments to "str_split" must be: [delimiter, string, index]')
    parts = str(argument[1]).split(str(argument[0]))
    if len(argument) == 3:
        index = int(argument[2])
        if not 0 <= index < len(parts):
            raise exceptions.invalid(f'Incorrect index to "str_split": {index}')
        return parts[index]
    return parts


def _digest(argument: Any, scope: Scope) -> Any:
    algorithm, value = _pair(argument, "digest")
    if algorithm not in DIGESTS:
        raise exceptions.invalid(f"Algorithm must be one of {list(DIGESTS)}")
    return hashlib.new(algorithm, str(value).encode()).hexdigest()


def _repeat(argument: Any, scope: Scope) -> Any:
    if not isinstance(argument, dict) or not {"for_each", "template"} <= set(argument):
        raise exceptions.invalid('Arguments to "repeat" must be: {for_each:, template:}')
    loops = argument["for_each"]
    if not isinstance(loops, dict) or not all(isinstance(v, list) for v in loops.values()):
        raise exceptions.invalid('"for_each" of "repeat" must be a map of lists')
    keys = list(loops)
    out = []
    for combination in itertools.product(*(loops[k] for k in keys)):
        out.append(_substitute(argument["template"], dict(zip(keys, combination, strict=True))))
    return out


def _substitute(value: Any, replacements: dict[str, Any]) -> Any:
    if isinstance(value, str):
        for key, item in replacements.items():
            if value == key:
                return item
            value = value.replace(key, str(item))
        return value
    if isinstance(value, dict):
        return {
            _substitute(k, replacements): _substitute(v, replacements) for k, v in value.items()
        }
    if isinstance(value, list):
        return [_substitute(item, replacements) for item in value]
    return value


def _map_merge(argument: Any, scope: Scope) -> Any:
    if not isinstance(argument, list) or not all(isinstance(m, dict) for m in argument):
        raise exceptions.invalid('Arguments to "map_merge" must be a list of maps')
    merged: dict[str, Any] = {}
    for item in argument:
        merged.update(item)
    return merged


def _map_replace(argument: Any, scope: Scope) -> Any:
    mapping, rules = _pair(argument, "map_replace")
    if not isinstance(mapping, dict) or not isinstance(rules, dict):
        raise exceptions.invalid('Arguments to "map_replace" must be: [map, {keys:, values:}]')
    keys, values = rules.get("keys") or {}, rules.get("values") or {}
    return {
        keys.get(k, k): values.get(v, v) if isinstance(v, str) else v for k, v in mapping.items()
    }


def _filter(argument: Any, scope: Scope) -> Any:
    unwanted, items = _pair(argument, "filter")
    return [item for item in items or [] if item not in (unwanted or [])]


def _list_concat(argument: Any, scope: Scope, *, unique: bool = False) -> Any:
    if not isinstance(argument, list) or not all(isinstance(i, list) for i in argument):
        raise exceptions.invalid('Arguments to "list_concat" must be a list of lists')
    out: list[Any] = []
    for items in argument:
        out += [item for item in items if not unique or item not in out]
    return out


def _contains(argument: Any, scope: Scope) -> Any:
    item, items = _pair(argument, "contains")
    return item in (items or [])


FUNCTIONS: dict[str, Callable[[Any, Scope], Any]] = {
    "get_param": _get_param,
    "get_resource": _get_resource,
    "get_attr": _get_attr,
    "str_replace": _str_replace,
    "str_replace_strict": lambda a, s: _str_replace(a, s, strict=True),
    "list_join": _list_join,
    "str_split": _str_split,
    "digest": _digest,
    "repeat": _repeat,
    "map_merge": _map_merge,
    "map_replace": _map_replace,
    "filter": _filter,
    "list_concat": _list_concat,
    "list_concat_unique": lambda a, s: _list_concat(a, s, unique=True),
    "contains": _contains,
}
