"""--cloud=reference:vm where KVM cannot boot a guest: one line, exit 4, nothing started."""

from __future__ import annotations

import pytest

from pytest_interop.reference.vm.qemu import kvm_problem

PROBLEM = kvm_problem()


@pytest.mark.skipif(PROBLEM is None, reason="KVM boots guests here: tests/functional/vm runs them")
@pytest.mark.parametrize("cloud", ["reference:vm", "reference:floating-ip+vm"])
def test_vm_clouds_are_refused_in_one_line_where_kvm_cannot_boot_them(synth, cloud, monkeypatch):
    monkeypatch.delenv("INTEROP_VM_ACCEL", raising=False)
    result = synth.runpytest_subprocess("--guideline=2099.01", f"--cloud={cloud}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [f"ERROR: reference cloud: virtual machines were asked for but {PROBLEM}*"]
    )
    assert "Traceback" not in result.stderr.str()
    assert not (synth.path / "interop-report.json").exists()
