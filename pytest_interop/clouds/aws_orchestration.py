"""The orchestration facet of the AWS adapter: CloudFormation through boto3.

Stacks go into the ledger (kind ``stack``, the stack's ARN as its id) and carry the run's
tag; clean-up deletes them before anything else. Heat's tags are words; CloudFormation's are
key/value pairs, so a test's tag ``t`` becomes the tag ``t=true``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

from pytest_interop.clouds.base import ResourceNotFound, Stack, StackResource, settled_stack
from pytest_interop.errors import InfrastructureError
from pytest_interop.resources import TAG_KEY, LedgerRecord

STACK_KIND = "stack"
POLL_SECONDS = 0.5
TAG_VALUE = "true"


def _stack(item: Mapping[str, Any]) -> Stack:
    return Stack(
        id=str(item["StackId"]),
        name=str(item["StackName"]),
        status=str(item["StackStatus"]),
        status_reason=str(item.get("StackStatusReason") or ""),
        outputs={o["OutputKey"]: o.get("OutputValue") for o in item.get("Outputs") or []},
        tags=tuple(t["Key"] for t in item.get("Tags") or [] if t.get("Value") == TAG_VALUE),
    )


class CloudFormationFacet:
    """Mixin for :class:`~pytest_interop.clouds.aws.AwsCloud` (uses its ``_session``,
    ``endpoint_url``, ``_ec2``, ``_retry``, ``_secrets``, ledger helpers)."""

    _session: Any
    _ec2: Any
    _retry: Any
    _secrets: list[Any]
    endpoint_url: str | None
    ledger: Any
    track_intent: Callable[..., LedgerRecord | None]
    track_created: Callable[..., None]
    track_deleted: Callable[..., None]
    resource_name: Callable[[str], str]
    _cfn_client: Any = None

    rollback_by_default = True  # CloudFormation: OnFailure is ROLLBACK unless asked
    template_dialect = "cfn"

    def _cfn(self, call: str, fn: Callable[[Any], Any]) -> Any:
        import botocore.config
        import botocore.exceptions as bce

        from pytest_interop.clouds.aws import _classify, _error_code

        if self._cfn_client is None:
            config = botocore.config.Config(retries={"total_max_attempts": 1, "mode": "standard"})
            self._cfn_client = self._session.client(
                "cloudformation", endpoint_url=self.endpoint_url, config=config
            )
        client = self._cfn_client
        try:
            return self._retry.call(
                f"cloudformation.{call}",
                lambda: fn(client),
                classify=_classify,
                secrets=self._secrets,
            )
        except bce.ClientError as exc:
            if _error_code(exc) == "ValidationError" and "does not exist" in str(exc):
                raise ResourceNotFound(f"cloudformation.{call}: not found") from None
            raise

    def cloudformation(self, call: str, **arguments: Any) -> Any:
        """One CloudFormation request (boto3's method name and arguments); the answer, or
        botocore's ClientError as the service gave it (no not-found translation)."""
        import botocore.exceptions as bce

        try:
            return self._cfn(call, lambda c: getattr(c, call)(**arguments))
        except ResourceNotFound as missing:
            if isinstance(missing.__context__, bce.ClientError):
                raise missing.__context__ from None
            raise

    @staticmethod
    def _parameters(parameters: Mapping[str, Any] | None) -> list[dict[str, str]]:
        return [
            {"ParameterKey": k, "ParameterValue": str(v)} for k, v in (parameters or {}).items()
        ]

    def _wait_stack(self, stack_id: str, timeout: float) -> Stack:
        # without gone_ok a vanished stack raises ResourceNotFound: never None here
        return cast(
            Stack, settled_stack(self.get_stack, stack_id, timeout, call="cloudformation.wait")
        )

    def create_stack(
        self,
        template: str,
        parameters: Mapping[str, Any] | None = None,
        *,
        name: str | None = None,
        rollback: bool = False,
        tags: Sequence[str] = (),
        wait: bool = True,
        timeout: float = 600,
    ) -> Stack:
        name = name or self.resource_name(STACK_KIND)
        stack_tags = [{"Key": t, "Value": TAG_VALUE} for t in tags]
        if self.ledger is not None:
            stack_tags.append({"Key": TAG_KEY, "Value": self.ledger.run_id})
        record = self.track_intent(STACK_KIND, name)
        answer = self._cfn(
            "create_stack",
            lambda c: c.create_stack(
                StackName=name,
                TemplateBody=template,
                Parameters=self._parameters(parameters),
                OnFailure="ROLLBACK" if rollback else "DO_NOTHING",
                Tags=stack_tags,
            ),
        )
        stack_id = answer["StackId"]
        self.track_created(record, stack_id)
        return self._wait_stack(stack_id, timeout) if wait else self.get_stack(stack_id)

    def get_stack(self, stack_id: str) -> Stack:
        items = self._cfn("describe_stacks", lambda c: c.describe_stacks(StackName=stack_id))
        stacks = items.get("Stacks") or []
        if not stacks or stacks[0]["StackStatus"] == "DELETE_COMPLETE":
            raise ResourceNotFound(f"stack {stack_id} is deleted")
        return _stack(stacks[0])

    def list_stacks(self) -> list[Stack]:
        items = self._cfn("describe_stacks", lambda c: c.describe_stacks())["Stacks"]
        return [_stack(item) for item in items if item["StackStatus"] != "DELETE_COMPLETE"]

    def update_stack(
        self,
        stack_id: str,
        template: str,
        parameters: Mapping[str, Any] | None = None,
        *,
        wait: bool = True,
        timeout: float = 600,
    ) -> Stack:
        self._cfn(
            "update_stack",
            lambda c: c.update_stack(
                StackName=stack_id, TemplateBody=template, Parameters=self._parameters(parameters)
            ),
        )
        return self._wait_stack(stack_id, timeout) if wait else self.get_stack(stack_id)

    def delete_stack(self, stack_id: str, *, wait: bool = True, timeout: float = 600) -> None:
        self.get_stack(stack_id)  # ResourceNotFound for a deleted one, as on Heat
        self._cfn("delete_stack", lambda c: c.delete_stack(StackName=stack_id))
        if wait:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    stack = self.get_stack(stack_id)
                except ResourceNotFound:
                    break
                if stack.status == "DELETE_FAILED":
                    raise InfrastructureError(
                        f"stack {stack.name} DELETE_FAILED: {stack.status_reason}",
                        call="cloudformation.delete_stack",
                    )
                if time.monotonic() > deadline:
                    raise InfrastructureError(
                        f"stack {stack.name} still {stack.status}", call="cloudformation.delete"
                    )
                time.sleep(POLL_SECONDS)
        self.track_deleted(STACK_KIND, stack_id)

    def stack_resources(self, stack_id: str) -> list[StackResource]:
        items = self._cfn(
            "list_stack_resources", lambda c: c.list_stack_resources(StackName=stack_id)
        )["StackResourceSummaries"]
        return [
            StackResource(
                name=item["LogicalResourceId"],
                type=item["ResourceType"],
                physical_id=item.get("PhysicalResourceId") or "",
                status=item["ResourceStatus"],
            )
            for item in items
        ]

    def stack_events(self, stack_id: str) -> list[dict[str, Any]]:
        items = self._cfn(
            "describe_stack_events", lambda c: c.describe_stack_events(StackName=stack_id)
        )["StackEvents"]
        return [
            {
                "resource_name": item["LogicalResourceId"],
                "physical_id": item.get("PhysicalResourceId") or "",
                "status": item["ResourceStatus"],
                "reason": item.get("ResourceStatusReason") or "",
            }
            for item in reversed(items)  # CloudFormation lists the newest first
        ]

    def stack_resource_exists(self, resource: StackResource) -> bool:
        import botocore.exceptions as bce

        ec2, ident = self._ec2, resource.physical_id
        if not ident:
            return False
        finders: dict[str, Callable[[], list[Any]]] = {
            "AWS::EC2::Instance": lambda: [
                i
                for r in ec2.describe_instances(InstanceIds=[ident])["Reservations"]
                for i in r["Instances"]
                if i["State"]["Name"] != "terminated"
            ],
            "AWS::EC2::KeyPair": lambda: ec2.describe_key_pairs(KeyNames=[ident])["KeyPairs"],
            "AWS::EC2::SecurityGroup": lambda: ec2.describe_security_groups(GroupIds=[ident])[
                "SecurityGroups"
            ],
            "AWS::EC2::Volume": lambda: ec2.describe_volumes(VolumeIds=[ident])["Volumes"],
        }
        if resource.type not in finders:
            raise ValueError(f"{resource.type} is not a resource this facet looks for")
        try:
            return bool(finders[resource.type]())
        except bce.ClientError as exc:
            if "NotFound" in str(exc) or "does not exist" in str(exc):
                return False
            raise

    def _delete_stack_if_there(self, record: LedgerRecord) -> bool:
        stack_id = record.resource_id or record.name
        if not stack_id:
            return False
        try:
            self.delete_stack(stack_id)
        except ResourceNotFound:
            return False
        return True
