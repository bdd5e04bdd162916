"""Every `interop guideline ... --format json` output matches its documented, versioned shape
(pytest_interop/guideline/schemas/cli-output.schema.json; docs/cli-json.md)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from pytest_interop.cli import main

ROOT = Path(__file__).resolve().parents[3]
SCHEMA = json.loads(
    (ROOT / "pytest_interop" / "guideline" / "schemas" / "cli-output.schema.json").read_text()
)
COMMANDS = {
    "list": ["list"],
    "validate": ["validate", "2017.01", "hybrid.2017.01"],
    "show": ["show", "2020.06"],
    "tests": ["tests", "2017.01", "--include-advisory"],
    "diff": ["diff", "2017.01", "2020.06"],
    "score": ["score", "2017.01"],
    "coverage": ["coverage", "2017.01"],
    "lint": ["lint", "2017.01"],
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_json_output_matches_its_schema(command, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the shipped guidelines only, as an installed user sees them
    code = main(["guideline", *COMMANDS[command], "--format", "json"])
    assert code == 0
    output = json.loads(capsys.readouterr().out)
    schema = {"$defs": SCHEMA["$defs"], "$ref": f"#/$defs/{command}"}
    jsonschema.validate(output, schema, cls=jsonschema.Draft202012Validator)


def test_every_command_with_json_output_has_a_schema_and_a_documented_section():
    doc = (ROOT / "docs" / "cli-json.md").read_text()
    for command in COMMANDS:
        assert command in SCHEMA["$defs"]
        assert f"### `interop guideline {command}" in doc, command


def test_the_number_of_guidelines_does_not_change_the_coverage_shape(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    main(["guideline", "coverage", "2017.01", "--format", "json"])
    one = json.loads(capsys.readouterr().out)
    main(["guideline", "coverage", "2017.01", "2020.06", "--format", "json"])
    two = json.loads(capsys.readouterr().out)
    assert set(one) == set(two) == {"reports", "uncovered"}
    assert [r["guideline"] for r in two["reports"]] == ["2017.01", "2020.06"]
