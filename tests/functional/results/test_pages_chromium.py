"""The service's pages in headless Chromium: three real bundles show in the history, the
matrix (with its heatmap), adoption (with its trend plot), the fleet's variance and the status
page; no console error, no blocked fetch. Screenshots go to the test's directory, and to
docs/ when INTEROP_SCREENSHOTS=docs."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import tempfile
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

import pytest

from pytest_interop.submission.upload import pack
from tests.functional.results.real_runs import REPO
from tests.functional.results.test_upload import register_all, upload_bytes

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="/usr/bin/chromium is absent: install Debian's package (apt-get install chromium)",
)
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--enable-logging=stderr", "--v=0", "--hide-scrollbars"]  # fmt: skip
TARGET = REPO / "docs" if os.environ.get("INTEROP_SCREENSHOTS") == "docs" else None


def chromium(url: str, workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tempfile.mkdtemp(dir=workdir)
    done = subprocess.run(
        [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", *args, url],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def console_errors(stderr: str) -> list[str]:
    return [
        line
        for line in stderr.splitlines()
        if "CONSOLE" in line and re.search(r"Uncaught|Refused to|violates|Error", line)
    ]


class Cells(HTMLParser):
    """data-* attributes of the elements a page marks for machines."""

    def __init__(self) -> None:
        super().__init__()
        self.marked: list[dict[str, str | None]] = []
        self.svg_rects: list[str | None] = []
        self.circles = 0

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "rect" and "data-result" in attributes:
            self.svg_rects.append(attributes["data-result"])
        elif tag == "circle":
            self.circles += 1
        elif any(k.startswith("data-") for k in attributes):
            self.marked.append({"tag": tag, **attributes})


def dom(url: str, workdir: Path) -> Cells:
    done = chromium(url, workdir, "--virtual-time-budget=3000", "--dump-dom")
    assert console_errors(done.stderr) == []
    parsed = Cells()
    parsed.feed(done.stdout)
    return parsed


def shoot(url: str, workdir: Path, name: str) -> None:
    shot = workdir / name
    chromium(url, workdir, "--window-size=1280,860", f"--screenshot={shot}")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    if TARGET is not None:
        shutil.copyfile(shot, TARGET / name)


@pytest.mark.idempotent_id("1682ee7d-e951-49ae-9482-857e00a83d0f")
def test_pages_show_the_three_real_runs(service, real_bundles, follow_up_bundle, tmp_path):
    register_all(service, real_bundles)
    for real in real_bundles:
        assert upload_bytes(service, pack(real.bundle))[0] == 201
    products = {p["name"]: p for p in service.get("/api/v1/products")}
    default = products["Default Cloud"]["latest"]["id"]
    status, _ = service.request("POST", f"/api/v1/submissions/{default}/verified", {},
                                token=service.token)  # fmt: skip
    assert status == 200
    floating = products["Floating IP Cloud"]["id"]

    matrix = dom(service.url + "/guidelines/hybrid.2020.06", tmp_path)
    cells = {(c["data-column"], c.get("data-result")) for c in matrix.marked
             if c["tag"] == "td" and "data-column" in c}  # fmt: skip
    assert ("Reference Project Floating IP Cloud", "failed") in cells
    assert ("Moto Works AWS-Compatible Cloud", "passed") in cells
    assert len(matrix.svg_rects) == 8 * 3  # the heatmap: eight steps by three products
    assert matrix.svg_rects.count("failed") == 1

    variance = dom(service.url + "/variance", tmp_path)
    step5 = [c for c in variance.marked if c["tag"] == "td" and c.get("data-result")]
    assert [c["data-result"] for c in step5].count("NO") == 1

    shoot(service.url + "/guidelines/hybrid.2020.06", tmp_path, "results-matrix.png")
    shoot(service.url + "/variance", tmp_path, "results-variance.png")

    # the product's next version gives public addresses at boot: its history shows the change
    assert upload_bytes(service, pack(follow_up_bundle.bundle))[0] == 201
    history = dom(service.url + f"/products/{floating}", tmp_path)
    rows = [c for c in history.marked if c["tag"] == "tr" and "data-verdict" in c]
    assert [(r["data-cloud"], r["data-verdict"]) for r in rows] == [
        ("reference", "compliant"),
        ("reference:floating-ip", "not compliant"),
    ]
    changed = {c["data-change"]: (c["data-before"], c["data-after"])
               for c in history.marked if c["tag"] == "li"}  # fmt: skip
    assert changed == {"hybrid-node-public-address": ("failed", "passed")}
    adoption = dom(service.url + "/capabilities/hybrid-node-public-address", tmp_path)
    overall = next(c for c in adoption.marked if c.get("id") == "overall")
    assert (overall["data-passed"], overall["data-total"]) == ("3", "3")
    assert adoption.circles == 4

    status_page = dom(service.url + "/status", tmp_path)
    states = {c["data-product"]: c["data-status"] for c in status_page.marked
              if c["tag"] == "tr" and "data-status" in c}  # fmt: skip
    assert states[str(products["Default Cloud"]["id"])] == "current"
    assert states[str(floating)] == "unverified"
    for days, expected in ((300, "current"), (350, "expiring"), (366, "lapsed")):
        day = (dt.date.today() + dt.timedelta(days=days)).isoformat()
        later = dom(service.url + f"/status?at={day}", tmp_path)
        (row,) = [
            c for c in later.marked if c.get("data-product") == str(products["Default Cloud"]["id"])
        ]
        assert row["data-status"] == expected, day
    shoot(service.url + f"/products/{floating}", tmp_path, "results-history.png")
    shoot(service.url + "/capabilities/hybrid-node-public-address", tmp_path,
          "results-adoption.png")  # fmt: skip
    shoot(service.url + "/status", tmp_path, "results-status.png")


@pytest.mark.idempotent_id("ed663e18-7eb7-4fa8-82a0-7f51a63be034")
def test_the_pages_policy_blocks_scripts_and_fetches_and_the_probe_sees_it(service, tmp_path):
    """Guard for the test above: a page under the service's own Content-Security-Policy
    with a script and an external image injected gets both blocked, and console_errors()
    reports each."""
    request = urllib.request.Request(service.url + "/status")
    with urllib.request.urlopen(request, timeout=30) as response:
        policy = response.headers["Content-Security-Policy"]
        page = response.read().decode()
    assert "default-src 'none'" in policy and "<script" not in page
    broken = tmp_path / "broken.html"
    broken.write_text(
        page.replace("<head>", f'<head><meta http-equiv="Content-Security-Policy" '
                     f'content="{policy}">').replace(
            "</main>",
            '<script>undefinedFunction();</script><img src="http://127.0.0.1:9/x.png"></main>',
        )
    )  # fmt: skip
    done = chromium(broken.as_uri(), tmp_path, "--virtual-time-budget=2000", "--dump-dom")
    errors = console_errors(done.stderr)
    assert any("script-src" in line for line in errors), done.stderr[-2000:]
    assert any("img-src" in line for line in errors), done.stderr[-2000:]
