"""The CloudFormation versions of the orchestration tests' templates (see ``templates``).

Long-form intrinsic functions (``{"Ref": ...}``), so that plain YAML reads them. The node's
key pair is imported (``PublicKeyMaterial``) from a key made here: CloudFormation keeps a
key pair it makes in SSM Parameter Store, never in a stack output.
"""

from __future__ import annotations

from pytest_interop.clouds.base import Cloud, Flavor, Image

NODE = """
AWSTemplateFormatVersion: '2010-09-09'
Description: A node of its own - key pair, security group, instance, EBS volume, address
Parameters:
  image: {Type: String}
  flavor: {Type: String}
  marker: {Type: String, Description: written into the guest by the user data}
  greeting: {Type: String, Default: hello}
  publickey: {Type: String}
Resources:
  key:
    Type: AWS::EC2::KeyPair
    Properties:
      KeyName: {"Fn::Sub": "${AWS::StackName}-key"}
      PublicKeyMaterial: {Ref: publickey}
  ssh:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: SSH in
      SecurityGroupIngress: [{IpProtocol: tcp, FromPort: 22, ToPort: 22, CidrIp: 0.0.0.0/0}]
  server:
    Type: AWS::EC2::Instance
    Properties:
      ImageId: {Ref: image}
      InstanceType: {Ref: flavor}
      KeyName: {Ref: key}
      SecurityGroups: [{Ref: ssh}]
      Tags: [{Key: greeting, Value: {Ref: greeting}}]
      UserData:
        "Fn::Base64":
          "Fn::Sub": |
            #!/bin/sh
            echo "${marker}" > %(marker_path)s
%(signal_line)s  disk:
    Type: AWS::EC2::Volume
    Properties: {Size: 1, AvailabilityZone: {"Fn::GetAtt": [server, AvailabilityZone]}}
  attach:
    Type: AWS::EC2::VolumeAttachment
    Properties: {InstanceId: {Ref: server}, VolumeId: {Ref: disk}, Device: /dev/sdf}
%(wait_resources)sOutputs:
  address:
    Description: where the tester reaches the server
    Value: {"Fn::GetAtt": [server, PublicIp]}
  server_id: {Value: {Ref: server}}
%(wait_output)s"""
# the guest signals the handle's presigned URL as AWS documents it: a PUT, empty Content-Type
SIGNAL_LINE = (
    r"""            curl -X PUT -H 'Content-Type:' --data-binary "{\"Status\": \"SUCCESS\", """
    r"""\"UniqueId\": \"guest\", \"Reason\": \"booted\", """
    r"""\"Data\": \"$(cat /proc/sys/kernel/random/boot_id)\"}" "${handle}"
"""
)
WAIT_RESOURCES = """  handle: {Type: AWS::CloudFormation::WaitConditionHandle}
  booted:
    Type: AWS::CloudFormation::WaitCondition
    DependsOn: server
    Properties: {Handle: {Ref: handle}, Timeout: 300, Count: 1}
"""
WAIT_OUTPUT = """  signalled:
    Description: what the guest sent to the wait condition (JSON, UniqueId to Data)
    Value: {"Fn::GetAtt": [booted, Data]}
"""

ROLLBACK = """
AWSTemplateFormatVersion: '2010-09-09'
Description: Made, then a key pair that cannot be imported fails - the stack rolls back
Resources:
  key:
    Type: AWS::EC2::KeyPair
    Properties: {KeyName: {"Fn::Sub": "${AWS::StackName}-key"}}
  group:
    Type: AWS::EC2::SecurityGroup
    Properties: {GroupDescription: made before the failure}
  disk:
    Type: AWS::EC2::Volume
    Properties: {Size: 1, AvailabilityZone: {"Fn::Select": [0, {"Fn::GetAZs": ""}]}}
  broken:
    Type: AWS::EC2::KeyPair
    DependsOn: [key, group, disk]
    Properties:
      KeyName: {"Fn::Sub": "${AWS::StackName}-broken"}
      PublicKeyMaterial: not an OpenSSH public key
"""


def node(cloud: Cloud, image: Image, flavor: Flavor, marker: str, *, signal: bool):
    from pytest_interop.nodes import generate_keypair
    from pytest_interop.suite.orchestration.templates import MARKER, Spec

    key_path, public_key = generate_keypair(cloud.key_dir)
    parameters = {
        "image": image.id,
        "flavor": flavor.id,
        "marker": marker,
        "publickey": public_key,
    }
    text = NODE % {
        "marker_path": MARKER,
        "signal_line": SIGNAL_LINE if signal else "",
        "wait_resources": WAIT_RESOURCES if signal else "",
        "wait_output": WAIT_OUTPUT if signal else "",
    }
    return Spec(text, parameters, image.login_user, flavor, key_path=str(key_path))
