"""Open the HTML report in headless Chromium: no console errors, the expected cells, filters."""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pytest

from pytest_interop.report.html import build_view, render_html
from tests.functional.submission.sample_runs import make_report, write_guidelines

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="/usr/bin/chromium is absent: install Debian's package (apt-get install chromium)",
)

# Runs before the page's own script: records errors, CSP violations and console.error calls,
# then, after load, uses the page's filter buttons and writes what it saw into the DOM.
PROBE = """<script>
window.__probe = {errors: []};
window.addEventListener("error", function (e) {
  window.__probe.errors.push("error: " + e.message); });
document.addEventListener("securitypolicyviolation", function (e) {
  window.__probe.errors.push("csp: " + e.violatedDirective + " " + e.blockedURI); });
(function () { var original = console.error;
  console.error = function () {
    window.__probe.errors.push("console: " + Array.from(arguments).join(" "));
    return original.apply(console, arguments); }; }());
window.addEventListener("load", function () {
  var p = window.__probe;
  function visible() { return Array.from(document.querySelectorAll("#matrix tbody tr"))
    .filter(function (r) { return getComputedStyle(r).display !== "none"; }).length; }
  p.rows = visible();
  ["failed", "required", "advisory", "all"].forEach(function (f) {
    document.querySelector('button[data-filter="' + f + '"]').click();
    p[f] = visible();
  });
  p.count = document.getElementById("row-count").textContent;
  var out = document.createElement("pre");
  out.id = "probe-result";
  out.textContent = JSON.stringify(p);
  document.body.appendChild(out);
});
</script>"""


def run_chromium(html: str, workdir: Path) -> tuple[str, str]:
    page = workdir / "report.html"
    page.write_text(html.replace("<head>", "<head>\n" + PROBE, 1), encoding="utf-8")
    profile = tempfile.mkdtemp(dir=workdir)
    done = subprocess.run(
        [
            str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
            "--virtual-time-budget=5000", "--dump-dom", page.as_uri(),
        ],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout, done.stderr


class ProbeAndCells(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.in_probe = False
        self.probe = ""
        self.row: str | None = None
        self.cells: dict[tuple[str, str], str] = {}

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.in_probe = attributes.get("id") == "probe-result"
        if tag == "tr" and "data-capability" in attributes:
            self.row = attributes["data-capability"]
        if tag == "td" and self.row and "data-result" in attributes:
            self.cells[(self.row, attributes["data-cloud"])] = attributes["data-result"]

    def handle_data(self, data):
        if self.in_probe:
            self.probe += data

    def handle_endtag(self, tag):
        if tag == "pre":
            self.in_probe = False


def console_errors(stderr: str) -> list[str]:
    return [
        line
        for line in stderr.splitlines()
        if "CONSOLE" in line and re.search(r"Uncaught|Refused to|Error", line)
    ]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    return make_report(write_guidelines(tmp_path_factory.mktemp("g")))


def test_three_cloud_report_has_no_console_errors_and_expected_cells(report, tmp_path):
    dom, stderr = run_chromium(render_html(report), tmp_path)
    parsed = ProbeAndCells()
    parsed.feed(dom)
    probe = json.loads(parsed.probe)
    assert probe["errors"] == []
    assert console_errors(stderr) == []

    assert parsed.cells[("hybrid-node-public-address", "reference:floating-ip")] == "failed"
    assert parsed.cells[("hybrid-node-public-address", "reference")] == "passed"
    assert parsed.cells[("compute-servers-lock", "reference-aws")] == "not_applicable"
    assert parsed.cells[("images-v2-update", "reference-aws")] == "error"
    assert parsed.cells[("volumes-v3-readonly", "reference-aws")] == "missing"

    view = build_view(report)
    assert probe["rows"] == probe["all"] == len(view.rows)
    assert probe["failed"] == sum(row.failing for row in view.rows) > 0
    assert probe["required"] == sum(row.counted for row in view.rows)
    assert probe["advisory"] == sum(row.status == "advisory" for row in view.rows)
    assert probe["count"] == f"{len(view.rows)} of {len(view.rows)} capabilities"


def test_ten_clouds_render_without_errors(tmp_path_factory, tmp_path):
    names = [f"cloud-{i:02d}" for i in range(10)]
    ten = make_report(write_guidelines(tmp_path_factory.mktemp("g10")), clouds=names)
    dom, stderr = run_chromium(render_html(ten), tmp_path)
    parsed = ProbeAndCells()
    parsed.feed(dom)
    assert json.loads(parsed.probe)["errors"] == []
    assert console_errors(stderr) == []
    assert {cloud for _, cloud in parsed.cells} == set(names)


def test_the_probe_does_see_script_errors_and_fetches(report, tmp_path):
    """Guard for the two tests above: a broken script and a network fetch are reported."""
    broken = render_html(report).replace(
        "</body>",
        '<script>undefinedFunction();</script><img src="http://127.0.0.1:9/x.png"></body>',
    )
    dom, stderr = run_chromium(broken, tmp_path)
    parsed = ProbeAndCells()
    parsed.feed(dom)
    errors = json.loads(parsed.probe)["errors"]
    assert any("undefinedFunction" in e for e in errors)
    assert any(e.startswith("csp: img-src") for e in errors)
    assert any("undefinedFunction" in line for line in console_errors(stderr))
