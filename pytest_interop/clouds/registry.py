"""Resolving a cloud name to a :class:`CloudSpec`, and a spec to a connected adapter.

Resolution happens once, in the controller, before collection (as openstacksdk resolves
its configuration once): an unknown name stops the run with one line. The resulting specs
travel to xdist workers, which only connect.

Names:
- ``reference`` / ``reference:<profile>``: the embedded reference cloud, started by the
  controller for the whole run;
- ``reference-aws``: the embedded AWS endpoint;
- ``aws:PROFILE@REGION``, ``aws:PROFILE``, ``aws:@REGION``, ``aws``: an AWS account through
  boto3's own configuration (shared credentials and config files, environment);
- anything else: a clouds.yaml cloud through openstacksdk (``NAME`` or ``NAME@REGION``),
  including vendor profiles such as ``dreamcompute``.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_interop.errors import CloudNotFound

REFERENCE = "reference"
REFERENCE_AWS = "reference-aws"


@dataclass(frozen=True)
class CloudSpec:
    name: str  # as given with --cloud; test ids end in [name]
    provider: str  # "openstack" | "aws" | a plugin's provider
    settings: Mapping[str, Any] = field(default_factory=dict)  # may hold credentials

    def __repr__(self) -> str:  # settings may carry credentials: keep them out of reprs
        return f"CloudSpec(name={self.name!r}, provider={self.provider!r})"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "provider": self.provider, "settings": dict(self.settings)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CloudSpec:
        return cls(data["name"], data["provider"], dict(data.get("settings") or {}))


def split_reference_name(name: str) -> tuple[str, str] | None:
    """``reference:floating-ip`` -> (kind, profile); None for other names."""
    kind, _, profile = name.partition(":")
    if kind == REFERENCE:
        return REFERENCE, profile or "default"
    if kind == REFERENCE_AWS:
        return REFERENCE_AWS, profile or "default"
    return None


def _aws_spec(name: str) -> CloudSpec:
    rest = name[len("aws") :].lstrip(":")
    profile, _, region = rest.partition("@")
    settings: dict[str, Any] = {"profile": profile or None, "region": region or None}
    if profile:
        import botocore.session  # boto3's own view of the shared config files

        available = botocore.session.Session().available_profiles
        if profile not in available:
            raise CloudNotFound(
                f"--cloud={name}: no AWS profile {profile!r} in "
                f"{os.environ.get('AWS_CONFIG_FILE', '~/.aws/config')} or "
                f"{os.environ.get('AWS_SHARED_CREDENTIALS_FILE', '~/.aws/credentials')} "
                f"(profiles found: {', '.join(sorted(available)) or 'none'}); "
                "add it with `aws configure --profile NAME`"
            )
    return CloudSpec(name, "aws", settings)


def _yaml_problem(path: Path) -> str | None:
    """Where and why a clouds.yaml file does not parse; None if it parses or is absent."""
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return None
    try:
        yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        return f"{where}{getattr(exc, 'problem', None) or type(exc).__name__}"
    return None


def _openstack_spec(name: str) -> CloudSpec:
    import openstack.config
    from openstack import exceptions as os_exceptions

    from pytest_interop.clouds.config_files import check_config_files

    check_config_files(f"--cloud={name}")  # a malformed file: one line, not the SDK's traceback
    cloud, _, region = name.partition("@")
    loader = openstack.config.OpenStackConfig()
    try:
        loader.get_one(cloud=cloud, region_name=region or None)
    except (os_exceptions.ConfigException, KeyError) as exc:
        # openstacksdk skips a file it cannot parse; say so rather than "not found"
        for path in dict.fromkeys(loader._config_files):
            problem = _yaml_problem(Path(path))
            if problem:
                raise CloudNotFound(
                    f"--cloud={name}: {path} is not valid YAML ({problem}); fix its syntax"
                ) from None
        if isinstance(exc, os_exceptions.ConfigException) and cloud not in _known(loader):
            raise CloudNotFound(_unconfigured(name, cloud, loader)) from None
        looked = _searched(loader)
        known = ", ".join(_known(loader)) or "none"
        reason = str(exc).splitlines()[0] if str(exc) else "not found"
        raise CloudNotFound(
            f"--cloud={name}: {reason} (clouds.yaml files read: {looked}; clouds known: "
            f"{known}); name a cloud from clouds.yaml, `reference`, or `aws:PROFILE@REGION`"
        ) from None
    except Exception as exc:  # keystoneauth refusing the auth section (TypeError, ...)
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CloudNotFound(
            f"--cloud={name}: its auth section in clouds.yaml does not fit its auth_type "
            f"({first}); fix the keys under `auth:` or set the matching `auth_type:`"
        ) from None
    settings: dict[str, Any] = {"cloud": cloud}
    if region:
        settings["region_name"] = region
    return CloudSpec(name, "openstack", settings)


def _known(loader: Any) -> list[str]:
    # "defaults" is openstacksdk's built-in placeholder, not a cloud anyone configured
    return sorted(n for n in loader.get_cloud_names() if n != "defaults")


def _searched(loader: Any) -> str:
    """The folders openstacksdk looked in, each once (it tries three names in each)."""
    folders: dict[str, list[str]] = {}
    for path in map(Path, loader._config_files):
        exts = folders.setdefault(str(path.parent), [])
        if path.suffix.lstrip(".") not in exts:
            exts.append(path.suffix.lstrip("."))
    if not folders:
        return "no clouds.yaml found"
    return ", ".join(f"{folder}/clouds.{{{','.join(exts)}}}" for folder, exts in folders.items())


def _has_vendor_profile(cloud: str) -> bool:
    """Whether openstacksdk ships a vendor profile of that name (its files, no network: for
    an unknown name ``vendors.get_profile`` would try the name as a host's well-known URL)."""
    from importlib.resources import files

    vendor_files = files("openstack.config.vendors")
    return any(vendor_files.joinpath(f"{cloud}.{ext}").is_file() for ext in ("json", "yaml"))


def _unconfigured(name: str, cloud: str, loader: Any) -> str:
    """No clouds.yaml entry of that name: say where we looked and the lines to add."""
    where = Path(os.environ.get("OS_CLIENT_CONFIG_FILE") or "~/.config/openstack/clouds.yaml")
    vendor = _has_vendor_profile(cloud)
    if vendor:
        found = f"openstacksdk knows the vendor profile {cloud!r}; add to {where}:"
        first = [f"    profile: {cloud}"]
    else:
        found = f"add it to {where}:"
        first = []
    entry = [
        "clouds:",
        f"  {cloud}:",
        *first,
        "    auth:",
        *([] if vendor else ["      auth_url: https://keystone.example.com:5000/v3"]),
        "      username: YOUR_USER",
        "      password: YOUR_PASSWORD",
        "      project_name: YOUR_PROJECT",
        "      user_domain_name: Default",
        "      project_domain_name: Default",
    ]
    known = ", ".join(_known(loader)) or "none"
    return (
        f"--cloud={name}: no cloud named {cloud!r} in clouds.yaml (searched "
        f"{_searched(loader)}; clouds known: {known}); {found}\n"
        + "\n".join(entry)
        + "\nor name `reference`, `reference-aws` or `aws:PROFILE@REGION`"
    )


def resolve_cloud(name: str, *, start_reference: Callable[[str, str], CloudSpec] | None = None):
    """The spec for a cloud name, or CloudNotFound naming where it looked and the fix.

    ``start_reference(kind, profile)`` starts an embedded cloud and returns its spec; the
    plugin passes one that keeps the cloud alive for the run.
    """
    name = name.strip()
    if not name:
        raise CloudNotFound("--cloud: empty cloud name; name a clouds.yaml cloud or `reference`")
    reference = split_reference_name(name)
    if reference is not None:
        if start_reference is None:
            raise CloudNotFound(f"--cloud={name}: the embedded clouds can only be started by a run")
        return start_reference(*reference)
    if name == "aws" or name.startswith("aws:"):
        return _aws_spec(name)
    return _openstack_spec(name)


def secret_bearing_settings(spec: CloudSpec) -> list[Any]:
    """Everything of a spec that may hold secrets, for a Redactor: its settings, and for a
    clouds.yaml cloud the entry itself (the password lives there, not in the spec)."""
    found: list[Any] = [dict(spec.settings)]
    if spec.provider == "openstack" and spec.settings.get("cloud"):
        import openstack.config

        try:
            with warnings.catch_warnings():  # the SDK's own deprecations
                warnings.simplefilter("ignore", PendingDeprecationWarning)
                region = openstack.config.OpenStackConfig().get_one(
                    cloud=spec.settings["cloud"], region_name=spec.settings.get("region_name")
                )
        except Exception:  # resolution already reported its own errors
            return found
        found.append(region.config)
    return found


def make_cloud(spec: CloudSpec, ledger: Any, *, hook: Any = None) -> Any:
    """Connect an adapter for ``spec``; plugins can add providers via a hook."""
    if spec.provider == "openstack":
        from pytest_interop.clouds.openstack import OpenStackCloud

        return OpenStackCloud.from_spec(spec, ledger)
    if spec.provider == "aws":
        from pytest_interop.clouds.aws import AwsCloud

        return AwsCloud.from_spec(spec, ledger)
    if hook is not None:
        cloud = hook.pytest_interop_make_cloud(spec=spec, ledger=ledger)
        if cloud is not None:
            return cloud
    raise CloudNotFound(f"--cloud={spec.name}: no adapter for provider {spec.provider!r}")


_IDENTITY_KEYS = ("auth_url", "region_name", "region", "project_name", "project_id", "profile")


def public_identity(spec: CloudSpec) -> dict[str, Any]:
    """What a report may say about a cloud: where it is, never how to log in."""
    identity: dict[str, Any] = {"name": spec.name, "provider": spec.provider}
    settings = dict(spec.settings)
    config = dict(settings.get("config") or {})
    auth = dict(config.get("auth") or {})
    for source in (settings, config, auth):
        for key in _IDENTITY_KEYS:
            if source.get(key) and key not in identity:
                identity[key] = source[key]
    if settings.get("cloud"):
        identity["clouds_yaml_entry"] = settings["cloud"]
    if settings.get("endpoint_url"):
        identity["endpoint_url"] = settings["endpoint_url"]
    interop = config.get("interop") or settings.get("interop") or {}
    if interop.get("profile"):
        identity["reference_profile"] = interop["profile"]
    return identity
