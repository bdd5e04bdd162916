"""Tempest, OpenStack's own suite, against the reference cloud; then ours, side by side.

Installs Tempest from PyPI into a venv of its own, serves a reference cloud with a pace
profile (as ``run_cost.py``), writes a tempest.conf (dynamic credentials from the admin
account, SSH validation through floating IPs with the image's login account), runs the
published 2017.01 required list and prints passed / failed / skipped per capability and each
failing test with its reason. Then, on fresh clouds of the same pace, runs our
``--guideline=2017.01`` serially and at Tempest's concurrency, and prints wall time, servers
booted and API calls by service (the clouds' counters) side by side with the ratios.

    .venv/bin/python benchmarks/peer_tempest.py [--workers 2] [--api-latency 0.02] \
        [--boot-delay 2] [--delete-delay 0.5] [--tempest-only] [--json OUT.json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run_cost import run_once

ROOT = Path(__file__).resolve().parent.parent
GUIDELINE = "2017.01"
TEMPEST_SPEC = "tempest>=40"
LEAK_KINDS = ("servers", "volumes", "floatingips", "ports", "keypairs")
UUID = re.compile(r"id-([0-9a-f-]{36})")

# Run by the Tempest venv's Python: the last run's subunit stream -> {test id: outcome}.
SUBUNIT_TO_JSON = textwrap.dedent(
    """
    import json, sys
    import subunit, testtools

    results = {}

    def on_test(test):
        details = test["details"]
        reason = ""
        for key in ("reason", "traceback"):
            if key in details:
                reason = details[key].as_text()
        start, stop = test["timestamps"]
        took = (stop - start).total_seconds() if start and stop else 0.0
        results[test["id"]] = {"status": test["status"], "reason": reason, "seconds": took}

    stream = subunit.ByteStreamToStreamResult(sys.stdin.buffer, non_subunit_name="stdout")
    result = testtools.StreamToDict(on_test)
    result.startTestRun()
    stream.run(result)
    result.stopTestRun()
    json.dump(results, sys.stdout)
    """
)


def ensure_tempest(venv: Path, spec: str) -> Path:
    """The venv's bin directory, with Tempest installed from PyPI if it is not yet there."""
    bin_dir = venv / "bin"
    if not (bin_dir / "tempest").exists():
        print(f"installing {spec} into {venv} ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(bin_dir / "pip"), "install", "--quiet", "--upgrade", "pip", spec], check=True
        )
    version = subprocess.run(
        [
            str(bin_dir / "python"),
            "-c",
            "import tempest, importlib.metadata as m;print(m.version('tempest'))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    print(f"Tempest {version} in {venv}")
    return bin_dir


def guideline_tests(path: Path) -> dict[str, tuple[str, str, bool]]:
    """Idempotent id -> (capability, test name, flagged) of the required capabilities."""
    data = json.loads(path.read_text())
    required = {name for part in data["components"].values() for name in part["required"]}
    tests: dict[str, tuple[str, str, bool]] = {}
    for capability in sorted(required):
        for name, test in data["capabilities"][capability]["tests"].items():
            uuid = test["idempotent_id"].removeprefix("id-")
            tests.setdefault(uuid, (capability, name, "flagged" in test))
    return tests


def tempest_conf(cloud, workdir: Path) -> str:
    """A tempest.conf for the served cloud: dynamic credentials from its admin account."""
    admin = cloud.admin_cloud_config()["auth"]
    state = cloud.state
    images = {image["name"]: image for image in state.image.images.values()}
    profile = cloud.profile
    first, second = profile.images[0], profile.images[-1]
    flavors = [flavor.id for flavor in profile.flavors]
    external = next(
        net for net in state.network.store["networks"].values() if net["router:external"]
    )
    return textwrap.dedent(
        f"""
        [DEFAULT]
        log_file = {workdir / "tempest.log"}
        lock_path = {workdir / "locks"}

        [auth]
        use_dynamic_credentials = true
        create_isolated_networks = true
        admin_username = {admin["username"]}
        admin_password = {admin["password"]}
        admin_project_name = {admin["project_name"]}
        admin_domain_name = Default
        default_credentials_domain_name = Default

        [identity]
        uri_v3 = {cloud.auth_url}
        auth_version = v3
        region = {state.region}

        [identity-feature-enabled]
        api_v2 = false
        api_v3 = true

        [compute]
        image_ref = {images[first.name]["id"]}
        image_ref_alt = {images[second.name]["id"]}
        flavor_ref = {flavors[0]}
        flavor_ref_alt = {flavors[1]}
        build_interval = 1
        build_timeout = 120

        [compute-feature-enabled]
        console_output = true
        resize = true
        snapshot = true
        change_password = false
        vnc_console = false
        spice_console = false
        serial_console = false
        rescue = false
        shelve = false
        live_migration = false
        cold_migration = false

        [validation]
        run_validation = true
        connect_method = floating
        auth_method = keypair
        image_ssh_user = {first.login_user}
        image_alt_ssh_user = {second.login_user}
        ip_version_for_ssh = 4
        ssh_timeout = 120
        connect_timeout = 30

        [network]
        public_network_id = {external["id"]}
        floating_network_name = {external["name"]}
        project_network_cidr = 10.100.0.0/16
        project_network_mask_bits = 28
        build_interval = 1
        build_timeout = 120

        [network-feature-enabled]
        ipv6 = false
        ipv6_subnet_attributes = false

        [image]
        build_interval = 1

        [image-feature-enabled]
        api_v2 = true
        api_v1 = false
        # the reference Glance stores image data as given, it does not inspect formats
        image_format_enforcement = false

        [volume]
        build_interval = 1
        build_timeout = 120

        [volume-feature-enabled]
        backup = false

        [object-storage]
        operator_role = member
        reseller_admin_role = admin

        [service_available]
        nova = true
        neutron = true
        glance = true
        cinder = true
        swift = true
        heat = false
        designate = false
        """
    )


def run_tempest(bin_dir: Path, cloud, tests: dict, workers: int, workdir: Path) -> dict:
    """Run the required list; per idempotent id, Tempest's outcome (or missing)."""
    workdir = workdir.resolve()
    (workdir / "etc").mkdir(parents=True, exist_ok=True)
    (workdir / "locks").mkdir(exist_ok=True)
    conf = workdir / "etc" / "tempest.conf"
    conf.write_text(tempest_conf(cloud, workdir))
    site = subprocess.run(
        [
            str(bin_dir / "python"),
            "-c",
            "import os, tempest; print(os.path.dirname(tempest.__file__))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    (workdir / ".stestr.conf").write_text(
        f"[DEFAULT]\ntest_path={site}/test_discover\ntop_dir={Path(site).parent}\n"
        "group_regex=([^\\.]*\\.)*\n"
    )
    env = {
        **os.environ,
        "TEMPEST_CONFIG_DIR": str(workdir / "etc"),
        "TEMPEST_CONFIG": "tempest.conf",
    }
    if not (workdir / ".stestr").exists():
        subprocess.run([str(bin_dir / "stestr"), "init"], cwd=workdir, env=env, check=True)
    listed = subprocess.run(
        [str(bin_dir / "stestr"), "list"], cwd=workdir, env=env, capture_output=True, text=True
    )
    if listed.returncode != 0:
        raise SystemExit(f"stestr list failed:\n{listed.stderr[-3000:]}")
    by_uuid = match_listed(tests, listed.stdout.splitlines())
    load_list = workdir / "load-list.txt"
    load_list.write_text("".join(f"{test_id}\n" for test_id in sorted(by_uuid.values())))
    print(
        f"running {len(by_uuid)} of {len(tests)} listed tests (the others are not in this "
        f"Tempest) with --concurrency {workers} ...",
        flush=True,
    )
    before = cloud.counters()
    start = time.perf_counter()
    run = subprocess.run(
        [
            str(bin_dir / "tempest"),
            "run",
            "--config-file",
            str(conf),
            "--load-list",
            str(load_list),
            "--concurrency",
            str(workers),
        ],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - start
    after = cloud.counters()
    (workdir / "tempest-run.log").write_text(run.stdout + run.stderr)
    stream = subprocess.run(
        [str(bin_dir / "stestr"), "last", "--subunit"], cwd=workdir, env=env, capture_output=True
    )
    parsed = subprocess.run(
        [str(bin_dir / "python"), "-c", SUBUNIT_TO_JSON],
        input=stream.stdout,
        capture_output=True,
        check=True,
    )
    raw: dict[str, dict] = json.loads(parsed.stdout)
    if not raw:
        raise SystemExit(f"Tempest ran no test:\n{(run.stdout + run.stderr)[-3000:]}")
    outcomes = _per_uuid(tests, by_uuid, raw)
    return {
        "wall_s": wall,
        "workers": workers,
        "servers_booted": after["servers_booted"] - before["servers_booted"],
        "api_calls": _calls(before, after),
        "outcomes": outcomes,
    }


def match_listed(tests: dict, lines: list[str]) -> dict[str, str]:
    """Idempotent id -> the Tempest test id to run for it.

    The guideline's test name first (a subclass, NetworksIpV6Test, inherits the ids of
    NetworksTest's methods); the id alone for a test renamed since."""
    by_uuid: dict[str, str] = {}
    for line in lines:
        match = UUID.search(line)
        if match and match.group(1) in tests:
            uuid, name = match.group(1), line.strip().split("[", 1)[0]
            if name == tests[uuid][1]:
                by_uuid[uuid] = line.strip()
            else:
                by_uuid.setdefault(uuid, line.strip())
    return by_uuid


def _per_uuid(tests: dict, by_uuid: dict[str, str], raw: dict[str, dict]) -> dict[str, dict]:
    """Each listed test's outcome; a class whose set-up failed fails each of its tests."""
    class_errors = {}
    for test_id, result in raw.items():
        match = re.match(r"(setUpClass|tearDownClass) \((.+)\)", test_id)
        if match and result["status"] in ("fail", "skip"):
            class_errors.setdefault(
                match.group(2), (match.group(1), result["reason"], result["status"])
            )
    outcomes = {}
    for uuid in tests:
        full = by_uuid.get(uuid)
        if full is None:
            outcomes[uuid] = {"status": "missing", "reason": "not in this Tempest"}
            continue
        result = raw.get(full)
        klass = full.split("[", 1)[0].rsplit(".", 1)[0]
        if result is None or (result["status"] != "success" and klass in class_errors):
            phase, reason, status = class_errors.get(
                klass, ("", "no result (the run stopped?)", "fail")
            )
            result = {"status": status, "reason": f"{phase}: {reason}" if phase else reason}
        outcomes[uuid] = {"status": result["status"], "reason": result["reason"], "id": full}
    return outcomes


def _calls(before: dict, after: dict) -> dict[str, int]:
    calls: Counter[str] = Counter()
    for route, count in after["api_calls"].items():
        calls[route.split(" ", 1)[0]] += count - before["api_calls"].get(route, 0)
    return dict(sorted(calls.items()))


def short_reason(reason: str) -> str:
    """The last meaningful line of a traceback (or the skip reason)."""
    lines = [line.strip() for line in reason.strip().splitlines() if line.strip()]
    for line in reversed(lines):
        if re.match(
            r"^[\w.]+(Error|Exception|Failure|Timeout|NotFound|BadRequest|"
            r"Forbidden|Conflict|Unauthorized|ServerFault|MismatchError)\b",
            line,
        ) or (":" in line and not line.startswith(("File ", "Traceback"))):
            return line[:300]
    return (lines[-1] if lines else "")[:300]


def print_tempest(tests: dict, result: dict) -> dict[str, int]:
    by_capability: dict[str, Counter] = defaultdict(Counter)
    for uuid, (capability, _name, _flagged) in tests.items():
        by_capability[capability][_bucket(result["outcomes"][uuid]["status"])] += 1
    print(
        f"\nTempest against the reference cloud ({result['workers']} workers): "
        f"{result['wall_s']:.1f} s"
    )
    print(f"  {'capability':42} passed failed skipped missing")
    for capability in sorted(by_capability):
        c = by_capability[capability]
        print(
            f"  {capability:42} {c['passed']:6} {c['failed']:6} {c['skipped']:7} {c['missing']:7}"
        )
    total = Counter(_bucket(o["status"]) for o in result["outcomes"].values())
    share = total["passed"] / max(len(tests), 1)
    print(
        f"  total: {total['passed']} passed, {total['failed']} failed, {total['skipped']} "
        f"skipped, {total['missing']} missing of {len(tests)} ({share:.1%} passed)"
    )
    flagged_failing = 0
    print("\nfailing, skipped or missing tests and why:")
    for uuid, (_capability, name, flagged) in sorted(tests.items(), key=lambda kv: kv[1][1]):
        outcome = result["outcomes"][uuid]
        if outcome["status"] == "success":
            continue
        flagged_failing += flagged
        tag = " (flagged)" if flagged else ""
        print(
            f"  [{_bucket(outcome['status'])}] {name}{tag}\n      {short_reason(outcome['reason'])}"
        )
    return dict(total)


def _bucket(status: str) -> str:
    return {"success": "passed", "skip": "skipped", "missing": "missing"}.get(status, "failed")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="Tempest's and our concurrency")
    parser.add_argument("--api-latency", type=float, default=0.02)
    parser.add_argument("--boot-delay", type=float, default=2.0)
    parser.add_argument("--delete-delay", type=float, default=0.5)
    parser.add_argument("--profile", default="default")
    parser.add_argument("--venv", type=Path, default=ROOT / ".tempest" / "venv")
    parser.add_argument("--tempest", default=TEMPEST_SPEC, help="pip requirement for Tempest")
    # beside the checkout, as the Makefile's PUBLISHED (one level up for a git worktree)
    candidates = [ROOT.parent / "shared", ROOT.parent.parent / "shared"]
    default_published = os.environ.get("INTEROP_PUBLISHED_GUIDELINES") or str(
        next((c for c in candidates if c.exists()), candidates[0]) / "published-guidelines"
    )
    parser.add_argument("--published", type=Path, default=Path(default_published))
    parser.add_argument("--tempest-only", action="store_true", help="skip our runs")
    parser.add_argument("--only", help="a regex: only the listed tests it matches (iterating)")
    parser.add_argument("--json", type=Path, help="write every figure and outcome here")
    parser.add_argument(
        "--workdir", type=Path, help="keep Tempest's workspace (tempest.conf, logs) here"
    )
    options = parser.parse_args()
    published = options.published / f"{GUIDELINE}.json"
    if not published.exists():
        raise SystemExit(
            f"--published: no {published}; point it (or INTEROP_PUBLISHED_GUIDELINES) at "
            "OpenStack's published guideline files"
        )
    from pytest_interop.reference import ReferenceCloud

    knobs = {
        "api_latency": options.api_latency,
        "boot_delay": options.boot_delay,
        "delete_delay": options.delete_delay,
    }
    print(
        f"pace: reference:{options.profile}, API latency {options.api_latency * 1000:.0f} ms, "
        f"boot {options.boot_delay:.1f} s, delete {options.delete_delay:.1f} s"
    )
    tests = guideline_tests(published)
    if options.only:
        tests = {k: v for k, v in tests.items() if re.search(options.only, v[1])}
    bin_dir = ensure_tempest(options.venv, options.tempest)
    quotas = {"instances": 200, "cores": 800, "ram": 2_000_000}
    with tempfile.TemporaryDirectory(prefix="interop-tempest-") as tmp:
        workdir = options.workdir or Path(tmp)
        with ReferenceCloud(options.profile, quotas=quotas, **knobs) as cloud:
            tempest = run_tempest(bin_dir, cloud, tests, options.workers, workdir)
            live = cloud.counters()["live"]
        totals = print_tempest(tests, tempest)
        left = {kind: sum(v.values()) for kind, v in live.items() if kind in LEAK_KINDS}
        print(f"  left behind by Tempest: {({k: v for k, v in left.items() if v}) or 'nothing'}")
    record = {"tempest": {**tempest, "totals": totals}}
    if not options.tempest_only:
        ours = {
            label: run_once(label, knobs, options.profile, workers, [], guidelines=(GUIDELINE,))
            for label, workers in (("serial", None), (f"-n {options.workers}", options.workers))
        }
        kept = ("wall_s", "servers_booted", "api_calls", "tests", "failed")
        record["ours"] = {label: {k: v[k] for k in kept} for label, v in ours.items()}
        print_side_by_side(tempest, ours, options.workers)
    if options.json:
        options.json.write_text(json.dumps(record, indent=1, default=str))


def print_side_by_side(tempest: dict, ours: dict, workers: int) -> None:
    serial, parallel = ours["serial"], ours[f"-n {workers}"]
    print(
        f"\n{'':28} {'Tempest -n ' + str(workers):>16} {'ours serial':>14} "
        f"{'ours -n ' + str(workers):>14}"
    )
    print(
        f"  {'wall time (s)':26} {tempest['wall_s']:16.1f} {serial['wall_s']:14.1f} "
        f"{parallel['wall_s']:14.1f}"
    )
    print(
        f"  {'servers booted':26} {tempest['servers_booted']:16} "
        f"{serial['servers_booted']:14} {parallel['servers_booted']:14}"
    )
    services = sorted(set(tempest["api_calls"]) | set(serial["api_calls"]))
    for service in services:
        print(
            f"  {'API calls ' + service:26} {tempest['api_calls'].get(service, 0):16} "
            f"{serial['api_calls'].get(service, 0):14} "
            f"{parallel['api_calls'].get(service, 0):14}"
        )
    total_t = sum(tempest["api_calls"].values())
    print(
        f"  {'API calls, all':26} {total_t:16} {sum(serial['api_calls'].values()):14} "
        f"{sum(parallel['api_calls'].values()):14}"
    )
    ran = sum(1 for o in tempest["outcomes"].values() if o["status"] != "missing")
    print(f"  {'tests run':26} {ran:16} {serial['tests']:14} {parallel['tests']:14}")
    print("ratios ours / Tempest's")
    print(
        f"  wall: serial {serial['wall_s'] / tempest['wall_s']:.2f}, -n {workers} "
        f"{parallel['wall_s'] / tempest['wall_s']:.2f} (goal <= 0.25)"
    )
    booted = max(tempest["servers_booted"], 1)
    print(
        f"  servers booted: serial {serial['servers_booted'] / booted:.2f}, -n {workers} "
        f"{parallel['servers_booted'] / booted:.2f} (goal <= 0.5)"
    )
    print(
        f"  API calls: serial {sum(serial['api_calls'].values()) / max(total_t, 1):.2f}, "
        f"-n {workers} {sum(parallel['api_calls'].values()) / max(total_t, 1):.2f}"
    )
    for label, result in ours.items():
        for failure in result["failed"]:
            print(f"  ours [{label}] failed: {failure}")


if __name__ == "__main__":
    main()
