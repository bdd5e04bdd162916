"""What the reference AWS endpoint adds to moto's CloudFormation, so that the orchestration
tests' template runs as on AWS (moto serves CloudFormation itself, on the same port):

- ``AWS::EC2::KeyPair``, which moto's CloudFormation does not know: imported when the
  template gives ``PublicKeyMaterial``, else made, its private key stored as AWS does, in the
  SSM parameter ``/ec2/keypair/<KeyPairId>``;
- a failed create: moto raises out of CreateStack and leaves what it made; CloudFormation
  answers, marks the stack CREATE_FAILED and (``OnFailure=ROLLBACK``, the default) deletes
  what was made, ROLLBACK_COMPLETE, with an event for each resource made and deleted;
- deleting an ``AWS::EC2::Volume`` and ``AWS::EC2::VolumeAttachment`` with their stack
  (moto leaves both);
- updating an ``AWS::EC2::Instance`` (moto cannot: it drops the instance from the stack). As
  CloudFormation documents it, a new ``InstanceType`` or ``UserData`` changes the instance in
  place (stopped and started), a new ``ImageId`` or ``KeyName`` replaces it; tags change in
  place.

:func:`install` applies all of these for as long as a ReferenceAws runs; :func:`remove` undoes the
instance update.
"""

from __future__ import annotations

from typing import Any

from moto.core.common_models import CloudFormationModel

REPLACING = ("ImageId", "KeyName", "SubnetId", "SecurityGroups", "AvailabilityZone")


def _ec2(account_id: str, region_name: str) -> Any:
    from moto.ec2.models import ec2_backends

    return ec2_backends[account_id][region_name]


def _ssm(account_id: str, region_name: str) -> Any:
    from moto.ssm.models import ssm_backends

    return ssm_backends[account_id][region_name]


class CfnKeyPair(CloudFormationModel):
    """``AWS::EC2::KeyPair``: Ref is the key name; ``KeyPairId`` and ``KeyFingerprint``."""

    def __init__(self, key: Any, account_id: str, region_name: str) -> None:
        self.key = key
        self.account_id = account_id
        self.region_name = region_name

    @property
    def physical_resource_id(self) -> str:
        return str(self.key.key_name)

    @staticmethod
    def cloudformation_name_type() -> str:
        return "KeyName"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::EC2::KeyPair"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in ("KeyPairId", "KeyFingerprint")

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name == "KeyPairId":
            return self.key.id
        if attribute_name == "KeyFingerprint":
            return self.key.key_fingerprint
        from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

        raise UnformattedGetAttTemplateException()

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]
        cls,
        resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> CfnKeyPair:
        properties = cloudformation_json.get("Properties") or {}
        name = properties.get("KeyName") or resource_name
        tags = {t["Key"]: t["Value"] for t in properties.get("Tags") or []}
        ec2 = _ec2(account_id, region_name)
        material = properties.get("PublicKeyMaterial")
        if material:
            key = ec2.import_key_pair(name, material.encode(), tags)
        else:
            key = ec2.create_key_pair(name, properties.get("KeyType") or "rsa", tags)
            _ssm(account_id, region_name).put_parameter(
                name=f"/ec2/keypair/{key.id}",
                description=f"the private key of {name}",
                value=key.key_material,
                parameter_type="SecureString",
                allowed_pattern=None,
                keyid=None,
                overwrite=True,
                tags=[],
                data_type="text",
                tier=None,
                policies=None,
            )
        return cls(key, account_id, region_name)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[override]
        cls,
        original_resource: Any,
        new_resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
    ) -> CfnKeyPair:
        # every property of a key pair needs a new one: the old goes, a new one comes
        original_resource.delete(account_id, region_name)
        return cls.create_from_cloudformation_json(
            new_resource_name, cloudformation_json, account_id, region_name
        )

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[override]
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str
    ) -> None:
        _ec2(account_id, region_name).delete_key_pair(resource_name)

    def delete(self, account_id: str, region_name: str) -> None:
        _ec2(account_id, region_name).delete_key_pair(self.key.key_name)
        ssm = _ssm(account_id, region_name)
        ssm._parameters.pop(f"/ec2/keypair/{self.key.id}", None)


def _update_instance(
    cls: Any,
    original_resource: Any,
    new_resource_name: str,
    cloudformation_json: Any,
    account_id: str,
    region_name: str,
) -> Any:
    """CloudFormation's update of an instance: in place, unless a replacing property moved."""
    properties = cloudformation_json["Properties"]
    instance = original_resource
    ec2 = _ec2(account_id, region_name)
    current = {
        "ImageId": instance.image_id,
        "KeyName": instance.key_name,
        "SubnetId": instance.subnet_id if properties.get("SubnetId") else None,
    }
    if any(k in properties and properties[k] != current.get(k) for k in ("ImageId", "KeyName")):
        replacement = cls.create_from_cloudformation_json(
            new_resource_name, cloudformation_json, account_id, region_name
        )
        ec2.terminate_instances([instance.id])
        return replacement
    wanted_type = properties.get("InstanceType", instance.instance_type)
    if wanted_type != instance.instance_type:
        ec2.modify_instance_attribute(instance.id, "instance_type", wanted_type)
    if "UserData" in properties:
        instance.user_data = properties["UserData"]
    for tag in properties.get("Tags") or []:
        instance.add_tag(tag["Key"], tag["Value"])
    return instance


def _delete_volume(volume: Any, account_id: str, region_name: str) -> None:
    ec2 = _ec2(account_id, region_name)
    attachment = volume.attachment
    if attachment is not None:
        ec2.detach_volume(volume.id, attachment.instance.id, attachment.device)
    ec2.delete_volume(volume.id)


def _delete_attachment(attachment: Any, account_id: str, region_name: str) -> None:
    if attachment.volume.attachment is not None:
        _ec2(account_id, region_name).detach_volume(
            attachment.volume.id, attachment.instance.id, attachment.device
        )


_installed: dict[str, Any] = {}


def install() -> None:
    from moto.cloudformation.parsing import get_model_map
    from moto.ec2.models.instances import Instance

    if "instance" not in _installed:
        _installed["instance"] = Instance.__dict__.get("update_from_cloudformation_json")
        Instance.update_from_cloudformation_json = classmethod(_update_instance)  # type: ignore[assignment,method-assign]
    from moto.ec2.models.elastic_block_store import Volume, VolumeAttachment

    if "volume" not in _installed:  # moto's stack delete leaves EBS volumes and attachments
        _installed["volume"] = True
        Volume.delete = _delete_volume  # type: ignore[attr-defined]
        VolumeAttachment.delete = _delete_attachment  # type: ignore[attr-defined]
    get_model_map.cache_clear()  # CfnKeyPair is a CloudFormationModel subclass: now it counts
    install_rollback()
    from pytest_interop.reference import aws_cloudformation_api

    aws_cloudformation_api.install()  # after the rollback: its create wraps that one


def remove() -> None:
    from moto.ec2.models.instances import Instance

    from pytest_interop.reference import aws_cloudformation_api

    aws_cloudformation_api.remove()
    remove_rollback()
    if _installed.pop("volume", None):
        from moto.ec2.models.elastic_block_store import Volume, VolumeAttachment

        del Volume.delete, VolumeAttachment.delete  # type: ignore[attr-defined]
    if "instance" in _installed:
        original = _installed.pop("instance")
        if original is None:
            del Instance.update_from_cloudformation_json
        else:
            Instance.update_from_cloudformation_json = original  # type: ignore[method-assign]


def user_data_text(value: Any) -> str:
    """An instance's user data as the guest reads it: moto keeps it base64-encoded, as a
    ``Base64EncodedString`` (RunInstances) or a plain string (CloudFormation's Fn::Base64)."""
    import base64
    import binascii

    if value is None:
        return ""
    if not isinstance(value, str):
        return str(value.decode())
    try:
        return base64.b64decode(value, validate=True).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return value


# CreateStack's OnFailure (or DisableRollback), read by the endpoint's middleware under the
# lock that every moto call runs under, for the create that follows
on_failure = {"mode": "ROLLBACK"}


def _resource_event(stack: Any, logical_id: str, resource: Any, status: str, reason: str) -> None:
    from moto.cloudformation.models import Event

    stack.events.append(
        Event(
            stack_id=stack.stack_id,
            stack_name=stack.name,
            logical_resource_id=logical_id,
            physical_resource_id=getattr(resource, "physical_resource_id", None) or "",
            resource_type=getattr(resource, "cf_resource_type", "") or "",
            resource_status=status,
            resource_status_reason=reason,
            resource_properties=None,
        )
    )


def _create_resources(original: Any) -> Any:
    """moto's create, made CloudFormation's: a resource that fails fails the stack (the
    request still succeeds), and unless OnFailure says otherwise what was made is removed."""

    def create_resources(stack: Any) -> None:
        mode = on_failure["mode"]
        on_failure["mode"] = "ROLLBACK"
        try:
            original(stack)
        except Exception as error:
            made = {
                name: resource
                for name, resource in stack.resource_map._parsed_resources.items()
                if name in stack.resource_map._resource_json_map
                and resource is not None
                and not isinstance(resource, str)
            }
            for name, resource in made.items():
                _resource_event(stack, name, resource, "CREATE_COMPLETE", "")
            reason = f"{type(error).__name__}: {error}"
            stack.status = "CREATE_FAILED"
            stack._add_stack_event("CREATE_FAILED", resource_status_reason=reason)
            if mode != "ROLLBACK":
                return
            stack.status = "ROLLBACK_IN_PROGRESS"
            stack._add_stack_event("ROLLBACK_IN_PROGRESS", resource_status_reason=reason)
            stack.resource_map.delete()
            for name, resource in made.items():
                _resource_event(stack, name, resource, "DELETE_COMPLETE", "")
            stack.status = "ROLLBACK_COMPLETE"
            stack._add_stack_event("ROLLBACK_COMPLETE")

    return create_resources


def install_rollback() -> None:
    from moto.cloudformation.models import Stack as FakeStack

    if "create" not in _installed:
        _installed["create"] = FakeStack.create_resources
        FakeStack.create_resources = _create_resources(FakeStack.create_resources)  # type: ignore[method-assign]


def remove_rollback() -> None:
    from moto.cloudformation.models import Stack as FakeStack

    if "create" in _installed:
        FakeStack.create_resources = _installed.pop("create")  # type: ignore[method-assign]


def read_on_failure(params: dict[str, list[str]]) -> None:
    """Note CreateStack's failure mode before moto runs it (the caller holds moto's lock)."""
    mode = (params.get("OnFailure") or [""])[0]
    if not mode:
        disabled = (params.get("DisableRollback") or ["false"])[0].lower() == "true"
        mode = "DO_NOTHING" if disabled else "ROLLBACK"
    on_failure["mode"] = mode
