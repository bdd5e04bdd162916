"""The guest image: built from Debian's packages once per recipe, cached by the recipe's digest,
and its variants carrying their own account and root policy (read back from the file system)."""

from __future__ import annotations

import dataclasses
import os
import subprocess
from pathlib import Path

import pytest

from pytest_interop.reference.vm import image as vm_image
from pytest_interop.reference.vm.image import Recipe, Variant


def _built_image() -> vm_image.GuestImage:
    cached = vm_image.load_image()
    if cached is not None:
        return cached
    if os.geteuid() != 0 or vm_image.missing_tools():
        pytest.skip("building the guest image needs root, mmdebstrap, e2fsprogs and qemu-utils")
    return vm_image.ensure_image()  # the first build prints its time


def _read(disk: Path, path: str, scratch: Path) -> str:
    """A file of a qcow2 disk's ext4 file system, read with debugfs (no mount)."""
    raw = scratch / f"{disk.stem}.raw"
    if not raw.exists():
        subprocess.run(["qemu-img", "convert", "-O", "raw", str(disk), str(raw)], check=True)
    done = subprocess.run(
        ["debugfs", "-R", f"cat {path}", str(raw)], capture_output=True, text=True, check=True
    )
    return done.stdout


def test_the_digest_follows_the_recipe():
    base = Recipe()
    assert base.digest() == Recipe().digest()
    assert dataclasses.replace(base, packages=(*base.packages, "curl")).digest() != base.digest()
    assert dataclasses.replace(base, suite="trixie").digest() != base.digest()
    assert dataclasses.replace(base, version=base.version + 1).digest() != base.digest()


def test_a_changed_recipe_is_not_served_from_the_cache(tmp_path):
    image = _built_image()
    changed = dataclasses.replace(Recipe(), packages=(*Recipe().packages, "curl"))
    assert vm_image.load_image(changed, image.directory.parent) is None
    assert vm_image.load_image(Recipe(), image.directory.parent) == dataclasses.replace(
        image, built_now=False
    )


def test_the_image_boots_directly_and_holds_what_the_suite_uses(tmp_path):
    image = _built_image()
    assert image.directory.name == Recipe().digest()
    assert image.kernel.name.startswith("vmlinuz-") and image.kernel.stat().st_size > 1 << 20
    assert image.initrd.name.startswith("initrd.img-") and image.initrd.stat().st_size > 1 << 20
    info = subprocess.run(
        ["qemu-img", "info", "--output=json", str(image.disk)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert '"format": "qcow2"' in info
    status = _read(image.disk, "/var/lib/dpkg/status", tmp_path)
    for package in ("openssh-server", "cloud-init", "sudo", "util-linux", "systemd-sysv"):
        assert f"Package: {package}\n" in status, f"{package} is not installed in the image"
    assert "NoCloud" in _read(image.disk, "/etc/cloud/cloud.cfg.d/90-reference-cloud.cfg", tmp_path)
    listing = subprocess.run(
        ["debugfs", "-R", "ls /etc/ssh", str(tmp_path / f"{image.disk.stem}.raw")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "sshd_config" in listing
    assert "ssh_host_" not in listing, "host keys are made per server, not baked into the image"


def test_a_variant_is_a_small_overlay_with_its_account_and_root_policy(tmp_path):
    image = _built_image()
    variant = Variant("cloud-user", root_login="no", sudo_requires_tty=True)
    disk = image.variant_disk(variant)
    assert disk.stat().st_size < 16 * 2**20, "a variant stores only the clusters that differ"
    backing = subprocess.run(
        ["qemu-img", "info", "--output=json", str(disk)], capture_output=True, text=True, check=True
    ).stdout
    assert str(image.disk) in backing
    config = _read(disk, "/etc/cloud/cloud.cfg.d/95-image-variant.cfg", tmp_path)
    assert "name: cloud-user" in config
    sshd = _read(disk, "/etc/ssh/sshd_config.d/60-image-variant.conf", tmp_path)
    assert sshd.strip() == "PermitRootLogin no"
    assert _read(disk, "/etc/sudoers.d/10-requiretty", tmp_path).strip() == "Defaults requiretty"
    # the base is untouched: another variant does not see these files
    assert "cloud-user" not in _read(
        image.disk, "/etc/cloud/cloud.cfg.d/95-image-variant.cfg", tmp_path
    )
