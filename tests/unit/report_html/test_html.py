from __future__ import annotations

import copy
import re
from html.parser import HTMLParser

import pytest

from pytest_interop import cli
from pytest_interop.report.html import build_view, render_html, variance_rows, write_html
from pytest_interop.report.json_report import write_report
from tests.functional.submission.sample_runs import THREE_CLOUDS, make_report, write_guidelines


@pytest.fixture(scope="module")
def guideline_dir(tmp_path_factory):
    return write_guidelines(tmp_path_factory.mktemp("g"))


@pytest.fixture(scope="module")
def report(guideline_dir):
    return make_report(guideline_dir)


class Cells(HTMLParser):
    """(capability, cloud) -> data-result of the matrix cells, and external references."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: dict[tuple[str, str], str] = {}
        self.flagged: set[tuple[str, str]] = set()
        self.row: str | None = None
        self.external: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name in ("src", "href"):
            value = attributes.get(name) or ""
            if value and not value.startswith("#"):
                self.external.append(value)
        if tag == "tr" and "data-capability" in attributes:
            self.row = attributes["data-capability"]
        if tag == "td" and "data-result" in attributes and self.row:
            key = (self.row, attributes["data-cloud"])
            self.cells[key] = attributes["data-result"]
            if attributes.get("data-flagged"):
                self.flagged.add(key)


def parse(html: str) -> Cells:
    parser = Cells()
    parser.feed(html)
    return parser


def test_matrix_shows_each_result_kind_distinctly(report):
    cells = parse(render_html(report))
    assert cells.cells[("hybrid-node-public-address", "reference:floating-ip")] == "failed"
    assert cells.cells[("hybrid-node-public-address", "reference")] == "passed"
    assert cells.cells[("compute-servers-lock", "reference-aws")] == "not_applicable"
    assert cells.cells[("images-v2-update", "reference-aws")] == "error"
    assert cells.cells[("compute-servers-suspend-resume", "reference:floating-ip")] == "not_run"
    assert cells.cells[("volumes-v3-readonly", "reference")] == "missing"
    assert ("compute-servers-verify", "reference:floating-ip") in cells.flagged
    rows = {name for name, _ in cells.cells}
    assert len(cells.cells) == len(rows) * len(THREE_CLOUDS)
    assert cells.external == []


def test_page_is_self_contained_and_escapes_test_text(report):
    edited = copy.deepcopy(report)
    capability = next(
        c
        for c in edited["clouds"][2]["capabilities"]
        if c["name"] == "hybrid-root-key-password-off"
    )
    capability["tests"][0]["message"] = "sshd said <script>alert(1)</script>"
    capability["tests"][0]["findings"] = {"<b>key</b>": "<img src=x>"}
    html = render_html(edited)
    assert "<img src=x>" not in html and "&lt;b&gt;key&lt;/b&gt;" in html
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert "default-src 'none'" in html
    assert "<link" not in html


def test_failures_carry_test_message_findings_and_link_from_the_cell(report):
    view = build_view(report)
    failure = next(
        f for f in view.failures
        if f.cloud == "reference:floating-ip" and f.capability == "hybrid-node-public-address"
    )  # fmt: skip
    assert failure.test["name"].startswith("tests/interop/")
    assert "floating IP" in failure.test["message"]
    assert ("hybrid.login_account", "cloud-user") in failure.findings
    html = render_html(report)
    assert f'href="#{failure.anchor}"' in html and f'id="{failure.anchor}"' in html
    flagged = next(f for f in view.failures if f.capability == "compute-servers-verify")
    assert flagged.test["flagged"]["reason"] in html


def test_variance_table_rows_are_finding_keys_and_columns_clouds(report):
    rows = {row.key: row for row in variance_rows(report)}
    assert rows["hybrid.login_account"].values == ["ubuntu", "cloud-user", "ec2-user"]
    assert rows["hybrid.login_account"].differs
    assert rows["hybrid.boot_seconds"].values == ["3.2", "4.9", "11.5"]
    assert not {"hybrid.result", "hybrid.reason", "hybrid.step"} & set(rows)


def test_hybrid_steps_table_shows_each_answer_and_why(report):
    html = render_html(report)
    steps = html[html.index('id="steps"') : html.index('id="variance-section"')]
    assert steps.count("<tr data-capability=") == 8
    assert 'data-cloud="reference:floating-ip" data-answer="NO"' in steps
    assert "no public address without a floating IP" in steps
    assert 'data-cloud="reference:floating-ip" data-answer="PARTIAL"' in steps
    assert 'data-cloud="reference-aws" data-answer="PARTIAL"' in steps
    assert 'data-cloud="reference" data-answer="NO"' not in steps


def test_no_steps_table_without_the_hybrid_add_on(report):
    without = copy.deepcopy(report)
    without["guidelines"] = [g for g in without["guidelines"] if not g["add_on"]]
    assert 'id="steps"' not in render_html(without)


def test_one_cloud_and_ten_clouds_render(guideline_dir):
    one = make_report(guideline_dir, clouds=["reference"])
    cells = parse(render_html(one))
    assert {cloud for _, cloud in cells.cells} == {"reference"}
    assert 'class="verdict compliant"' in render_html(one)

    ten_names = [f"cloud-{i:02d}" for i in range(10)]
    ten = make_report(guideline_dir, clouds=ten_names)
    cells = parse(render_html(ten))
    assert {cloud for _, cloud in cells.cells} == set(ten_names)
    assert all(result in ("passed", "missing") for result in cells.cells.values())


def test_cli_writes_the_page_atomically_next_to_the_report(report, tmp_path, capsys):
    source = tmp_path / "run.json"
    write_report(source, report)
    assert cli.main(["report", "html", str(source)]) == 0
    assert (tmp_path / "run.html").read_text().startswith("<!DOCTYPE html>")
    out = tmp_path / "elsewhere" / "page.html"
    assert cli.main(["report", "html", str(source), "-o", str(out)]) == 0
    assert out.read_text() == render_html(report)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["elsewhere", "run.html", "run.json"]
    write_html(out, report)  # overwriting leaves no temporary file behind
    assert [p.name for p in out.parent.iterdir()] == ["page.html"]


def test_cli_refuses_an_invalid_report(tmp_path, capsys):
    source = tmp_path / "bad.json"
    source.write_text('{"format": "something else"}')
    assert cli.main(["report", "html", str(source)]) == 2
    assert "not a valid report" in capsys.readouterr().err


def test_a_minimal_valid_report_renders(tmp_path):
    """Only the keys the schema requires: optional ones must not break the page."""
    from pytest_interop.report.json_report import validate_report

    minimal = {
        "format": "pytest-interop/report/1",
        "tool": {"name": "pytest-interop", "version": "0"},
        "run_id": "r1",
        "guidelines": [{"id": "g", "schema": "2.0", "sha256": None, "add_on": False}],
        "target": None,
        "started": "2026-11-25T11:30:00+00:00",
        "finished": "2026-11-25T11:31:00+00:00",
        "duration_seconds": 60,
        "interrupted": True,
        "clouds": [
            {
                "name": "only",
                "identity": {},
                "verdict": "not compliant",
                "required": {"passed": 0, "total": 1},
                "advisory": {"passed": 0, "total": 0},
                "resources": {},
                "capabilities": [
                    {
                        "guideline": "g",
                        "name": "cap",
                        "status": "required",
                        "counted": True,
                        "result": "failed",
                        "tests": [
                            {"name": "t", "idempotent_id": None, "result": "failed", "flagged": {}}
                        ],
                    }
                ],
            }
        ],
        "selection": {"missing": [], "renamed": {}},
        "outcomes": [],
    }
    assert validate_report(minimal) == []
    cells = parse(render_html(minimal))
    assert cells.cells == {("cap", "only"): "failed"}
    assert "The run was interrupted" in render_html(minimal)
