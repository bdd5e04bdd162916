"""Reading the JSON and YAML a user hands us, bounded in depth.

Python's JSON decoder and PyYAML recurse once per level of nesting: a guideline of
``[`` x 100,000 or a 5,000-deep object raised RecursionError from the parser, and a
document just under the interpreter's limit raised it later, in a schema validator or a
walker of ours. No document of ours nests anywhere near :data:`MAX_DEPTH` levels, so
deeper input is refused right where it is read, as :class:`NestingError` (a ValueError,
which callers already turn into one line naming the file).
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 100  # a guideline nests 7 levels, a report about 8, a clouds.yaml about 6


class NestingError(ValueError):
    """A document nested deeper than :data:`MAX_DEPTH` levels."""

    def __init__(self) -> None:
        super().__init__(f"nested deeper than {MAX_DEPTH} levels")


def check_depth(value: Any, limit: int = MAX_DEPTH) -> Any:
    """``value`` itself, or NestingError if its lists and mappings nest deeper than ``limit``
    (walked without recursion)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list | tuple):
            children = node
        else:
            continue
        if depth > limit:
            raise NestingError()
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return value


def loads_json(text: str | bytes) -> Any:
    """``json.loads``, with too deep a document raising NestingError (not RecursionError).

    Other errors are ``json.loads``'s own (JSONDecodeError, UnicodeDecodeError)."""
    try:
        return check_depth(json.loads(text))
    except RecursionError:
        raise NestingError() from None


def load_yaml(text: str) -> Any:
    """``yaml.safe_load``, with too deep a document raising NestingError."""
    import yaml

    try:
        return check_depth(yaml.safe_load(text))
    except RecursionError:
        raise NestingError() from None
