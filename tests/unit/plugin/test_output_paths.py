"""Output and journal paths (issue 17, defects 1 and 2).

Defect 1: the atomic writer renamed a regular file over a FIFO or device node given as the
report path. Defect 2: an unwritable or wrong output path was found out only after every
test had run (a traceback, exit 1) or turned every test into a setup error. Both are now one
line and exit 4 before collection, and a writer never replaces what is not a regular file.
"""

from __future__ import annotations

import os
import stat

import pytest

from pytest_interop.errors import ConfigurationError
from pytest_interop.nodes import generate_keypair
from pytest_interop.report.json_report import write_atomic
from pytest_interop.submission.product import PRODUCT_TEMPLATE

from .conftest import load_report

USAGE = pytest.ExitCode.USAGE_ERROR


def _one_line_exit_4(result, *fragments: str) -> str:
    assert result.ret == USAGE, result.stdout.str() + result.stderr.str()
    errors = [line for line in result.stderr.lines if line.startswith("ERROR: ")]
    assert len(errors) == 1, result.stderr.str()
    for fragment in fragments:
        assert fragment in errors[0], errors[0]
    out = result.stdout.str() + result.stderr.str()
    assert "Traceback" not in out and "INTERNALERROR" not in out
    assert "passed" not in result.stdout.str() and "error" not in result.stdout.str().lower()
    return errors[0]


def _special_files(tmp_path):
    fifo = tmp_path / "report.fifo"
    os.mkfifo(fifo)
    nodes = {"fifo": fifo}
    if os.geteuid() == 0:  # a character device node like /dev/null, made in tmp (root only)
        device = tmp_path / "null"
        os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))
        nodes["device"] = device
    link = tmp_path / "link-to-fifo"
    link.symlink_to(fifo)
    nodes["link"] = link
    return nodes


@pytest.mark.parametrize("kind", ["fifo", "device", "link"])
@pytest.mark.parametrize("option", ["--interop-report", "--interop-html"])
def test_a_run_never_replaces_a_fifo_or_a_device_node(synth, tmp_path, kind, option):
    nodes = _special_files(tmp_path)
    if kind not in nodes:
        pytest.skip("making a device node needs root")
    target = nodes[kind]
    before = os.stat(target).st_mode
    result = synth.runpytest_subprocess(
        "--guideline=2099.01", "--cloud=memory:ok", f"{option}={target}"
    )
    line = _one_line_exit_4(result, option, str(target), "not a regular file")
    assert ("a FIFO" if kind != "device" else "a character device") in line
    assert os.stat(target).st_mode == before  # still the FIFO or the device node


def test_the_atomic_writer_refuses_what_is_not_a_regular_file(tmp_path):
    for kind, node in _special_files(tmp_path).items():
        before = os.stat(node).st_mode
        with pytest.raises(ConfigurationError, match="not a regular file"):
            write_atomic(node, "x")
        assert os.stat(node).st_mode == before, kind
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp file left
    regular = write_atomic(tmp_path / "a" / "r.json", "{}")
    assert regular.read_text() == "{}"


@pytest.mark.parametrize(
    ("option", "value", "fragment"),
    [
        ("--interop-report", "/proc/x/r.json", "cannot write in /proc/x"),
        ("--interop-report", "DIR", "is a directory, not a regular file"),
        ("--interop-html", "/proc/x/r.html", "cannot write in /proc/x"),
        ("--interop-html", "DIR", "is a directory"),
        ("--interop-journal-dir", "/proc/x/j", "cannot write in /proc/x/j"),
        ("--interop-journal-dir", "FILE", "is a regular file, not a directory"),
        ("--junitxml", "/proc/x/j.xml", "cannot write in /proc/x"),
        ("--submission", "FILE", "is a regular file, not a directory"),
    ],
)
def test_bad_output_paths_stop_the_run_before_collection(synth, tmp_path, option, value, fragment):
    if value == "DIR":
        value = str(tmp_path)
    elif value == "FILE":
        value = str(tmp_path / "a-file")
        (tmp_path / "a-file").write_text("x")
    extra = []
    if option == "--submission":
        key, _ = generate_keypair(tmp_path)
        product = synth.path / "product.yaml"
        product.write_text(PRODUCT_TEMPLATE)
        extra = [f"--submission-key={key}", f"--submission-product={product}"]
    result = synth.runpytest_subprocess(
        "--guideline=2099.01", "--cloud=memory:ok", f"{option}={value}", *extra
    )
    _one_line_exit_4(result, option, fragment)
    assert not (synth.path / "interop-report.json").exists()


def test_good_output_paths_are_made_and_written(synth):
    result = synth.runpytest(
        "--guideline=2099.01",
        "--cloud=memory:ok",
        "--interop-report=new/dir/r.json",
        "--interop-html=other/r.html",
        "--interop-journal-dir=journals/here",
    )
    assert result.ret == 0
    assert load_report(synth, "new/dir/r.json")["clouds"][0]["verdict"] == "compliant"
    assert (synth.path / "other" / "r.html").is_file()
    assert list((synth.path / "journals" / "here").iterdir())
    assert not list(synth.path.rglob(".interop-probe-*"))
