"""Documents that parse badly or not at all (issue 17, defects 3 and 4).

Defect 3: JSON nested 100,000 (or 5,000) levels deep raised RecursionError: an INTERNALERROR
in pytest, tracebacks in ``interop guideline`` and ``interop cleanup --journal``. Defect 4:
a clouds.yaml that is a list, a scalar, has ``clouds:`` as a list or is not UTF-8 crashed
openstacksdk's loader. Each is now one line naming the file: exit 4 in pytest, 2 in the CLI
(``guideline validate`` lists the file as invalid and exits 1, as for any invalid file).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from pytest_interop import shipped

from .conftest import run_pytest

USAGE = pytest.ExitCode.USAGE_ERROR


def deep_array() -> str:
    return "[" * 100_000


def deep_metadata() -> str:
    """The shipped 2017.01 guideline with a 5,000-deep object in its metadata."""
    text = (shipped.GUIDELINES_DIR / "2017.01.json").read_text()
    at = text.index('"metadata": {') + len('"metadata": {')
    return text[:at] + '"deep": ' + '{"x": ' * 5000 + "1" + "}" * 5000 + ", " + text[at:]


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_CURRENT_TEST", "PYTEST_ADDOPTS"):
        env.pop(name, None)
    env.update(extra)
    return env


def interop(directory, *args: str, env=None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest_interop.cli", *args],
        cwd=directory,
        env=env or _env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def one_line(result, code: int, *fragments: str) -> str:
    out = result.stdout + result.stderr
    assert result.returncode == code, out[-3000:]
    for bad in ("Traceback", "INTERNALERROR", "RecursionError"):
        assert bad not in out, out[-3000:]
    lines = [line for line in result.stderr.splitlines() if "error" in line.lower()]
    assert len(lines) == 1, result.stderr[-3000:]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize("document", [deep_array, deep_metadata], ids=["array", "metadata"])
def test_a_deeply_nested_guideline_is_one_line_everywhere(pytester, document):
    path = pytester.path / "2099.03.json"
    path.write_text(document())
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider\n")
    run = run_pytest(pytester.path, _env(), f"--guideline={path}", "--cloud=reference")
    one_line(run, USAGE, str(path), "nested deeper than")
    for command in ("lint", "show"):
        one_line(interop(pytester.path, "guideline", command, str(path)), 2, str(path), "nested")
    validate = interop(pytester.path, "guideline", "validate", str(path))
    assert validate.returncode == 1 and "Traceback" not in validate.stderr
    assert "nested deeper than" in validate.stdout


@pytest.mark.parametrize(
    ("journal", "fragment"),
    [
        ("DIR", "is a directory"),
        ('{"not": "a record"}\n[1, 2]\n', "not a ledger journal"),
        (deep_array(), "not a ledger journal"),
    ],
    ids=["directory", "malformed", "deep"],
)
def test_cleanup_with_a_bad_journal_is_one_line(pytester, journal, fragment):
    clouds = pytester.path / "clouds.yaml"
    clouds.write_text(
        "clouds:\n  somewhere:\n    auth:\n      auth_url: http://127.0.0.1:9/v3\n"
        "      username: u\n      password: p\n      project_name: p\n"
    )
    path = pytester.path / "journal.jsonl"
    if journal == "DIR":
        path.mkdir()
    else:
        path.write_text(journal)
    result = interop(
        pytester.path,
        "cleanup",
        "--cloud",
        "somewhere",
        "--journal",
        str(path),
        env=_env(OS_CLIENT_CONFIG_FILE=str(clouds)),
    )
    one_line(result, 2, "--journal", str(path), fragment)


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"- a\n- b\n", "is a list, not a mapping"),
        (b"just a scalar\n", "is a string, not a mapping"),
        (b"clouds:\n  - a\n  - b\n", "has `clouds:` as a list"),
        (b"clouds:\n  somewhere: 3\n", "has cloud 'somewhere' as a number"),
        (b"clouds:\n  somewhere:\n    auth: [1]\n", "`auth:` of cloud 'somewhere' as a list"),
        (b'clouds:\n  somewhere:\n    auth:\n      password: "\xff\xfe"\n', "not UTF-8"),
        (b"clouds: " + b"[" * 5000 + b"\n", "nested deeper than"),
    ],
    ids=["list", "scalar", "clouds-list", "cloud-scalar", "auth-list", "not-utf8", "deep"],
)
def test_a_malformed_clouds_yaml_is_one_line(pytester, content, fragment):
    clouds = pytester.path / "clouds.yaml"
    clouds.write_bytes(content)
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider\n")
    env = _env(OS_CLIENT_CONFIG_FILE=str(clouds))
    run = run_pytest(pytester.path, env, "--guideline=2017.01", "--cloud=somewhere")
    one_line(run, USAGE, "--cloud=somewhere", str(clouds), fragment)
    cleanup = interop(pytester.path, "cleanup", "--cloud", "somewhere", "--run-id", "x", env=env)
    one_line(cleanup, 2, "--cloud=somewhere", str(clouds), fragment)
