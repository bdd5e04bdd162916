"""The distribution wires the plugin and the console script the way pytest users expect."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import entry_points

import pytest


def test_plugin_is_registered_through_pytest11():
    (plugin,) = [ep for ep in entry_points(group="pytest11") if ep.name == "interop"]
    assert plugin.value == "pytest_interop.plugin"


def test_console_script_is_registered():
    (script,) = [ep for ep in entry_points(group="console_scripts") if ep.name == "interop"]
    assert script.value == "pytest_interop.cli:main"


def test_interop_command_answers(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "pytest_interop.cli", "--version"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0
    assert result.stdout.startswith("interop ")


def test_options_are_in_pytest_help(pytester: pytest.Pytester):
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines(
        [
            "*--guideline=ID|PATH*",
            "*--cloud=NAME*",
            "*--target=PLATFORM|COMPONENT*",
            "*--interop-report=PATH*",
            "*interop_clouds*",
        ]
    )
