"""The reference cloud's own API overhead: server list latency and sustained concurrency.

Boots 100 servers (API-only, zero configured latency), then prints p50/p99 of
``GET /servers/detail`` from one client and from 50 concurrent clients. Figures only.

    .venv/bin/python benchmarks/reference_api.py [--servers 100] [--threads 50]
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from pytest_interop.reference import ReferenceCloud


def _token(cloud: ReferenceCloud, config: dict) -> str:
    auth = config["auth"]
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {
                        "name": auth["username"],
                        "domain": {"name": "Default"},
                        "password": auth["password"],
                    }
                },
            },
            "scope": {"project": {"name": auth["project_name"], "domain": {"name": "Default"}}},
        }
    }
    response = requests.post(f"{cloud.auth_url}/auth/tokens", json=body, timeout=10)
    response.raise_for_status()
    return response.headers["X-Subject-Token"]


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--servers", type=int, default=100)
    parser.add_argument("--threads", type=int, default=50)
    parser.add_argument("--requests", type=int, default=300, help="sequential list calls")
    parser.add_argument("--per-thread", type=int, default=20, help="list calls per thread")
    args = parser.parse_args()

    with ReferenceCloud("default", boot_delay=0.0, machines=False) as cloud:
        session = requests.Session()
        session.headers["X-Auth-Token"] = _token(cloud, cloud.cloud_config())
        admin_token = _token(cloud, cloud.admin_cloud_config())
        project_id = cloud.state.identity.find_project("demo").id
        compute = f"{cloud.base_url}/compute/v2.1"
        requests.put(
            f"{compute}/os-quota-sets/{project_id}",
            timeout=10,
            headers={"X-Auth-Token": admin_token},
            json={
                "quota_set": {
                    "instances": args.servers,
                    "cores": args.servers * 4,
                    "ram": args.servers * 4096,
                }
            },
        ).raise_for_status()
        image = session.get(
            f"{cloud.base_url}/image/v2/images?name=Ubuntu-22.04", timeout=10
        ).json()["images"][0]["id"]
        for index in range(args.servers):
            session.post(
                f"{compute}/servers",
                timeout=10,
                json={
                    "server": {
                        "name": f"bench-{index}",
                        "imageRef": image,
                        "flavorRef": "100",
                        "networks": "auto",
                    }
                },
            ).raise_for_status()
        url = f"{compute}/servers/detail"
        headers = {"OpenStack-API-Version": "compute 2.79"}
        listed = len(session.get(url, headers=headers, timeout=10).json()["servers"])

        samples = []
        for _ in range(args.requests):
            start = time.perf_counter()
            session.get(url, headers=headers, timeout=10).raise_for_status()
            samples.append(time.perf_counter() - start)
        print(f"servers listed per call: {listed}")
        print(
            f"single client, {args.requests} calls: p50 {_percentile(samples, 0.5) * 1000:.1f} ms"
            f"  p99 {_percentile(samples, 0.99) * 1000:.1f} ms"
            f"  mean {statistics.mean(samples) * 1000:.1f} ms"
        )

        token = session.headers["X-Auth-Token"]
        lock = threading.Lock()
        concurrent: list[float] = []
        failures = 0

        def client(_: int) -> None:
            nonlocal failures
            local = requests.Session()
            local.headers["X-Auth-Token"] = token
            for _ in range(args.per_thread):
                start = time.perf_counter()
                response = local.get(url, headers=headers, timeout=30)
                elapsed = time.perf_counter() - start
                with lock:
                    concurrent.append(elapsed)
                    failures += response.status_code != 200

        wall = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.threads) as pool:
            list(pool.map(client, range(args.threads)))
        wall = time.perf_counter() - wall
        total = len(concurrent)
        print(
            f"{args.threads} concurrent clients, {total} calls in {wall:.2f} s: "
            f"{total / wall:.0f} calls/s, p50 {_percentile(concurrent, 0.5) * 1000:.1f} ms"
            f"  p99 {_percentile(concurrent, 0.99) * 1000:.1f} ms, failures {failures}"
        )


if __name__ == "__main__":
    main()
