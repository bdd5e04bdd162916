"""The acceptance run of issue 17: a guideline run on a badly faulty reference cloud, with
every output pytest can make, checked for what must hold.

    python tools/fault_acceptance.py [--fault 5xx=0.4 --fault 429=0.2 --fault boot-failure=0.5]
        [--guideline hybrid.2017.01] [--workers 2] [--out DIR]

It serves a reference cloud (the same code as ``interop reference serve --fault ...``) in
this process, so that it can see what lives on the cloud and which tokens it issued, names
it ``served`` in a clouds.yaml, and runs from the repository root:

    pytest --guideline=G --cloud=served -n W -vv --showlocals --tb=long -rA
        --log-level=DEBUG --junitxml=OUT/j.xml --log-file=OUT/l.log --interop-report=OUT/r.json

Then it checks: the report says ``leaked: 0`` and the cloud holds nothing of the run; the
verdict is inconclusive or compliant (the reference cloud has every capability, so any other
verdict is wrong) with the matching exit status (7 or 0); no password, token or private key
appears in the terminal output, the JUnit XML, the log file or the report. It prints one
line per check and exits 0 when all hold. A run takes about two minutes (retries back off).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from pytest_interop.reference import ReferenceCloud
from pytest_interop.reference.fault_options import parse_faults

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FAULTS = ["5xx=0.4", "429=0.2", "boot-failure=0.5"]
UNMASKED_KEY = re.compile(r"PRIVATE KEY-----(?!\*\*\*)(?:\\n|\n|\s|')*[A-Za-z0-9+/]{16}")
UNMASKED_ADMIN_PASS = re.compile(r"[\"']adminPass[\"']: [\"'](?!\*\*\*)")  # Nova's boot answer


def live(cloud: ReferenceCloud) -> dict[str, dict[str, int]]:
    counts = cloud.counters()["live"]
    counts.pop("tokens", None)
    return {kind: {p: n for p, n in per.items() if n} for kind, per in counts.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fault", action="append", metavar="KNOB=VALUE")
    parser.add_argument("--guideline", default="hybrid.2017.01")
    parser.add_argument("--workers", default="2")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    faults = parse_faults(args.fault or DEFAULT_FAULTS, "--fault")
    out = args.out or Path(tempfile.mkdtemp(prefix="interop-fault-run-"))
    out.mkdir(parents=True, exist_ok=True)

    cloud = ReferenceCloud(**faults)
    cloud.start()
    tokens: list[str] = []
    issue = cloud.state.identity.issue_token

    def issue_token(auth: Any) -> Any:
        token = issue(auth)
        tokens.append(token.id)
        return token

    cloud.state.identity.issue_token = issue_token  # type: ignore[method-assign]
    try:
        clouds_yaml = out / "clouds.yaml"
        config = cloud.cloud_config("served")
        clouds_yaml.write_text(yaml.safe_dump({"clouds": {"served": config}}))
        baseline = live(cloud)
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
        env["OS_CLIENT_CONFIG_FILE"] = str(clouds_yaml)
        started = time.monotonic()
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-p",
                "no:cacheprovider",
                f"--guideline={args.guideline}",
                "--cloud=served",
                "-n",
                args.workers,
                "-vv",
                "--showlocals",
                "--tb=long",
                "-rA",
                "--log-level=DEBUG",
                f"--junitxml={out}/j.xml",
                f"--log-file={out}/l.log",
                f"--interop-report={out}/r.json",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        seconds = time.monotonic() - started
        (out / "stdout.txt").write_text(result.stdout)
        (out / "stderr.txt").write_text(result.stderr)
        deadline = time.monotonic() + 30  # the cloud's own asynchronous deletes
        while live(cloud) != baseline and time.monotonic() < deadline:
            time.sleep(0.2)
        left = {k: v for k, v in live(cloud).items() if v != baseline.get(k, {})}
        counters = cloud.counters()
    finally:
        cloud.stop()

    report = json.loads((out / "r.json").read_text())
    (served,) = report["clouds"]
    resources = served["resources"]
    secrets = {
        "password": config["auth"]["password"],
        "peer password": config["interop"]["peer_auth"]["password"],
        "admin password": config["interop"]["admin_auth"]["password"],
        **{f"token {n}": token for n, token in enumerate(tokens)},
    }
    outputs = {p.name: p.read_text(errors="replace") for p in out.iterdir() if p.is_file()}
    outputs.pop("clouds.yaml")
    leaks = [
        f"{what} in {where}"
        for where, t in outputs.items()
        for what, s in secrets.items()
        if s in t
    ]
    leaks += [f"a private key in {where}" for where, t in outputs.items() if UNMASKED_KEY.search(t)]
    leaks += [
        f"a server's admin password in {where}"
        for where, t in outputs.items()
        if UNMASKED_ADMIN_PASS.search(t)
    ]
    summary = [
        line for line in result.stdout.splitlines() if line.startswith("=") and " in " in line
    ]
    checks = {
        "report leaked: 0": resources.get("leaked") == 0,
        "nothing of the run on the cloud": left == {},
        "verdict inconclusive or compliant": served["verdict"] in ("inconclusive", "compliant"),
        "exit status matches the verdict": result.returncode
        == {"inconclusive": 7, "compliant": 0}.get(served["verdict"], -1),
        "no secret in any output": not leaks,
    }
    print(f"faults: {faults}; {args.guideline} on served, -n {args.workers}; {seconds:.0f} s")
    print(f"pytest: {summary[-1] if summary else '?'} (exit {result.returncode})")
    print(
        f"verdict: {served['verdict']}, required {served['required']['passed']}/"
        f"{served['required']['total']}; resources {resources}"
    )
    print(
        f"cloud: {counters.get('servers_failed', '?')} boots failed; "
        f"left over: {left or 'nothing'}; "
        f"{len(tokens)} tokens issued; outputs scanned: {', '.join(sorted(outputs))}"
    )
    for leak in leaks:
        print(f"  LEAK {leak}")
    for name, ok in checks.items():
        print(f"{'ok  ' if ok else 'FAIL'} {name}")
    print(f"outputs in {out}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
