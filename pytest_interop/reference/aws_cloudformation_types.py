"""CloudFormation's registry as the reference AWS endpoint answers it (moto has no ListTypes
or DescribeType): the public resource types are those this endpoint can make, each described
by the resource provider schema AWS publishes for us-east-1, as cfn-lint ships it.

Visibility PRIVATE (the default, as on AWS) lists what the account registered: nothing here.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from moto.cloudformation.exceptions import CloudFormationError

REGION = "us-east-1"  # cfn-lint's provider schemas are per region; the endpoint's types are not
PAGE = 100


class TypeNotFoundException(CloudFormationError):
    code = "TypeNotFoundException"


@functools.cache
def _schema(type_name: str) -> dict[str, Any] | None:  # callers must not change it
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

    try:
        return dict(PROVIDER_SCHEMA_MANAGER.get_resource_schema(REGION, type_name).schema)
    except Exception:  # cfn-lint has no schema for it (ResourceNotFoundError and the like)
        return None


def public_types() -> list[str]:
    """The resource types this endpoint's CloudFormation makes, that AWS publishes a schema of."""
    from moto.cloudformation.parsing import NULL_MODELS, get_model_map

    names = set(get_model_map()) | set(NULL_MODELS)
    return sorted(n for n in names if n.count("::") == 2 and _schema(n) is not None)


def _arn(type_name: str) -> str:
    return f"arn:aws:cloudformation:{REGION}::type/resource/{type_name.replace('::', '-')}"


def list_types(self: Any) -> Any:
    from moto.core.responses import ActionResult

    visibility = self._get_param("Visibility") or "PRIVATE"
    kind = self._get_param("Type") or "RESOURCE"
    prefix = (self._get_param("Filters") or {}).get("TypeNamePrefix") or ""
    names = public_types() if visibility == "PUBLIC" and kind == "RESOURCE" else []
    names = [n for n in names if n.startswith(prefix)]
    start = int(self._get_param("NextToken") or 0)
    size = int(self._get_param("MaxResults") or PAGE)
    page = names[start : start + size]
    summaries = [
        {
            "Type": "RESOURCE",
            "TypeName": name,
            "TypeArn": _arn(name),
            "Description": str((_schema(name) or {}).get("description") or ""),
            "IsActivated": True,
        }
        for name in page
    ]
    result: dict[str, Any] = {"TypeSummaries": summaries}
    if start + size < len(names):
        result["NextToken"] = str(start + size)
    return ActionResult(result)


def describe_type(self: Any) -> Any:
    from moto.core.responses import ActionResult

    name = self._get_param("TypeName") or ""
    arn = self._get_param("Arn")
    if arn and not name:
        name = arn.rsplit("/", 1)[-1].replace("-", "::")
    schema = _schema(name) if name in public_types() else None
    if (self._get_param("Type") or "RESOURCE") != "RESOURCE" or schema is None:
        raise TypeNotFoundException(f"The type '{name}' cannot be found.")
    return ActionResult(
        {
            "Arn": _arn(name),
            "Type": "RESOURCE",
            "TypeName": name,
            "Description": str(schema.get("description") or ""),
            "Schema": json.dumps(schema),
            "Visibility": "PUBLIC",
            "ProvisioningType": "FULLY_MUTABLE",
            "DeprecatedStatus": "LIVE",
            "IsActivated": True,
        }
    )


def install() -> None:
    from moto.cloudformation.responses import CloudFormationResponse

    CloudFormationResponse.list_types = list_types  # type: ignore[attr-defined]
    CloudFormationResponse.describe_type = describe_type  # type: ignore[attr-defined]


def remove() -> None:
    from moto.cloudformation.responses import CloudFormationResponse

    for name in ("list_types", "describe_type"):
        if name in CloudFormationResponse.__dict__:
            delattr(CloudFormationResponse, name)
