"""Resource types: their schema (what ``resource_types/<type>`` shows), and how each is made,
changed, removed and read. Heat's own types are here; Nova's, Neutron's and Cinder's, made
through the reference cloud's models, are in ``resource_types_os``.
"""

from __future__ import annotations

import secrets
import string
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pytest_interop.reference.orchestration.exceptions import ResourceFailure

if TYPE_CHECKING:
    from pytest_interop.reference.orchestration.models import Resource, Stack
    from pytest_interop.reference.state import CloudState

POLL_SECONDS = 0.05


@dataclass(frozen=True)
class Prop:
    type: str  # string, integer, number, boolean, list, map
    description: str = ""
    required: bool = False
    default: Any = None
    update_allowed: bool = False

    def schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": self.type,
            "description": self.description,
            "required": self.required,
            "update_allowed": self.update_allowed,
            "immutable": False,
        }
        if self.default is not None:
            out["default"] = self.default
        return out


@dataclass
class Run:
    """What a resource type's code gets: the cloud, the owner's context, the stack, a clock."""

    state: CloudState
    ctx: Any  # RequestContext of the stack's owner
    stack: Stack
    cancelled: threading.Event = field(default_factory=threading.Event)

    def wait_until(self, check: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            if self.cancelled.is_set():
                raise ResourceFailure(f"{what}: the operation was cancelled")
            if time.monotonic() > deadline:
                raise ResourceFailure(f"{what}: timed out after {timeout:.0f}s")
            time.sleep(POLL_SECONDS)


class ResourceType:
    name = ""
    description = ""
    properties: dict[str, Prop] = {}
    attributes: dict[str, str] = {}
    signalable = False

    def check_properties(self, props: dict[str, Any]) -> None:
        unknown = sorted(set(props) - set(self.properties))
        if unknown:
            raise ResourceFailure(f"Unknown Property {unknown[0]}")
        for key, prop in self.properties.items():
            if prop.required and props.get(key) in (None, ""):
                raise ResourceFailure(f"Property {key} not assigned")

    def with_defaults(self, props: dict[str, Any]) -> dict[str, Any]:
        out = {k: p.default for k, p in self.properties.items() if p.default is not None}
        out.update({k: v for k, v in props.items() if v is not None})
        return out

    def needs_replace(self, old: dict[str, Any], new: dict[str, Any]) -> bool:
        changed = {k for k in set(old) | set(new) if old.get(k) != new.get(k)}
        return any(not self.properties.get(k, Prop("string")).update_allowed for k in changed)

    # life cycle, overridden ------------------------------------------------------------
    def create(self, run: Run, resource: Resource) -> None:
        resource.physical_id = resource.physical_id or secrets.token_hex(16)

    def update(self, run: Run, resource: Resource, old: dict[str, Any]) -> None:
        """In place: ``resource.properties`` already holds the new ones."""

    def delete(self, run: Run, resource: Resource) -> None:
        pass

    def signal(self, run: Run, resource: Resource, data: Any) -> None:
        raise ResourceFailure(f"Signal resource during {resource.action} is not supported.")

    def attribute(self, run: Run | None, resource: Resource, name: str) -> Any:
        return resource.data.get(name)

    def reference(self, resource: Resource) -> Any:
        return resource.physical_id

    def schema(self) -> dict[str, Any]:
        return {
            "resource_type": self.name,
            "description": self.description,
            "properties": {k: p.schema() for k, p in self.properties.items()},
            "attributes": {
                **{k: {"description": v, "type": "string"} for k, v in self.attributes.items()},
                "show": {"description": "Detailed information about resource.", "type": "map"},
            },
            "support_status": {"status": "SUPPORTED", "version": None, "message": None},
        }


class NoneResource(ResourceType):
    name = "OS::Heat::None"
    description = "Enables easy disabling of certain resources via the resource_registry."
    properties = {}

    def check_properties(self, props: dict[str, Any]) -> None:
        pass  # any properties are accepted and ignored

    def needs_replace(self, old: dict[str, Any], new: dict[str, Any]) -> bool:
        return False


class ValueResource(ResourceType):
    name = "OS::Heat::Value"
    description = "A resource which exposes its value property as an attribute."
    properties = {
        "value": Prop("any", "The expression to generate the value attribute.", True, None, True),
        "type": Prop("string", "The type of the value property.", update_allowed=True),
    }
    attributes = {"value": "The value generated by this resource's properties value."}

    def attribute(self, run: Run | None, resource: Resource, name: str) -> Any:
        return resource.properties.get("value") if name == "value" else None


CHARACTER_CLASSES = {
    "lettersdigits": string.ascii_letters + string.digits,
    "letters": string.ascii_letters,
    "lowercase": string.ascii_lowercase,
    "uppercase": string.ascii_uppercase,
    "digits": string.digits,
    "hexdigits": string.digits + "abcdef",
    "octdigits": string.octdigits,
}


class RandomString(ResourceType):
    name = "OS::Heat::RandomString"
    description = "A resource which generates a random string."
    properties = {
        "length": Prop("integer", "Length of the string to generate.", default=32),
        "character_classes": Prop("list", "A list of character class and their constraints."),
        "salt": Prop(
            "string",
            "Value which can be set or changed on update to trigger the "
            "resource for replacement with a new random string.",
        ),
    }
    attributes = {"value": "The random string generated by this resource."}

    def create(self, run: Run, resource: Resource) -> None:
        length = int(resource.properties.get("length") or 32)
        classes = resource.properties.get("character_classes") or [{"class": "lettersdigits"}]
        alphabet = "".join(CHARACTER_CLASSES.get(c.get("class", ""), "") for c in classes)
        if not alphabet or not 1 <= length <= 512:
            raise ResourceFailure("length must be within 1..512 and the classes known")
        value = "".join(secrets.choice(alphabet) for _ in range(length))
        resource.data["value"] = value
        resource.physical_id = value

    def attribute(self, run: Run | None, resource: Resource, name: str) -> Any:
        return resource.data.get("value") if name == "value" else None


class SoftwareConfigResource(ResourceType):
    name = "OS::Heat::SoftwareConfig"
    description = "A resource for describing and storing software configuration."
    properties = {
        "group": Prop(
            "string",
            "Namespace to group this software config by when delivered to a server.",
            default="Heat::Ungrouped",
        ),
        "config": Prop("string", "Configuration script or manifest."),
        "options": Prop("map", "Map containing options specific to the configuration tool."),
        "inputs": Prop("list", "Schema representing the inputs that this config expects."),
        "outputs": Prop("list", "Schema representing the outputs that this config produces."),
    }
    attributes = {"config": "The config value of the software config."}

    def create(self, run: Run, resource: Resource) -> None:
        config = run.state.orchestration.create_software_config(
            run.ctx, {"name": resource.physical_name(run.stack), **resource.properties}
        )
        resource.physical_id = config.id

    def delete(self, run: Run, resource: Resource) -> None:
        if resource.physical_id:
            run.state.orchestration.software_configs.pop(resource.physical_id, None)

    def attribute(self, run: Run | None, resource: Resource, name: str) -> Any:
        if run is None or name != "config":
            return None
        config = run.state.orchestration.software_configs.get(resource.physical_id or "")
        return config.config if config else None


class WaitConditionHandle(ResourceType):
    """A handle the guest signals with ``curl_cli``: a Keystone token of the stack's owner,
    made for the handle and revoked with it, as Heat's stack-domain user's token."""

    name = "OS::Heat::WaitConditionHandle"
    description = "Resource for managing signals from a server: a token-authenticated URL."
    properties = {}
    attributes = {
        "token": "Token for stack-user which can be used for signalling handle.",
        "endpoint": "Endpoint/url which can be used for signalling handle.",
        "curl_cli": "Convenience attribute, provides curl CLI command prefix, which can be used "
        "for signalling handle completion or failure.",
        "signal": "JSON serialized map that includes the endpoint, token and/or other "
        "attributes the client must use for signalling this handle.",
    }
    signalable = True

    def create(self, run: Run, resource: Resource) -> None:
        resource.physical_id = secrets.token_hex(16)
        token = run.state.orchestration.stack_user_token(run.ctx)
        resource.data.update(token=token, signals={})

    def delete(self, run: Run, resource: Resource) -> None:
        token = resource.data.get("token")
        if token:
            run.state.identity.revoke_token(token)

    def _endpoint(self, run: Run | None, resource: Resource) -> str:
        if run is None:
            return ""
        return run.state.orchestration.resource_url(run.stack, resource.name) + "/signal"

    def signal(self, run: Run, resource: Resource, data: Any) -> None:
        data = data if isinstance(data, dict) else {}
        status = str(data.get("status", "SUCCESS")).upper()
        if status not in ("SUCCESS", "FAILURE"):
            raise ResourceFailure(f"Metadata format invalid: status {status}")
        signals = resource.data.setdefault("signals", {})
        key = str(data.get("id") or len(signals) + 1)
        signals[key] = {
            "status": status,
            "reason": data.get("reason", "Signal 1 received"),
            "data": data.get("data"),
        }

    def attribute(self, run: Run | None, resource: Resource, name: str) -> Any:
        token = resource.data.get("token", "")
        endpoint = self._endpoint(run, resource)
        if name == "token":
            return token
        if name == "endpoint":
            return endpoint
        if name == "curl_cli":
            return (
                f"curl -i -X POST -H 'X-Auth-Token: {token}' -H 'Content-Type: "
                f"application/json' -H 'Accept: application/json' {endpoint}"
            )
        if name == "signal":
            return {"url": endpoint, "token": token}
        return None


class WaitCondition(ResourceType):
    name = "OS::Heat::WaitCondition"
    description = "Resource for handling signals received by WaitConditionHandle."
    properties = {
        "handle": Prop(
            "string",
            "A reference to the wait condition handle used to signal this wait condition.",
            True,
        ),
        "timeout": Prop(
            "number",
            "The number of seconds to wait for the correct number of signals to arrive.",
            True,
        ),
        "count": Prop(
            "integer",
            "The number of success signals that must be received before "
            "the stack creation process continues.",
            default=1,
            update_allowed=True,
        ),
    }
    attributes = {
        "data": "JSON string containing data associated with wait condition signals "
        "sent to the handle."
    }

    def create(self, run: Run, resource: Resource) -> None:
        handle = run.stack.resource_by_physical_id(resource.properties["handle"])
        if handle is None or handle.type != WaitConditionHandle.name:
            raise ResourceFailure("handle must name an OS::Heat::WaitConditionHandle")
        resource.physical_id = secrets.token_hex(16)
        resource.data["handle"] = handle.name
        count = int(resource.properties.get("count") or 1)
        timeout = float(resource.properties["timeout"])

        def done() -> bool:
            signals = handle.data.get("signals", {}).values()
            failures = [s for s in signals if s["status"] == "FAILURE"]
            if failures:
                raise ResourceFailure(f"WaitConditionFailure: {failures[0]['reason']}")
            return sum(1 for s in signals if s["status"] == "SUCCESS") >= count

        try:
            run.wait_until(done, timeout, "WaitConditionTimeout")
        except ResourceFailure as failure:
            if "timed out" in str(failure):
                raise ResourceFailure(
                    f"WaitConditionTimeout: resources.{resource.name}: "
                    f"{count} of {count} received: 0"
                ) from None
            raise

    def attribute(self, run: Run | None, resource: Resource, name: str) -> Any:
        if name != "data" or run is None:
            return None
        handle = run.stack.resources.get(resource.data.get("handle", ""))
        signals = handle.data.get("signals", {}) if handle else {}
        return {key: value["data"] for key, value in signals.items()}


def registry() -> dict[str, ResourceType]:
    from pytest_interop.reference.orchestration import resource_types_os

    found = [
        NoneResource(),
        ValueResource(),
        RandomString(),
        SoftwareConfigResource(),
        WaitConditionHandle(),
        WaitCondition(),
        *resource_types_os.TYPES,
    ]
    return {item.name: item for item in found}
