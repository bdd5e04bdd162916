"""Choosing the servers' machines: reference:PROFILE+vm, the machines knob and its env default,
and the one line said (auto) or the refusal (vm) where KVM cannot boot a guest."""

from __future__ import annotations

import pytest

from pytest_interop.errors import ConfigurationError
from pytest_interop.reference.vm import backend, qemu
from pytest_interop.reference.vm.backend import machine_backend, split_profile


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("default", ("default", None)),
        ("floating-ip", ("floating-ip", None)),
        ("vm", ("default", "vm")),
        ("floating-ip+vm", ("floating-ip", "vm")),
        ("rhel+vm", ("rhel", "vm")),
    ],
)
def test_a_vm_variant_is_a_suffix_of_the_profile(given, expected):
    assert split_profile(given) == expected


def test_emulated_machines_stay_the_default(monkeypatch):
    monkeypatch.delenv(backend.ENV, raising=False)
    assert machine_backend(True) == "emulated"
    assert machine_backend(False) == "emulated"
    monkeypatch.setenv(backend.ENV, "emulated")
    assert machine_backend(True) == "emulated"


def test_vm_where_kvm_cannot_boot_is_refused_in_one_line(monkeypatch):
    monkeypatch.setattr(qemu, "kvm_problem", lambda: "/dev/kvm is not usable (No such file)")
    with pytest.raises(ConfigurationError) as caught:
        machine_backend("vm")
    message = str(caught.value)
    assert "\n" not in message
    assert "/dev/kvm is not usable" in message and "without '+vm'" in message


def test_auto_says_why_in_one_line_and_keeps_the_emulated_machines(monkeypatch, capsys):
    monkeypatch.setattr(qemu, "kvm_problem", lambda: "/dev/kvm is not usable (No such file)")
    monkeypatch.setenv(backend.ENV, "auto")
    assert machine_backend(True) == "emulated"
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == [
        "reference cloud: /dev/kvm is not usable (No such file); servers are emulated machines"
    ]


def test_vm_where_kvm_works_and_the_image_exists_is_chosen(monkeypatch):
    monkeypatch.setattr(qemu, "kvm_problem", lambda: None)
    monkeypatch.setattr(backend.os, "geteuid", lambda: 0)  # may build the image
    assert machine_backend("vm") == "vm"
    assert machine_backend("auto") == "vm"


def test_an_unknown_machines_value_names_the_choices():
    with pytest.raises(ConfigurationError, match="'vm' or 'auto'"):
        machine_backend("kvm")
