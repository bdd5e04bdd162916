"""The results service under load: upload + verify throughput, and page latency with 1,000
stored submissions.

    .venv/bin/python benchmarks/results_service.py [--report REPORT.json] [--uploads 60]
        [--stored 1000] [--products 50] [--db URL]

Without --report it first makes one real run on the reference cloud (guideline next and the
hybrid add-on). From that run's report it makes --stored bundles: copies of the report with a
fresh run id each, declared as one of --products products, bundled and signed by the real
``create_submission``. The first --uploads of them go through a running ``interop results
serve`` over HTTP (each unpacked, verified by ``verify_submission`` and stored); the rest are
stored by the same store step without verification, to reach --stored quickly. Then each page
and API view is fetched 20 times. Everything runs on 127.0.0.1 and stops by itself.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pytest_interop.results import db, intake  # noqa: E402
from pytest_interop.results.models import SigningKey  # noqa: E402
from pytest_interop.submission.bundle import create_submission  # noqa: E402
from pytest_interop.submission.upload import pack, post  # noqa: E402
from tests.functional.results.conftest import start_service, stop_service  # noqa: E402
from tests.functional.results.real_runs import PRODUCTS, Product  # noqa: E402
from tests.functional.submission.sample_runs import write_private_key  # noqa: E402

VENDOR = "Bench Vendor"
PAGES = ("/", "/products/1", "/guidelines/next", "/guidelines/hybrid.2020.06", "/adoption",
         "/capabilities/hybrid-node-public-address", "/variance", "/status",
         "/api/v1/adoption", "/api/v1/products", "/api/v1/guidelines/next/matrix")  # fmt: skip


def real_report(workdir: Path) -> Path:
    report = workdir / "report.json"
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-n", "2",
               "--guideline=next", "--guideline=hybrid.2020.06", "--cloud=reference",
               f"--interop-report={report}",
               f"--interop-journal-dir={workdir / 'journal'}"]  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    assert done.returncode in (0, 1) and report.is_file(), done.stdout[-3000:]
    print(f"real run on the reference cloud: {time.perf_counter() - started:.1f} s")
    return report


def make_bundles(report: Path, key: Path, count: int, products: int, workdir: Path):
    data = json.loads(report.read_text())
    template = PRODUCTS[0]
    bundles = []
    started = time.perf_counter()
    for number in range(count):
        data["run_id"] = f"bench-{number:05d}"
        where = workdir / f"b{number:05d}"
        where.mkdir()
        (where / "report.json").write_text(json.dumps(data))
        product = Product(template.cloud, VENDOR, f"Product {number % products:03d}",
                          template.kind, template.public_addresses)  # fmt: skip
        (where / "product.yaml").write_text(product.declaration())
        bundles.append(create_submission(where / "report.json", where / "bundle", key,
                                         where / "product.yaml"))  # fmt: skip
    elapsed = time.perf_counter() - started
    print(f"made {count} signed bundles in {elapsed:.1f} s ({count / elapsed:.1f} per s)")
    return bundles


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--report", type=Path)
    parser.add_argument("--uploads", type=int, default=60)
    parser.add_argument("--stored", type=int, default=1000)
    parser.add_argument("--products", type=int, default=50)
    parser.add_argument("--db", help="database URL (default: a SQLite file in a temp dir)")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="interop-bench-results-"))
    try:
        report = args.report or real_report(workdir)
        key = write_private_key(workdir / "vendor", "ed25519")
        bundles = make_bundles(report, key, args.stored, args.products, workdir)
        database = args.db or str(workdir / "results.sqlite")
        service = start_service(workdir, database)
        try:
            service.register(Path(f"{key}.pub"), VENDOR)
            times, sizes = [], []
            started = time.perf_counter()
            for bundle in bundles[: args.uploads]:
                data = pack(bundle)
                sizes.append(len(data))
                one = time.perf_counter()
                answer = post(service.url + "/api/v1/submissions", data)
                times.append(time.perf_counter() - one)
                assert answer.status == 201, answer.body
            wall = time.perf_counter() - started
            kib = statistics.mean(sizes) / 1024
            p50, p95 = percentile(times, 0.5) * 1000, percentile(times, 0.95) * 1000
            print(
                f"upload + verify over HTTP: {len(times)} bundles of {kib:.0f} KiB, "
                f"{len(times) / wall:.2f} per s; latency p50 {p50:.0f} ms, p95 {p95:.0f} ms"
            )
            sessions = db.open_database(db.database_url(database))
            started = time.perf_counter()
            with sessions() as session:
                signer = session.query(SigningKey).one()
                for bundle in bundles[args.uploads :]:
                    # the fill-up stores the report's own verdicts, without verifying
                    report_clouds = json.loads((bundle / "report.json").read_text())["clouds"]
                    verdicts = {c["name"]: c["verdict"] for c in report_clouds}
                    intake._store(session, bundle, signer, verdicts, 0)
                    session.commit()
            rest = len(bundles) - args.uploads
            elapsed = time.perf_counter() - started
            print(
                f"stored {rest} more without verification in {elapsed:.1f} s "
                f"({rest / elapsed:.1f} per s); {len(bundles)} submissions stored"
            )
            print(f"{'page':<45} {'p50 ms':>8} {'p95 ms':>8} {'KiB':>7}")
            for page in PAGES:
                latencies = []
                size = 0
                for _ in range(20):
                    one = time.perf_counter()
                    with urllib.request.urlopen(service.url + page, timeout=300) as response:
                        size = len(response.read())
                    latencies.append(time.perf_counter() - one)
                p50, p95 = percentile(latencies, 0.5) * 1000, percentile(latencies, 0.95) * 1000
                print(f"{page:<45} {p50:>8.0f} {p95:>8.0f} {size / 1024:>7.0f}")
        finally:
            stop_service(service)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    os.environ.pop("INTEROP_RESULTS_REVIEWER_TOKEN", None)
    sys.exit(main())
