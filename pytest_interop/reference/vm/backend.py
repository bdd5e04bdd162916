"""Which machines a reference cloud's servers are: emulated ones, or real QEMU/KVM guests.

``machines=True`` (the default) keeps the emulated machines; ``machines="vm"`` asks for virtual
machines and refuses, in one line, where KVM cannot run them; ``machines="auto"`` takes virtual
machines where KVM works and says in one line why not otherwise. ``INTEROP_REFERENCE_MACHINES``
(``vm``, ``auto``, ``emulated``) sets the default for every reference cloud of a run.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from pytest_interop.errors import ConfigurationError

ENV = "INTEROP_REFERENCE_MACHINES"
VM_SUFFIX = "+vm"  # reference:PROFILE+vm, and reference:vm for the default profile


def split_profile(profile: str) -> tuple[str, str | None]:
    """``floating-ip+vm`` -> ("floating-ip", "vm"); ``vm`` -> ("default", "vm")."""
    if profile == "vm":
        return "default", "vm"
    if profile.endswith(VM_SUFFIX):
        return profile[: -len(VM_SUFFIX)] or "default", "vm"
    return profile, None


def machine_backend(requested: Any) -> str:
    """ "emulated" or "vm" for the ``machines`` knob (ConfigurationError if vm cannot run)."""
    if requested is True:
        requested = os.environ.get(ENV, "emulated") or "emulated"
    if requested is False or requested == "emulated":
        return "emulated"
    if requested not in ("vm", "auto"):
        raise ConfigurationError(
            f"reference cloud knob machines={requested!r}: choose True, False, 'vm' or 'auto' "
            f"(or set {ENV}=vm|auto|emulated)"
        )
    from pytest_interop.reference.vm.qemu import kvm_problem

    problem = kvm_problem()
    if problem is None and os.geteuid() != 0:
        from pytest_interop.reference.vm.image import load_image

        if load_image() is None:
            problem = "the guest image is not built and building it needs root"
    if problem is None:
        return "vm"
    if requested == "vm":
        raise ConfigurationError(
            f"reference cloud: virtual machines were asked for but {problem}; "
            "--cloud=reference[:PROFILE] without '+vm' uses the emulated machines"
        )
    print(f"reference cloud: {problem}; servers are emulated machines", file=sys.stderr, flush=True)
    return "emulated"
