"""The templates the orchestration tests run, in each provider's language.

``node``: a key pair made by the stack (its private key an output), a network of its own
routed to the outside, a security group that lets SSH in, a server whose user data writes a
marker file (and, with ``signal``, signals a wait condition from inside the guest), and the
address the tester reaches it on. HOT on OpenStack; CloudFormation on AWS.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from pytest_interop.clouds.base import Cloud, Flavor
from pytest_interop.errors import NotApplicable

MARKER = "/var/tmp/interop-stack-marker"
HOT_VERSION = "2018-08-31"


@dataclass
class Spec:
    template: str
    parameters: dict[str, Any]
    login_user: str | None
    flavor: Flavor
    key_path: str | None = None  # a key made here and imported; else the stack's output


def larger_flavor(cloud: Cloud, flavor: Flavor) -> Flavor:
    """The smallest flavor with more vCPUs, more RAM and at least as much disk."""
    bigger = [
        f
        for f in cloud.list_flavors()
        if f.vcpus > flavor.vcpus and f.ram_mb > flavor.ram_mb and f.disk_gb >= flavor.disk_gb
    ]
    if not bigger:
        raise NotApplicable(f"{cloud.name} has no flavor larger than {flavor.name}")
    return min(bigger, key=lambda f: (f.vcpus, f.ram_mb, f.disk_gb))


def _external_network(cloud: Cloud) -> str:
    networks = [n for n in cloud.native.network.networks(is_router_external=True)]
    if not networks:
        raise NotApplicable(f"{cloud.name} has no external network to route a stack's network to")
    return str(networks[0].id)


HOT_NODE = """
heat_template_version: {version}
description: A node of its own - key pair, network, router, security group, server, address
parameters:
  image: {{type: string}}
  flavor: {{type: string}}
  external_network: {{type: string}}
  marker: {{type: string, description: written into the guest by the user data}}
  greeting: {{type: string, default: hello}}
  cidr: {{type: string, description: the stack network's own addresses}}
resources:
  key:
    type: OS::Nova::KeyPair
    properties:
      name: {{list_join: ['-', [{{get_param: 'OS::stack_name'}}, key]]}}
      save_private_key: true
  net: {{type: OS::Neutron::Net}}
  subnet:
    type: OS::Neutron::Subnet
    properties: {{network: {{get_resource: net}}, cidr: {{get_param: cidr}}}}
  router:
    type: OS::Neutron::Router
    properties: {{external_gateway_info: {{network: {{get_param: external_network}}}}}}
  router_interface:
    type: OS::Neutron::RouterInterface
    properties: {{router: {{get_resource: router}}, subnet: {{get_resource: subnet}}}}
  ssh:
    type: OS::Neutron::SecurityGroup
    properties:
      rules: [{{protocol: tcp, port_range_min: 22, port_range_max: 22,
               remote_ip_prefix: 0.0.0.0/0}}]
  port:
    type: OS::Neutron::Port
    properties:
      network: {{get_resource: net}}
      fixed_ips: [{{subnet: {{get_resource: subnet}}}}]
      security_groups: [{{get_resource: ssh}}]
{signal_resources}
  server:
    type: OS::Nova::Server
    properties:
      image: {{get_param: image}}
      flavor: {{get_param: flavor}}
      key_name: {{get_resource: key}}
      networks: [{{port: {{get_resource: port}}}}]
      metadata: {{greeting: {{get_param: greeting}}}}
      user_data_format: RAW
      user_data:
        str_replace:
          template: |
            #!/bin/sh
            echo "$marker" > {marker_path}
{signal_line}
          params:
            $marker: {{get_param: marker}}
{signal_param}
  address:
    type: OS::Neutron::FloatingIP
    depends_on: router_interface
    properties:
      floating_network: {{get_param: external_network}}
      port_id: {{get_resource: port}}
{wait_resource}
outputs:
  address:
    description: where the tester reaches the server
    value: {{get_attr: [address, floating_ip_address]}}
  private_key:
    description: the stack's key pair's private key
    value: {{get_attr: [key, private_key]}}
  server_id:
    value: {{get_resource: server}}
{wait_output}
"""
HOT_SIGNAL_RESOURCES = """  handle:
    type: OS::Heat::WaitConditionHandle"""
HOT_SIGNAL_LINE = (
    '            wc_notify --data-binary "{\\"status\\": \\"SUCCESS\\", \\"data\\": '
    '\\"$(cat /proc/sys/kernel/random/boot_id)\\"}"'
)
HOT_SIGNAL_PARAM = "            wc_notify: {get_attr: [handle, curl_cli]}"
HOT_WAIT = """  booted:
    type: OS::Heat::WaitCondition
    depends_on: server
    properties:
      handle: {get_resource: handle}
      timeout: 300
      count: 1"""
HOT_WAIT_OUTPUT = """  signalled:
    description: what the guest sent to the wait condition
    value: {get_attr: [booted, data]}"""


def node(cloud: Cloud, *, flavor: Flavor | None = None, signal: bool = False) -> Spec:
    """The node template and its parameters for this cloud."""
    dialect = cloud.template_dialect
    image = cloud.discover_image()
    chosen = flavor or cloud.discover_flavor(image)
    marker = secrets.token_hex(8)
    if dialect != "hot":
        from pytest_interop.suite.orchestration import templates_cfn

        return templates_cfn.node(cloud, image, chosen, marker, signal=signal)
    text = HOT_NODE.format(
        version=HOT_VERSION,
        marker_path=MARKER,
        signal_resources=HOT_SIGNAL_RESOURCES if signal else "",
        signal_line=HOT_SIGNAL_LINE if signal else "",
        signal_param=HOT_SIGNAL_PARAM if signal else "",
        wait_resource=HOT_WAIT if signal else "",
        wait_output=HOT_WAIT_OUTPUT if signal else "",
    )
    parameters = {
        "image": image.id,
        "flavor": chosen.id,
        "external_network": _external_network(cloud),
        "marker": marker,
        "cidr": f"10.250.{secrets.randbelow(250)}.0/24",
    }
    return Spec(text, parameters, image.login_user, chosen)


HOT_ROLLBACK = """
heat_template_version: {version}
description: Made, then a wait condition nobody signals times out - the stack rolls back
resources:
  key:
    type: OS::Nova::KeyPair
    properties:
      name: {{list_join: ['-', [{{get_param: 'OS::stack_name'}}, key]]}}
  net: {{type: OS::Neutron::Net}}
  subnet:
    type: OS::Neutron::Subnet
    properties: {{network: {{get_resource: net}}, cidr: 10.251.{octet}.0/24}}
  group: {{type: OS::Neutron::SecurityGroup}}
  handle: {{type: OS::Heat::WaitConditionHandle}}
  never_signalled:
    type: OS::Heat::WaitCondition
    depends_on: [key, subnet, group]
    properties: {{handle: {{get_resource: handle}}, timeout: 3}}
"""


def rollback(cloud: Cloud) -> str:
    """A template that makes a key pair, a network and a security group, then fails."""
    if cloud.template_dialect != "hot":
        from pytest_interop.suite.orchestration import templates_cfn

        return templates_cfn.ROLLBACK
    return HOT_ROLLBACK.format(version=HOT_VERSION, octet=secrets.randbelow(250))


def resource_types(text: str) -> dict[str, str]:
    """Each resource's type, as the template names it (HOT or CloudFormation)."""
    import yaml

    document = yaml.safe_load(text)
    resources = document.get("resources") or document.get("Resources") or {}
    return {name: str(entry.get("type") or entry.get("Type")) for name, entry in resources.items()}


class NoDates(__import__("yaml").SafeLoader):
    """YAML as Heat reads it: ``2018-08-31`` stays a string."""


NoDates.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in NoDates.yaml_implicit_resolvers.items()
}


HOT_MINIMAL = f"heat_template_version: {HOT_VERSION}\ndescription: nothing in it\n"
CFN_MINIMAL = """
AWSTemplateFormatVersion: '2010-09-09'
Description: nothing in it (a stack needs one resource; a handle makes nothing)
Resources:
  nothing: {Type: AWS::CloudFormation::WaitConditionHandle}
"""


def minimal(cloud: Cloud) -> str:
    """The smallest stack the provider accepts."""
    return HOT_MINIMAL if cloud.template_dialect == "hot" else CFN_MINIMAL


def added_output(cloud: Cloud) -> tuple[str, str]:
    """A template adding a resource and an output naming it; the output's expected prefix."""
    if cloud.template_dialect == "hot":
        return (
            f"heat_template_version: {HOT_VERSION}\nresources:\n  later:\n"
            "    type: OS::Heat::Value\n    properties: {value: added-by-update}\n"
            "outputs:\n  later: {value: {get_attr: [later, value]}}\n",
            "added-by-update",
        )
    return (
        CFN_MINIMAL
        + "  later:\n    Type: AWS::EC2::SecurityGroup\n"
        + "    Properties: {GroupDescription: added by the update}\n"
        + "Outputs:\n  later: {Value: {Ref: later}}\n",
        "sg-",
    )
