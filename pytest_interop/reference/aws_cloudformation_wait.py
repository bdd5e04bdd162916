"""``AWS::CloudFormation::WaitConditionHandle`` and ``WaitCondition`` as CloudFormation runs
them (moto ignores both): a handle's Ref is a presigned URL on this endpoint; a guest PUTs its
signal there (``{"Status", "UniqueId", "Data", "Reason"}``), and the stack stays
CREATE_IN_PROGRESS until each wait condition has its ``Count`` of SUCCESS signals. A FAILURE
signal or the ``Timeout`` fails the stack's create (and rolls it back, unless OnFailure said
otherwise). ``Fn::GetAtt [wait, Data]`` is the JSON object of UniqueId to Data.

The endpoint's middleware hands requests for :data:`PATH` to :func:`signal`, under moto's lock.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from moto.core.common_models import CloudFormationModel

PATH = "/cloudformation-waitcondition/"
endpoint = {"url": "", "lock": None}  # set by the ReferenceAws that serves them
_handles: dict[str, CfnWaitConditionHandle] = {}
_installed: dict[str, Any] = {}
TYPES = ("AWS::CloudFormation::WaitCondition", "AWS::CloudFormation::WaitConditionHandle")


class CfnWaitConditionHandle(CloudFormationModel):
    def __init__(self, logical_id: str) -> None:
        self.id = secrets.token_hex(12)
        self.token = secrets.token_urlsafe(24)
        self.logical_id = logical_id
        self.signals: dict[str, dict[str, str]] = {}
        self.waits: list[CfnWaitCondition] = []
        _handles[self.id] = self

    @property
    def url(self) -> str:
        return f"{endpoint['url']}{PATH}{self.id}?X-Amz-Signature={self.token}"

    @property
    def physical_resource_id(self) -> str:
        return self.url

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::CloudFormation::WaitConditionHandle"

    def is_created(self) -> bool:
        return True

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]
        cls,
        resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> CfnWaitConditionHandle:
        return cls(resource_name)

    def delete(self, account_id: str, region_name: str) -> None:
        _handles.pop(self.id, None)


class CfnWaitCondition(CloudFormationModel):
    def __init__(self, handle: CfnWaitConditionHandle, count: int, timeout: float) -> None:
        self.handle = handle
        self.count = count
        self.stack: Any = None  # the moto stack: found when the create returns
        self.failed = ""
        handle.waits.append(self)
        timer = threading.Timer(timeout, self._timed_out)
        timer.daemon = True
        timer.start()
        self.timer = timer

    @property
    def physical_resource_id(self) -> str:
        return f"{self.handle.id}-wait"

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::CloudFormation::WaitCondition"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "Data"

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name == "Data":
            return json.dumps({k: v.get("Data", "") for k, v in self.handle.signals.items()})
        from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

        raise UnformattedGetAttTemplateException()

    def successes(self) -> int:
        return sum(1 for s in self.handle.signals.values() if s.get("Status") == "SUCCESS")

    def is_created(self) -> bool:
        return self.successes() >= self.count

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]
        cls,
        resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> CfnWaitCondition:
        from moto.cloudformation.exceptions import ValidationError

        properties = cloudformation_json.get("Properties") or {}
        url = str(properties.get("Handle") or "")
        handle = _handles.get(url.split(PATH, 1)[-1].split("?", 1)[0])
        if handle is None:
            raise ValidationError(message=f"WaitCondition {resource_name}: no such Handle {url}")
        timeout = min(float(properties.get("Timeout") or 43200), 43200)
        return cls(handle, int(properties.get("Count") or 1), timeout)

    def delete(self, account_id: str, region_name: str) -> None:
        self.timer.cancel()

    def _timed_out(self) -> None:
        lock = endpoint["lock"]
        with lock if lock is not None else threading.Lock():
            if not self.is_created() and not self.failed:
                self.fail(
                    f"WaitCondition timed out. Received {self.successes()} conditions when "
                    f"expecting {self.count}"
                )

    def fail(self, reason: str) -> None:
        from pytest_interop.reference import aws_cloudformation

        self.failed = reason
        self.timer.cancel()
        stack = self.stack
        if stack is None or stack.status != "CREATE_IN_PROGRESS":
            return
        name = _logical_id(stack, self)
        aws_cloudformation._resource_event(stack, name, self, "CREATE_FAILED", reason)
        stack.events[-1].resource_type = self.cloudformation_type()
        stack.status = "CREATE_FAILED"
        stack._add_stack_event("CREATE_FAILED", resource_status_reason=reason)
        if not getattr(stack, "interop_rollback", True):
            return
        stack.status = "ROLLBACK_IN_PROGRESS"
        stack._add_stack_event("ROLLBACK_IN_PROGRESS", resource_status_reason=reason)
        stack.resource_map.delete()
        stack.status = "ROLLBACK_COMPLETE"
        stack._add_stack_event("ROLLBACK_COMPLETE")

    def complete(self) -> None:
        """The last signal came: the wait condition completes, and the stack if it was last."""
        from pytest_interop.reference import aws_cloudformation

        self.timer.cancel()
        stack = self.stack
        if stack is None or stack.status != "CREATE_IN_PROGRESS":
            return
        aws_cloudformation._resource_event(
            stack, _logical_id(stack, self), self, "CREATE_COMPLETE", ""
        )
        stack.events[-1].resource_type = self.cloudformation_type()
        if stack.resource_map.creation_complete():
            stack.output_map = stack._create_output_map()  # outputs read Data afresh
            stack.mark_creation_complete()


def _logical_id(stack: Any, resource: Any) -> str:
    for name, made in stack.resource_map._parsed_resources.items():
        if made is resource:
            return str(name)
    return ""


def waits_of(stack: Any) -> list[CfnWaitCondition]:
    """The stack's wait conditions, told which stack they hold (after moto's create)."""
    found = [
        made
        for made in stack.resource_map._parsed_resources.values()
        if isinstance(made, CfnWaitCondition)
    ]
    for wait in found:
        wait.stack = stack
    return found


def signal(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """A guest's PUT to a handle's URL (the caller holds moto's lock)."""
    handle_id = environ.get("PATH_INFO", "")[len(PATH) :]
    token = (parse_qs(environ.get("QUERY_STRING", "")).get("X-Amz-Signature") or [""])[0]
    handle = _handles.get(handle_id)
    if handle is None or not secrets.compare_digest(token, handle.token):
        start_response("403 Forbidden", [("Content-Type", "application/xml")])
        return [b"<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"]
    if environ.get("REQUEST_METHOD") != "PUT":
        start_response("405 Method Not Allowed", [("Content-Type", "application/xml")])
        return [b"<Error><Code>MethodNotAllowed</Code></Error>"]
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    try:
        sent = json.loads(body.decode("utf-8"))
        status = str(sent["Status"])
        if status not in ("SUCCESS", "FAILURE"):
            raise ValueError(status)
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        start_response("400 Bad Request", [("Content-Type", "application/xml")])
        return [b"<Error><Code>MalformedSignal</Code></Error>"]
    unique = str(sent.get("UniqueId") or len(handle.signals) + 1)
    handle.signals[unique] = {
        "Status": status,
        "Data": str(sent.get("Data") or ""),
        "Reason": str(sent.get("Reason") or ""),
    }
    for wait in handle.waits:
        if status == "FAILURE":
            wait.fail(
                f"WaitCondition received failed message: '{sent.get('Reason') or ''}' "
                f"for uniqueId: {unique}"
            )
        elif wait.is_created():
            wait.complete()
    start_response("200 OK", [("Content-Length", "0")])
    return [b""]


def install() -> None:
    from moto.cloudformation import parsing

    if "null" not in _installed:
        _installed["null"] = [t for t in TYPES if t in parsing.NULL_MODELS]
        for name in _installed["null"]:
            parsing.NULL_MODELS.remove(name)
        parsing.get_model_map.cache_clear()


def remove() -> None:
    from moto.cloudformation import parsing

    for name in _installed.pop("null", []):
        parsing.NULL_MODELS.append(name)
    parsing.get_model_map.cache_clear()
    for handle in _handles.values():  # no timer outlives the endpoint
        for wait in handle.waits:
            wait.timer.cancel()
    _handles.clear()
