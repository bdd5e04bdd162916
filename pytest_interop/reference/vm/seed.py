"""The NoCloud seed a guest's cloud-init reads: an ISO 9660 volume labelled ``cidata``.

It carries what a cloud's metadata service would: the instance id (a new one makes cloud-init
treat the boot as a new instance), the host name, the key pair's public key and the server's
``user_data`` as the user gave it (a cloud-config, a script, or nothing).
"""

from __future__ import annotations

import base64
import binascii
import shutil
import subprocess
import tempfile
from pathlib import Path

import yaml

EMPTY_USER_DATA = "#cloud-config\n{}\n"


def decode_user_data(user_data: str | bytes | None) -> bytes:
    """Nova takes user_data base64-encoded; an undecodable value is passed as it is."""
    if not user_data:
        return EMPTY_USER_DATA.encode()
    raw = user_data.encode() if isinstance(user_data, str) else user_data
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        return raw


def write_seed(
    target: Path,
    *,
    instance_id: str,
    hostname: str,
    public_keys: list[str],
    user_data: str | bytes | None = None,
) -> Path:
    """Write the seed ISO to ``target`` (genisoimage, as cloud-localds does)."""
    meta = {"instance-id": instance_id, "local-hostname": hostname}
    if public_keys:
        meta["public-keys"] = list(public_keys)
    tool = shutil.which("genisoimage") or shutil.which("mkisofs")
    if tool is None:
        raise RuntimeError(
            "the guests' NoCloud seed needs genisoimage: apt-get install genisoimage"
        )
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        (folder / "meta-data").write_text(yaml.safe_dump(meta, sort_keys=False))
        (folder / "user-data").write_bytes(decode_user_data(user_data))
        partial = target.with_suffix(".part")
        done = subprocess.run(
            [
                tool,
                "-quiet",
                "-output",
                str(partial),
                "-volid",
                "cidata",
                "-joliet",
                "-rock",
                str(folder / "user-data"),
                str(folder / "meta-data"),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"genisoimage failed: {done.stderr.strip()[-300:]}")
        partial.replace(target)
    return target
