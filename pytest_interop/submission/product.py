"""The product declaration (``product.yaml``): what a vendor says it tested."""

from __future__ import annotations

import json
import os
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from pytest_interop.documents import NestingError, load_yaml
from pytest_interop.errors import ConfigurationError

PRODUCT_TEMPLATE = """\
# The product declaration of a pytest-interop submission (docs/submission-format.md).
vendor: Example Corp
product: Example Cloud
version: "2026.1"
# kind: public cloud, private cloud, hosted private cloud, distribution or appliance
kind: public cloud
contact: interop@example.com
regions: [region-one]
clouds:                     # report cloud name -> what it is
  example: region-one, https://keystone.example.com/v3
tested_configuration:
  hypervisor: KVM (QEMU 8.2)
  storage:
    block: Ceph RBD 18.2
    object: Swift 2.33
    image: Ceph RBD 18.2
  network:
    ml2: OVN 24.03
    public_addresses: floating IPs from the "public" network
  images:
    - {name: ubuntu-24.04, os: Ubuntu 24.04, login: ubuntu}
"""


@cache
def product_schema() -> dict[str, Any]:
    text = resources.files("pytest_interop.submission").joinpath("schemas/product.schema.json")
    return json.loads(text.read_text(encoding="utf-8"))


def validate_product(data: Any) -> list[str]:
    """Every schema error as ``path: message``; empty when the declaration is valid."""
    validator = jsonschema.Draft202012Validator(product_schema())
    return [
        f"{'/'.join(str(p) for p in error.absolute_path) or '(root)'}: {error.message}"
        for error in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    ]


def parse_product(text: str, source: str) -> tuple[dict[str, Any] | None, list[str]]:
    """The parsed declaration and its problems (YAML syntax or schema)."""
    try:
        data = load_yaml(text)
    except NestingError as exc:
        return None, [f"{source}: invalid YAML ({exc})"]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        return None, [f"{source}{where}: invalid YAML"]
    problems = validate_product(data)
    return (data if isinstance(data, dict) else None), problems


def load_product(path: str | os.PathLike[str]) -> str:
    """The declaration's text, after checking it; raises ConfigurationError naming the field."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"--product {path}: cannot read it ({exc})") from None
    _, problems = parse_product(text, str(path))
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise ConfigurationError(
            f"--product {path}: {problems[0]}{more}; see docs/submission-format.md "
            "or `interop submission product-template`"
        )
    return text
