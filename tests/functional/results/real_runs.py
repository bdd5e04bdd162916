"""Real guideline runs on the reference cloud, each bundled and signed as a vendor would.

Three products, one run each: the reference cloud's default profile, its floating-ip profile
(servers get no public address at boot) and its AWS endpoint. Each run is a real
``pytest --guideline ... --submission`` in a subprocess; the three run at once.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tests.functional.submission.sample_runs import write_private_key

REPO = Path(__file__).resolve().parents[3]
GUIDELINES = ("next", "hybrid.2020.06")
RUN_TIMEOUT = 900


@dataclass(frozen=True)
class Product:
    cloud: str
    vendor: str
    name: str
    kind: str
    public_addresses: str
    version: str = "2026.1"
    guidelines: tuple[str, ...] = GUIDELINES

    def declaration(self) -> str:
        return f"""\
vendor: {self.vendor}
product: {self.name}
version: "{self.version}"
kind: {self.kind}
contact: interop@example.com
regions: [RegionOne]
clouds:
  {self.cloud}: the embedded reference cloud ({self.cloud})
tested_configuration:
  hypervisor: reference cloud machines
  storage: {{block: reference, object: reference}}
  network: {{ml2: reference, public_addresses: "{self.public_addresses}"}}
  images:
    - {{name: Debian-12, os: Debian 12}}
"""


PRODUCTS = (
    Product("reference", "Reference Project", "Default Cloud", "public cloud",
            "public addresses at boot"),
    Product("reference:floating-ip", "Reference Project", "Floating IP Cloud", "private cloud",
            "floating IPs"),
    Product("reference-aws", "Moto Works", "AWS-Compatible Cloud", "public cloud",
            "public IPs on the default subnet"),
)  # fmt: skip
# A later version of the floating-IP product that gives public addresses at boot, run with the
# hybrid add-on only, after the others: its history shows what changed between two runs.
FOLLOW_UP = Product("reference", "Reference Project", "Floating IP Cloud", "private cloud",
                    "public addresses at boot", "2026.2", ("hybrid.2020.06",))  # fmt: skip


@dataclass(frozen=True)
class RealBundle:
    product: Product
    bundle: Path
    report: Path
    key: Path  # the vendor's private key; its public key is key.pub

    def as_dict(self) -> dict[str, Any]:
        return {"product": asdict(self.product), "bundle": str(self.bundle),
                "report": str(self.report), "key": str(self.key)}  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RealBundle:
        fields = dict(data["product"])
        fields["guidelines"] = tuple(fields["guidelines"])  # JSON made the tuple a list
        product = Product(**fields)
        return cls(product, Path(data["bundle"]), Path(data["report"]), Path(data["key"]))


def vendor_keys(directory: Path) -> dict[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    keys = {}
    for vendor in sorted({p.vendor for p in PRODUCTS}):
        keys[vendor] = write_private_key(directory / vendor.replace(" ", "_").lower(), "ed25519")
    return keys


def make_bundles(directory: Path) -> list[RealBundle]:
    """Run the guidelines once per product, at the same time, then the follow-up run; return
    the signed bundles (the follow-up last)."""
    keys = vendor_keys(directory / "keys")
    bundles = _run(directory, keys, PRODUCTS, 0)
    return bundles + _run(directory, keys, (FOLLOW_UP,), len(PRODUCTS))


def _run(
    directory: Path, keys: dict[str, Path], products: tuple[Product, ...], first: int
) -> list[RealBundle]:
    jobs = []
    for number, product in enumerate(products, start=first):
        where = directory / f"run{number}"
        where.mkdir()
        (where / "product.yaml").write_text(product.declaration(), encoding="utf-8")
        command = [
            sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-n", "1",
            *(f"--guideline={g}" for g in product.guidelines), f"--cloud={product.cloud}",
            f"--interop-report={where / 'report.json'}",
            f"--submission={where / 'bundle'}", f"--submission-key={keys[product.vendor]}",
            f"--submission-product={where / 'product.yaml'}",
            f"--interop-journal-dir={where / 'journal'}",
        ]  # fmt: skip
        log = (where / "run.log").open("w")
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST")}
        jobs.append((product, where, log, subprocess.Popen(
            command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env=env
        )))  # fmt: skip
    bundles = []
    try:
        for product, where, log, process in jobs:
            code = process.wait(timeout=RUN_TIMEOUT)
            log.close()
            # exit 1 is a run whose verdict is "not compliant": still a real submission
            assert code in (0, 1), (where / "run.log").read_text()[-3000:]
            assert (where / "bundle" / "MANIFEST.sig").is_file(), (where / "run.log").read_text()
            bundles.append(
                RealBundle(product, where / "bundle", where / "report.json", keys[product.vendor])
            )
    finally:
        for _, _, log, process in jobs:
            if process.poll() is None:
                process.kill()
                process.wait()
            log.close()
    return bundles
