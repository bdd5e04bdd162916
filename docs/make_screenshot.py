"""Regenerate docs/report-three-clouds.png: the HTML report of a three-cloud run.

The report is synthetic but made by the real code: the guidelines in guidelines/ (2017.01 and
the hybrid add-on; a capability that lists no test yet gets one generated test), outcomes
shaped like the reference cloud's profiles (reference, reference:floating-ip, reference-aws),
compliance.evaluate and json_report.build_report. Needs /usr/bin/chromium.

    .venv/bin/python docs/make_screenshot.py [--out docs/report-three-clouds.png] [--keep-html]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pytest_interop.report.html import render_html  # noqa: E402
from tests.functional.submission.sample_runs import make_report, write_guidelines  # noqa: E402

CHROMIUM = "/usr/bin/chromium"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(REPO / "docs" / "report-three-clouds.png"))
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=1800)
    parser.add_argument("--keep-html", action="store_true", help="also write the page beside it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        workdir = Path(work)
        report = make_report(write_guidelines(workdir / "guidelines"))
        page = workdir / "report.html"
        page.write_text(render_html(report), encoding="utf-8")
        if args.keep_html:
            Path(args.out).with_suffix(".html").write_text(page.read_text(), encoding="utf-8")
        subprocess.run(
            [
                CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", f"--user-data-dir={workdir / 'profile'}", "--hide-scrollbars",
                f"--window-size={args.width},{args.height}", "--virtual-time-budget=3000",
                f"--screenshot={args.out}",
                # Filtered to the capabilities that did not pass everywhere, so the failures
                # and the variance table fit in the picture.
                page.as_uri() + "#filter=failed",
            ],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
