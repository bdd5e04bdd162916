"""``interop fleet plan``: a sharded guideline run, written for an engine people already run.

The shards themselves are cut by ``pytest --interop-shard I/N`` (pytest_interop.sharding), the
same way on every machine, so what an engine needs is only N jobs that each run one shard, and
one job after them that merges the shards' reports. This module fills that in for the clouds
and guidelines named: a GitHub Actions workflow (a plan job, a matrix of shard jobs, a merge
job), a Kubernetes Indexed Job (``JOB_COMPLETION_INDEX`` picks the shard; reports go to a shared
volume) with its merge Job, or the bare matrix as JSON. No scheduler of our own.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from dataclasses import dataclass
from typing import Any

import yaml

from pytest_interop import shipped
from pytest_interop.errors import ConfigurationError
from pytest_interop.guideline.loading import load_guideline

# A shard whose tests ran ends 0 (compliant), 1 (not compliant), 6 (incomplete: what one shard
# of several is) or 7 (inconclusive); its report is then worth merging. Other codes (2-5: bad
# input, internal error, usage error, no tests) fail the job.
RESULT_CODES = (0, 1, 6, 7)
FORMATS = ("github", "kubernetes", "matrix")


@dataclass(frozen=True)
class FleetRun:
    """What every shard runs: the same guidelines and clouds, one shard each."""

    guidelines: tuple[str, ...]
    clouds: tuple[str, ...]
    shards: int
    workers: str = "auto"
    package: str = "pytest-interop"
    image: str = "python:3.11-slim"
    target: str | None = None

    def pytest_argv(self, shard: str, report: str) -> list[str]:
        argv = ["pytest", *(f"--guideline={g}" for g in self.guidelines)]
        argv += [f"--cloud={c}" for c in self.clouds]
        if self.target:
            argv.append(f"--target={self.target}")
        argv += ["-n", self.workers, "-p", "no:cacheprovider"]
        return [*argv, f"--interop-shard={shard}", f"--interop-report={report}"]

    def shard_script(self, shard: str, report: str) -> str:
        """Run one shard; succeed when its tests ran, whatever their verdict."""
        # Our own templates ($((JOB_COMPLETION_INDEX + 1)), ${{ matrix.shard }}) must expand:
        # double quotes for those, shell quoting for the user's values.
        command = " ".join(
            f'"{a}"' if "$" in a else shlex.quote(a) for a in self.pytest_argv(shard, report)
        )
        codes = "|".join(str(c) for c in RESULT_CODES)
        return (
            f"set +e\n{command}\ncode=$?\n"
            f'case "$code" in {codes}) exit 0 ;; *) exit "$code" ;; esac\n'
        )

    @property
    def shard_names(self) -> list[str]:
        return [f"{i}/{self.shards}" for i in range(1, self.shards + 1)]


def plan_command(run: FleetRun, fmt: str) -> list[str]:
    """The `interop fleet plan` command line that writes this output again."""
    argv = ["interop", "fleet", "plan", "--format", fmt, "--shards", str(run.shards)]
    argv += [f"--guideline={g}" for g in run.guidelines]
    argv += [f"--cloud={c}" for c in run.clouds]
    if run.target:
        argv.append(f"--target={run.target}")
    defaults = FleetRun(run.guidelines, run.clouds, run.shards)
    for name in ("workers", "package", "image"):
        if getattr(run, name) != getattr(defaults, name):
            argv.append(f"--{name}={getattr(run, name)}")
    return argv


def matrix(run: FleetRun) -> dict[str, Any]:
    return {"shard": run.shard_names}


def github_workflow(run: FleetRun) -> dict[str, Any]:
    setup = [
        {"uses": "actions/setup-python@v6", "with": {"python-version": "3.11"}},
        {"run": f"pip install {shlex.quote(run.package)}"},
    ]
    plan_argv = plan_command(run, "matrix")
    clouds_yaml = {
        "name": "clouds.yaml and AWS credentials from the repository's secrets",
        "env": {
            "CLOUDS_YAML": "${{ secrets.CLOUDS_YAML }}",
            "AWS_ACCESS_KEY_ID": "${{ secrets.AWS_ACCESS_KEY_ID }}",
            "AWS_SECRET_ACCESS_KEY": "${{ secrets.AWS_SECRET_ACCESS_KEY }}",
        },
        "run": (
            'mkdir -p ~/.config/openstack\nif [ -n "$CLOUDS_YAML" ]; then\n'
            "  printf '%s\\n' \"$CLOUDS_YAML\" > ~/.config/openstack/clouds.yaml\nfi\n"
        ),
    }
    merge_script = (
        "interop report merge reports/*/interop-report.json -o interop-report.json\n"
        "interop report html interop-report.json -o interop-report.html\n"
    )
    submission = {
        "name": "Signed submission (when the SUBMISSION_KEY secret is set)",
        "env": {"SUBMISSION_KEY": "${{ secrets.SUBMISSION_KEY }}"},
        "run": (
            'if [ -z "$SUBMISSION_KEY" ]; then echo "no SUBMISSION_KEY: no bundle"; exit 0; fi\n'
            'umask 077 && printf \'%s\\n\' "$SUBMISSION_KEY" > "$RUNNER_TEMP/key"\n'
            'interop submission create interop-report.json --key "$RUNNER_TEMP/key" '
            "--product product.yaml --out submission\n"
        ),
    }
    return {
        "name": "interop fleet",
        "on": {"workflow_dispatch": None, "schedule": [{"cron": "0 3 * * *"}]},
        "permissions": {"contents": "read"},
        "jobs": {
            "plan": {
                "runs-on": "ubuntu-latest",
                "outputs": {"shards": "${{ steps.plan.outputs.shards }}"},
                "steps": [
                    *setup,
                    {
                        "id": "plan",
                        "name": "Check the guidelines and clouds; the shard matrix",
                        "run": f'echo "shards=$({shlex.join(plan_argv)})" >> "$GITHUB_OUTPUT"',
                    },
                ],
            },
            "shard": {
                "needs": "plan",
                "runs-on": "ubuntu-latest",
                "strategy": {
                    "fail-fast": False,
                    "matrix": {"shard": "${{ fromJSON(needs.plan.outputs.shards).shard }}"},
                },
                "steps": [
                    *setup,
                    clouds_yaml,
                    {
                        "name": "Run shard ${{ matrix.shard }}",
                        "run": run.shard_script("${{ matrix.shard }}", "interop-report.json"),
                    },
                    {
                        "if": "always()",
                        "uses": "actions/upload-artifact@v6",
                        "with": {
                            "name": "interop-shard-${{ strategy.job-index }}",
                            "path": "interop-report.json",
                            "if-no-files-found": "ignore",
                        },
                    },
                ],
            },
            "merge": {
                "needs": "shard",
                "if": "always()",
                "runs-on": "ubuntu-latest",
                "steps": [
                    {"uses": "actions/checkout@v5"},
                    *setup,
                    {
                        "uses": "actions/download-artifact@v7",
                        "with": {"pattern": "interop-shard-*", "path": "reports"},
                    },
                    {"name": "Merge the shards' reports into one verdict", "run": merge_script},
                    submission,
                    {
                        "if": "always()",
                        "uses": "actions/upload-artifact@v6",
                        "with": {
                            "name": "interop-report",
                            "path": "interop-report.*\nsubmission/\n",
                            "if-no-files-found": "ignore",
                        },
                    },
                ],
            },
        },
    }


def kubernetes_manifests(run: FleetRun) -> list[dict[str, Any]]:
    labels = {"app.kubernetes.io/name": "pytest-interop"}
    volumes = [
        {"name": "reports", "persistentVolumeClaim": {"claimName": "interop-reports"}},
        {"name": "clouds", "secret": {"secretName": "interop-clouds", "optional": True}},
    ]
    mounts = [
        {"name": "reports", "mountPath": "/reports"},
        {"name": "clouds", "mountPath": "/etc/openstack", "readOnly": True},
    ]
    install = f"pip install --quiet {shlex.quote(run.package)}\n"
    shard = "$((JOB_COMPLETION_INDEX + 1))/" + str(run.shards)
    report = "/reports/shard-$((JOB_COMPLETION_INDEX + 1)).json"
    # The merge waits for every shard's report, up to its deadline; then merges what there is,
    # so a shard that never reported leaves an incomplete verdict naming it.
    merge = (
        f"{install}for _ in $(seq 360); do\n"
        f'  [ "$(ls /reports/shard-*.json 2>/dev/null | wc -l)" -ge {run.shards} ] && break\n'
        "  sleep 10\ndone\n"
        "interop report merge /reports/shard-*.json -o /reports/interop-report.json\n"
        "interop report html /reports/interop-report.json -o /reports/interop-report.html\n"
    )

    def pod(name: str, script: str) -> dict[str, Any]:
        return {
            "metadata": {"labels": labels},
            "spec": {
                "restartPolicy": "Never",
                "containers": [
                    {
                        "name": name,
                        "image": run.image,
                        "command": ["/bin/sh", "-c", script],
                        "workingDir": "/tmp",
                        "resources": {
                            "requests": {"cpu": "2", "memory": "2Gi"},
                            "limits": {"memory": "4Gi"},
                        },
                        "volumeMounts": mounts,
                    }
                ],
                "volumes": volumes,
            },
        }

    return [
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": "interop-reports", "labels": labels},
            "spec": {
                "accessModes": ["ReadWriteMany"],
                "resources": {"requests": {"storage": "1Gi"}},
            },
        },
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": "interop-shards", "labels": labels},
            "spec": {
                "completionMode": "Indexed",
                "completions": run.shards,
                "parallelism": run.shards,
                "backoffLimitPerIndex": 1,
                "template": pod("shard", install + run.shard_script(shard, report)),
            },
        },
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": "interop-merge", "labels": labels},
            "spec": {
                "backoffLimit": 1,
                "activeDeadlineSeconds": 4200,
                "template": pod("merge", merge),
            },
        },
    ]


class _Dumper(yaml.SafeDumper):
    """Block style for multi-line scripts and no anchors, so the files read as people write
    them."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def render(run: FleetRun, fmt: str) -> str:
    if fmt == "matrix":
        return json.dumps(matrix(run))
    header = f"# {run.shards} shards of {' + '.join(run.guidelines)} on {', '.join(run.clouds)},\n"
    header += f"# written by: {shlex.join(plan_command(run, fmt))}\n"
    if fmt == "github":
        return header + yaml.dump(github_workflow(run), Dumper=_Dumper, sort_keys=False, width=1000)
    documents = kubernetes_manifests(run)
    return header + yaml.dump_all(documents, Dumper=_Dumper, sort_keys=False, width=1000)


def fleet_run(args: argparse.Namespace) -> FleetRun:
    if args.shards < 1:
        raise ConfigurationError(f"--shards {args.shards}: give 1 or more shards")
    guidelines = tuple(args.guideline or ())
    if not guidelines:
        raise ConfigurationError("--guideline: name at least one guideline (e.g. 2017.01)")
    for ref in guidelines:
        load_guideline(ref, [*(args.guideline_dir or ()), shipped.GUIDELINES_DIR])
    clouds = tuple(args.cloud or ("reference",))
    for cloud in clouds:
        if not cloud.strip():
            raise ConfigurationError("--cloud: an empty cloud name; name a clouds.yaml cloud")
    return FleetRun(
        guidelines=guidelines,
        clouds=clouds,
        shards=args.shards,
        workers=args.workers,
        package=args.package,
        image=args.image,
        target=args.target,
    )


def cmd_plan(args: argparse.Namespace) -> int:
    sys.stdout.write(render(fleet_run(args), args.format).rstrip("\n") + "\n")
    return 0


def register(subparsers: Any) -> None:
    group = subparsers.add_parser(
        "fleet", help="a sharded run for an engine you already run", description=__doc__
    )
    commands = group.add_subparsers(dest="fleet_command", metavar="SUBCOMMAND", required=True)
    plan = commands.add_parser(
        "plan",
        help="print a CI matrix workflow, a Kubernetes Indexed Job, or the shard matrix",
    )
    plan.add_argument("--shards", type=int, required=True, metavar="N")
    plan.add_argument("--guideline", action="append", metavar="ID", help="repeatable")
    plan.add_argument(
        "--cloud", action="append", metavar="NAME", help="repeatable (default: reference)"
    )
    plan.add_argument("--target", default=None, help="platform, add-on or component")
    plan.add_argument("--format", choices=FORMATS, default="github")
    plan.add_argument("--workers", default="auto", help="pytest-xdist's -n in each shard")
    plan.add_argument(
        "--package",
        default="pytest-interop",
        help="what each job pip-installs (a version pin, a wheel URL or a git URL)",
    )
    plan.add_argument("--image", default="python:3.11-slim", help="the Kubernetes jobs' image")
    plan.add_argument(
        "--guideline-dir",
        action="append",
        metavar="DIR",
        help="look guideline ids up here before the shipped ones",
    )
    plan.set_defaults(func=cmd_plan)
