"""Discovery on the AWS adapter asks EC2 for the candidates only, and still finds the same."""

from __future__ import annotations

from typing import Any

from pytest_interop.clouds import discovery
from pytest_interop.clouds.aws import AwsCloud
from pytest_interop.reference.aws import ReferenceAws
from pytest_interop.resources import ResourceLedger
from tests.functional.clouds.conftest import aws_spec


class _Transferred:
    """Counts the items each EC2 describe call brings back to the client."""

    def __init__(self, cloud: AwsCloud) -> None:
        self.items: dict[str, int] = {}
        cloud.native.meta.events.register("after-call.ec2", self._count)

    def _count(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        key = {"DescribeImages": "Images", "DescribeInstanceTypes": "InstanceTypes"}.get(model.name)
        if key:
            self.items[model.name] = self.items.get(model.name, 0) + len(parsed.get(key, []))


def test_discovery_transfers_few_items_and_chooses_as_the_full_lists_do(
    reference_aws: ReferenceAws, ledger: ResourceLedger
) -> None:
    cloud = AwsCloud.from_spec(aws_spec(reference_aws), ledger)
    transferred = _Transferred(cloud)
    image = cloud.discover_image()
    flavor = cloud.discover_flavor(image)
    narrowed = dict(transferred.items)

    # The same choice from the full lists (what discovery read before it narrowed).
    full_images = cloud.list_images()
    full_flavors = cloud.list_flavors()
    linux = [
        i
        for i in full_images
        if discovery.is_linux(i) and i.properties.get("architecture") == "x86_64"
    ]
    newest_al2023 = max(
        (i for i in linux if i.name.startswith("al2023-ami-")),
        key=lambda i: i.properties.get("creation_date") or "",
    )
    assert image.id == newest_al2023.id
    smallest = discovery.choose_flavor([f for f in full_flavors if f.ram_mb >= 512], image)
    assert flavor == smallest.value

    # Far fewer items crossed the wire than the full lists hold.
    assert narrowed["DescribeImages"] * 4 < len(full_images), narrowed
    assert narrowed["DescribeInstanceTypes"] * 4 < len(full_flavors), narrowed
    cloud.close()
