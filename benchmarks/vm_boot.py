"""What a reference-cloud server costs as a real virtual machine.

    .venv/bin/python benchmarks/vm_boot.py [--guests 5] [--ram 1024] [--cold]

Boots ``--guests`` guests one after another (the machine is shared: never many at once) from the
cached Debian image, and prints boot-to-SSH (QEMU started to the first command run over SSH with
the key pair, host key checked against the console's fingerprints) p50/p95, the resident memory
of each guest's QEMU process once booted, and the image's build time: cold (the first build's,
from the cache's manifest, or measured now into a scratch cache with ``--cold``) and cached
(finding it in the cache). Set INTEROP_VM_ACCEL=tcg where KVM cannot boot a guest.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from pytest_interop.nodes import Node, generate_keypair, parse_host_key_fingerprints
from pytest_interop.reference.addresses import allocate_loopback, release_loopback
from pytest_interop.reference.compute.machines_glue import pick_ssh_port
from pytest_interop.reference.vm import image as vm_image
from pytest_interop.reference.vm.machine import VmHost
from pytest_interop.reference.vm.qemu import accel, kvm_problem


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--guests", type=int, default=5)
    parser.add_argument("--ram", type=int, default=1024, help="MiB per guest (the small flavor)")
    parser.add_argument("--cold", action="store_true", help="also build the image from scratch")
    args = parser.parse_args()
    problem = kvm_problem()
    if problem:
        print(f"no virtual machines here: {problem}", file=sys.stderr)
        return 2

    if args.cold:
        with tempfile.TemporaryDirectory() as scratch:
            started = time.monotonic()
            vm_image.ensure_image(root=Path(scratch), announce=False)
            cold = time.monotonic() - started
    started = time.monotonic()
    image = vm_image.ensure_image()
    cached = time.monotonic() - started
    if not args.cold:
        cold = image.build_seconds

    boots: list[float] = []
    memory: list[int] = []
    with tempfile.TemporaryDirectory() as keys:
        key_path, public_key = generate_keypair(keys)
        host = VmHost(pick_ssh_port(), image=image)
        try:
            for number in range(args.guests):
                address = allocate_loopback()
                started = time.monotonic()
                machine = host.create(
                    f"bench-{number}",
                    hostname=f"bench-{number}",
                    login_user="debian",
                    authorized_keys=[public_key],
                    vcpus=1,
                    ram_mb=args.ram,
                    disk_gb=10,
                    image_name="debian",
                )
                machine.listen(address)
                node = Node(
                    address,
                    host.ssh_port,
                    private_key_path=key_path,
                    usernames=["debian"],
                    host_key_fingerprints=parse_host_key_fingerprints(machine.console_log()),
                )
                node.connect()
                node.run(["true"])
                boots.append(time.monotonic() - started)
                memory.append(machine.rss_bytes())
                node.close()
                machine.destroy()
                release_loopback(address)
                print(
                    f"guest {number}: boot to SSH {boots[-1]:.1f} s, "
                    f"RSS {memory[-1] / 2**20:.0f} MiB",
                    flush=True,
                )
        finally:
            host.close()

    print(f"accelerator: {accel()}; {args.guests} guests, -m {args.ram} MiB, 1 vCPU each")
    print(f"boot to SSH: p50 {statistics.median(boots):.1f} s, p95 {percentile(boots, 0.95):.1f} s")
    print(
        f"memory per guest (QEMU RSS once booted): p50 {statistics.median(memory) / 2**20:.0f} "
        f"MiB, max {max(memory) / 2**20:.0f} MiB"
    )
    print(f"image build: cold {cold:.1f} s, cached {cached * 1000:.1f} ms ({image.directory.name})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
