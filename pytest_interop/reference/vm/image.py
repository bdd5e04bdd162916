"""The guest image: a Debian system built from Debian's packages, once per recipe, cached.

``ensure_image()`` returns a :class:`GuestImage` (a qcow2 root file system, the kernel and the
initrd beside it, for QEMU's direct kernel boot) and builds it first when the cache has no
image for the recipe's digest. Building runs ``mmdebstrap`` and ``mke2fs -d`` and needs root.

Guest *variants* (the default account, root login rules) are not separate builds: each is a
small qcow2 overlay on the base holding only the files that differ, written into a copy of
the raw file system with ``debugfs`` (no mount, no loop device), the way a distribution's image
differs from another's in its ``/etc/cloud/cloud.cfg.d`` and ``/etc/ssh`` files.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

LOG = logging.getLogger(__name__)

RECIPE_VERSION = 1  # bump when the build steps below change what they produce
CACHE_ENV = "INTEROP_VM_CACHE"
ROOT_LABEL = "rootfs"
ROOT_SIZE = "2G"  # the file system's size; an overlay may be larger (cloud-init grows it)
CLUSTER = 65536  # qcow2's default cluster: a variant stores the clusters that differ

PACKAGES = (
    "linux-image-cloud-amd64",
    "systemd-sysv",
    "udev",
    "openssh-server",
    "sudo",
    "cloud-init",
    "util-linux",  # lsblk
    "iproute2",
    "procps",
    "e2fsprogs",  # resize2fs for cloud-init's resizefs
    "ca-certificates",
)

# Files of the base image, written into the tree before the file system is made.
BASE_FILES: dict[str, str] = {
    "/etc/fstab": f"LABEL={ROOT_LABEL} / ext4 defaults,discard,errors=remount-ro 0 1\n",
    # NoCloud only: no probing of metadata services that do not exist here
    "/etc/cloud/cloud.cfg.d/90-reference-cloud.cfg": (
        "datasource_list: [NoCloud, None]\n"
        "network: {config: disabled}\n"
        "ssh_genkeytypes: [ecdsa, ed25519]\n"
    ),
    "/etc/systemd/network/80-dhcp.network": (
        "[Match]\nName=en* eth*\n\n[Network]\nDHCP=ipv4\nLinkLocalAddressing=no\n"
    ),
    "/etc/hostname": "localhost\n",
}
ENABLE_UNITS = ("systemd-networkd.service",)
MASK_UNITS = (
    "apt-daily.timer",
    "apt-daily-upgrade.timer",
    "e2scrub_all.timer",
    "e2scrub_reap.service",
    "fstrim.timer",
    "systemd-networkd-wait-online.service",  # DHCP on QEMU's user network answers at once
)


@dataclass(frozen=True)
class Variant:
    """What one distribution's image configures differently: its account and root policy."""

    account: str
    root_login: str = "prohibit-password"  # sshd PermitRootLogin
    sudo_requires_tty: bool = False

    @property
    def name(self) -> str:
        tty = "-requiretty" if self.sudo_requires_tty else ""
        return f"{self.account}-{self.root_login}{tty}"

    def files(self) -> dict[str, str]:
        files = {
            "/etc/cloud/cloud.cfg.d/95-image-variant.cfg": (
                "system_info:\n"
                "  default_user:\n"
                f"    name: {self.account}\n"
                "    lock_passwd: true\n"
                f"    gecos: {self.account}\n"
                "    groups: [adm, sudo]\n"
                '    sudo: ["ALL=(ALL) NOPASSWD:ALL"]\n'
                "    shell: /bin/bash\n"
                "disable_root: true\n"
                "manage_etc_hosts: true\n"  # sudo resolves the host name, as on Debian's images
            ),
            "/etc/ssh/sshd_config.d/60-image-variant.conf": (
                f"PermitRootLogin {self.root_login}\n"
            ),
        }
        if self.sudo_requires_tty:
            files["/etc/sudoers.d/10-requiretty"] = "Defaults requiretty\n"
        return files


@dataclass(frozen=True)
class Recipe:
    suite: str = "bookworm"
    packages: tuple[str, ...] = PACKAGES
    files: tuple[tuple[str, str], ...] = tuple(sorted(BASE_FILES.items()))
    enable: tuple[str, ...] = ENABLE_UNITS
    mask: tuple[str, ...] = MASK_UNITS
    root_size: str = ROOT_SIZE
    version: int = RECIPE_VERSION
    mirror: str = field(default="", compare=True)  # "" = mmdebstrap's default for the suite

    def digest(self) -> str:
        text = json.dumps(asdict(self), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class GuestImage:
    directory: Path
    disk: Path
    kernel: Path
    initrd: Path
    build_seconds: float
    built_now: bool

    def variant_disk(self, variant: Variant) -> Path:
        """The qcow2 overlay for ``variant`` (made once, under the image's lock)."""
        target = self.directory / "variants" / f"{variant.name}.qcow2"
        if target.exists():
            return target
        with _locked(self.directory / "variants.lock"):
            if not target.exists():
                _make_variant(self, variant, target)
        return target


class ImageBuildError(RuntimeError):
    pass


def cache_root() -> Path:
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "pytest-interop" / "images"


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run(argv: list[str], what: str) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
        raise ImageBuildError(
            f"{what} failed (exit {done.returncode}): {' '.join(argv[:3])} ...\n{tail}"
        )


def missing_tools() -> list[str]:
    tools = ("mmdebstrap", "mke2fs", "debugfs", "qemu-img")
    search = os.environ.get("PATH", "") + ":/usr/sbin:/sbin"
    return [tool for tool in tools if shutil.which(tool, path=search) is None]


def load_image(recipe: Recipe | None = None, root: Path | None = None) -> GuestImage | None:
    """The cached image of ``recipe``, or None if it was never built."""
    recipe = recipe or Recipe()
    directory = (root or cache_root()) / recipe.digest()
    manifest = directory / "manifest.json"
    if not manifest.exists():
        return None
    data = json.loads(manifest.read_text())
    return GuestImage(
        directory,
        directory / "disk.qcow2",
        directory / data["kernel"],
        directory / data["initrd"],
        float(data["build_seconds"]),
        built_now=False,
    )


def ensure_image(
    recipe: Recipe | None = None, root: Path | None = None, *, announce: bool = True
) -> GuestImage:
    """The image of ``recipe`` from the cache, built first if absent (root needed for that)."""
    recipe = recipe or Recipe()
    root = root or cache_root()
    cached = load_image(recipe, root)
    if cached is not None:
        return cached
    with _locked(root / f"{recipe.digest()}.lock"):
        cached = load_image(recipe, root)  # another process may have built it meanwhile
        if cached is not None:
            return cached
        if os.geteuid() != 0:
            raise ImageBuildError(
                "building the reference cloud's guest image needs root (mmdebstrap, mke2fs -d); "
                f"run once as root, or point {CACHE_ENV} at a directory holding a built image"
            )
        absent = missing_tools()
        if absent:
            raise ImageBuildError(
                f"building the guest image needs {', '.join(absent)}: "
                "apt-get install mmdebstrap e2fsprogs qemu-utils"
            )
        if announce:
            print(
                f"reference cloud: building the guest image {recipe.digest()} "
                f"(Debian {recipe.suite}) in {root}, once",
                file=sys.stderr,
                flush=True,
            )
        image = _build(recipe, root / recipe.digest())
        if announce:
            print(
                f"reference cloud: guest image built in {image.build_seconds:.1f} s "
                f"({image.disk.stat().st_size / 2**20:.0f} MiB)",
                file=sys.stderr,
                flush=True,
            )
        return image


def _build(recipe: Recipe, directory: Path) -> GuestImage:
    started = time.monotonic()
    directory.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".build-{recipe.digest()}-", dir=directory.parent))
    try:
        tree = work / "tree"
        argv = [
            "mmdebstrap",
            "--quiet",
            "--variant=apt",
            "--include=" + ",".join(recipe.packages),
            "--dpkgopt=path-exclude=/usr/share/man/*",
            "--dpkgopt=path-exclude=/usr/share/doc/*",
            "--dpkgopt=path-exclude=/usr/share/locale/*",
            recipe.suite,
            str(tree),
        ]
        if recipe.mirror:
            argv.append(recipe.mirror)
        _run(argv, "mmdebstrap")
        for path, content in recipe.files:
            _write(tree, path, content)
        for key in tree.glob("etc/ssh/ssh_host_*"):
            key.unlink()  # each server's keys are made at its first boot, by cloud-init
        (tree / "etc/machine-id").write_text("")
        for unit in recipe.enable:
            _run(["systemctl", "--root", str(tree), "enable", unit], f"enabling {unit}")
        for unit in recipe.mask:
            _run(["systemctl", "--root", str(tree), "mask", unit], f"masking {unit}")
        shutil.rmtree(tree / "var/lib/apt/lists", ignore_errors=True)
        shutil.rmtree(tree / "var/cache/apt", ignore_errors=True)
        kernels = sorted((tree / "boot").glob("vmlinuz-*"))
        initrds = sorted((tree / "boot").glob("initrd.img-*"))
        if not kernels or not initrds:
            raise ImageBuildError("the image has no kernel or initrd in /boot")
        out = work / "out"
        out.mkdir()
        shutil.copy2(kernels[-1], out / kernels[-1].name)
        shutil.copy2(initrds[-1], out / initrds[-1].name)
        raw = work / "root.raw"
        _run(
            [
                "mke2fs",
                "-q",
                "-t",
                "ext4",
                "-L",
                ROOT_LABEL,
                "-d",
                str(tree),
                str(raw),
                recipe.root_size,
            ],
            "mke2fs",
        )
        _run(
            ["qemu-img", "convert", "-q", "-O", "qcow2", str(raw), str(out / "disk.qcow2")],
            "qemu-img convert",
        )
        seconds = time.monotonic() - started
        manifest = {
            "recipe": asdict(recipe),
            "digest": recipe.digest(),
            "kernel": kernels[-1].name,
            "initrd": initrds[-1].name,
            "build_seconds": round(seconds, 1),
            "tree_bytes": _tree_bytes(tree),
        }
        (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
        os.replace(out, directory)  # atomic: a half-built image is never seen
    finally:
        shutil.rmtree(work, ignore_errors=True)
    image = load_image(recipe, directory.parent)
    assert image is not None
    return replace(image, built_now=True)  # as the manifest says it, build time rounded


def _write(tree: Path, path: str, content: str) -> None:
    target = tree / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(content)
    target.chmod(0o440 if "/sudoers.d/" in path else 0o644)


def _tree_bytes(tree: Path) -> int:
    total = 0
    for path in tree.rglob("*"):
        with contextlib.suppress(OSError):
            if path.is_file() and not path.is_symlink():
                total += path.stat().st_size
    return total


def _make_variant(image: GuestImage, variant: Variant, target: Path) -> None:
    """Overlay = base + the variant's files, stored as the qcow2 clusters that differ."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
        raw = Path(scratch) / "root.raw"
        _run(["qemu-img", "convert", "-q", "-O", "raw", str(image.disk), str(raw)], "qemu-img")
        commands = []
        for index, (path, content) in enumerate(sorted(variant.files().items())):
            source = Path(scratch) / f"file{index}"
            source.write_text(content)
            directory, name = path.rsplit("/", 1)
            mode = "0100440" if "/sudoers.d/" in path else "0100644"
            commands += [
                f"mkdir {directory}",  # an error if it exists, which debugfs reports and skips
                f"cd {directory}",
                f"rm {name}",
                f"write {source} {name}",
                f"sif {name} mode {mode}",
                f"sif {name} uid 0",
                f"sif {name} gid 0",
                "cd /",
            ]
        script = Path(scratch) / "debugfs.cmd"
        script.write_text("\n".join(commands) + "\n")
        _run(["debugfs", "-w", "-f", str(script), str(raw)], "debugfs")
        partial = target.with_suffix(".part")
        _run(
            ["qemu-img", "create", "-q", "-f", "qcow2", "-b", str(image.disk), "-F", "qcow2",
             str(partial)],
            "qemu-img create (variant)",
        )  # fmt: skip
        base = Path(scratch) / "base.raw"
        _run(["qemu-img", "convert", "-q", "-O", "raw", str(image.disk), str(base)], "qemu-img")
        writes = []
        with open(base, "rb") as old, open(raw, "rb") as new:
            offset = 0
            while True:
                before, after = old.read(CLUSTER), new.read(CLUSTER)
                if not after:
                    break
                if before != after:
                    chunk = Path(scratch) / f"chunk{offset}"
                    chunk.write_bytes(after)
                    writes += ["-c", f"write -q -s {chunk} {offset} {len(after)}"]
                offset += len(after)
        if writes:
            _run(["qemu-io", "-f", "qcow2", *writes, str(partial)], "qemu-io (variant)")
        os.replace(partial, target)
