"""The state of one guideline run, in the controller and in each xdist worker.

The controller loads guidelines and resolves clouds once (starting embedded clouds), then
hands the result to workers through ``workerinput``; workers only connect. Outcomes come
back to the controller in test reports, and what only workers know (selection gaps,
resource totals) in ``workeroutput``.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
import tempfile
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pytest_interop import compliance
from pytest_interop.clouds.registry import (
    REFERENCE,
    CloudSpec,
    make_cloud,
    resolve_cloud,
    secret_bearing_settings,
)
from pytest_interop.errors import CloudNotFound, ConfigurationError
from pytest_interop.guideline.model import Guideline
from pytest_interop.redaction import Redactor

RUN_KEY = pytest.StashKey["InteropRun"]()
WORKERINPUT_KEY = "interop_run"
# An embedded cloud serves one run: sized so that many xdist workers, each with its shared
# and its own servers, stay under quota (Nova's defaults would refuse the 11th server).
RUN_QUOTAS = {
    "instances": 200,
    "cores": 800,
    "ram": 1_638_400,
    **{"security_group": 200, "security_group_rule": 2000, "floatingip": 400, "router": 100},
}


def new_run_id(now: dt.datetime | None = None) -> str:
    now = now or dt.datetime.now(dt.UTC)
    return f"{now:%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"


@dataclass
class RunSettings:
    """Everything a worker needs to join the run; JSON-able (travels via execnet)."""

    run_id: str
    guideline_refs: list[str]
    guideline_dirs: list[str]
    target: str | None
    clouds: list[dict[str, Any]]
    journal_dir: str

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))


@dataclass(slots=True)
class ItemRecord:
    """The phases of one test item folded into one outcome."""

    nodeid: str
    cloud: str
    idempotent_id: str | None = None
    outcome: str | None = None
    duration: float = 0.0
    message: str = ""
    findings: dict[str, Any] = field(default_factory=dict)
    error_kind: str | None = None
    call: str | None = None

    def to_outcome(self) -> compliance.TestOutcome:
        return compliance.TestOutcome(
            nodeid=self.nodeid,
            cloud=self.cloud,
            outcome=self.outcome or compliance.ERROR,
            idempotent_id=self.idempotent_id,
            duration=self.duration,
            message=self.message,
            findings=self.findings,
            error_kind=self.error_kind,
            call=self.call,
        )


class InteropRun:
    def __init__(
        self,
        settings: RunSettings,
        guidelines: Sequence[Guideline],
        selections: Sequence[compliance.Selection],
        specs: Sequence[CloudSpec],
    ) -> None:
        self.settings = settings
        self.guidelines = list(guidelines)
        self.selections = list(selections)
        self.specs = {spec.name: spec for spec in specs}
        # Longest first: "reference-aws" must not be read as "reference".
        self._names_longest_first = sorted(self.specs, key=len, reverse=True)
        self.redactor = Redactor.from_settings(
            one for spec in specs for one in secret_bearing_settings(spec)
        )
        self.embedded: list[Any] = []  # reference clouds this controller started
        self.started = dt.datetime.now(dt.UTC)
        self.finished: dt.datetime | None = None
        # Filled during the run (controller):
        self.records: dict[str, ItemRecord] = {}
        self.missing: set[str] = set()
        self.renamed: dict[str, str] = {}
        # Guideline tests the user left out, per cloud (pytest_interop.partial), and how.
        self.deselected: dict[str, set[str]] = {}
        self.narrowed_by: list[str] = []
        self.resources: dict[str, dict[str, int]] = {}
        self.interrupted = False
        self.cleanup_interrupted = False  # a second interrupt stopped the clean-up
        self.interrupted_in_teardown = False  # a signal came while the last deletes ran
        self.verdicts: list[compliance.CloudVerdict] | None = None
        self.report: dict[str, Any] | None = None
        self.report_path: Path | None = None
        self.html_path: Path | None = None
        self.submission_path: Path | None = None
        # Per process: connected adapters and their ledgers.
        self._connected: dict[str, Any] = {}

    @property
    def has_guideline(self) -> bool:
        return bool(self.guidelines)

    @property
    def cloud_names(self) -> list[str]:
        return list(self.specs)

    # -- clouds ------------------------------------------------------------------------
    def connect(self, name: str, hook: Any) -> Any:
        """The adapter for a cloud in this process, connected on first use."""
        cloud = self._connected.get(name)
        if cloud is None:
            from pytest_interop.resources import ResourceLedger

            ledger = ResourceLedger(self.settings.run_id, name, self.journal_path(name))
            cloud = make_cloud(self.specs[name], ledger, hook=hook)
            self._connected[name] = cloud
        return cloud

    def journal_path(self, cloud: str, process: str | None = None) -> Path:
        """One journal per cloud and process, so workers never interleave records."""
        if process is None:
            process = os.environ.get("PYTEST_XDIST_WORKER", "main")
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", cloud)
        return Path(self.settings.journal_dir) / f"{safe}.{process}.jsonl"

    def sweep_leftovers(self) -> dict[str, Any]:
        """After every worker ended: remove what a crashed one left, found in its journal.

        The ledgers' leak counts are replaced by what the cloud says is still there
        (:mod:`pytest_interop.leaks`): leaked (confirmed) and unconfirmed apart."""
        from pytest_interop.leaks import sweep_run

        swept: dict[str, Any] = {}
        for name, spec in self.specs.items():
            pattern = self.journal_path(name, "*")
            journals = sorted(pattern.parent.glob(pattern.name))
            records = [r for journal in journals for r in _read_own_journal(journal)]
            if not records or spec.provider not in ("openstack", "aws"):
                continue
            cloud = make_cloud(spec, None)
            try:
                swept[name] = result = sweep_run(cloud, self.settings.run_id, records)
            finally:
                cloud.close()
            counts = self.resources.setdefault(name, {"created": 0, "deleted": 0, "leaked": 0})
            counts["swept"] = counts.get("swept", 0) + len(result.deleted)
            counts["leaked"] = len(result.leaked)  # what is there, not what failed once
            if result.unconfirmed:
                counts["unconfirmed"] = len(result.unconfirmed)
        return swept

    def finish_teardown_deletes(self) -> None:
        """Wait for the tear-down deletes left to the clouds' deleting threads.

        They belong to the tests' teardown, so a signal meanwhile interrupts the run as a
        signal in a teardown would (:attr:`interrupted_in_teardown`): the deletes already
        under way are waited for, and the clean-up after them still runs in full. A second
        signal stops the wait, and leaves the clean-up out (:attr:`cleanup_interrupted`).
        """
        for cloud in self._connected.values():
            while not self.cleanup_interrupted:
                try:
                    cloud.deferred.finish()
                    break
                except KeyboardInterrupt:
                    if self.interrupted_in_teardown:
                        self.cleanup_interrupted = True
                    self.interrupted_in_teardown = True

    def release_clouds(self) -> dict[str, dict[str, int]]:
        """Remove what this process created on each cloud; the ledgers' totals.

        A second Ctrl-C (or SIGTERM) during the clean-up stops it: what is left stays in
        the journal and carries the run id, for ``interop cleanup --run-id``
        (:attr:`cleanup_interrupted`; totals count it as ``left``).
        """
        totals: dict[str, dict[str, int]] = {}
        for name, cloud in self._connected.items():
            try:
                if not self.cleanup_interrupted:
                    cloud.cleanup_run()
            except KeyboardInterrupt:
                self.cleanup_interrupted = True
            finally:
                totals[name] = dict(cloud.ledger.totals())
                left = len(cloud.ledger.live())
                if left:
                    totals[name]["left"] = left
                cloud.close()
        self._connected.clear()
        return totals

    def add_resource_totals(self, totals: dict[str, dict[str, int]]) -> None:
        for name, counts in totals.items():
            mine = self.resources.setdefault(name, {"created": 0, "deleted": 0, "leaked": 0})
            for key, value in counts.items():
                mine[key] = mine.get(key, 0) + int(value)

    def stop_embedded(self) -> None:
        while self.embedded:
            self.embedded.pop().stop()

    # -- outcomes ----------------------------------------------------------------------
    def record(self, report: pytest.TestReport) -> None:
        """Fold one phase report into its item's outcome (controller side)."""
        data = None
        for name, value in report.user_properties:
            if name == "interop":
                data = value
        record = self.records.get(report.nodeid)
        if data is None:
            # A passing setup or teardown (the worker sends no data then), or the report
            # xdist writes for a crashed worker.
            cloud = record.cloud if record is not None else self.cloud_of_nodeid(report.nodeid)
            if cloud is None:
                return
            if report.passed and report.when != "call":  # two of every test's three reports
                if record is None:
                    record = self.records[report.nodeid] = ItemRecord(report.nodeid, cloud)
                record.duration += report.duration
                return
            data = {"cloud": cloud}
        if record is None:
            record = self.records[report.nodeid] = ItemRecord(
                report.nodeid, data["cloud"], data.get("idempotent_id")
            )
        record.cloud = data["cloud"]  # a report with interop data knows its cloud for sure
        record.idempotent_id = record.idempotent_id or data.get("idempotent_id")
        record.duration += report.duration
        findings = data.get("findings")
        if findings:
            record.findings.update(findings)
        if report.when == "teardown":
            if report.failed and record.outcome in (None, compliance.PASSED):
                record.outcome = compliance.ERROR
                record.message = self.redactor(data.get("message") or _message(report))
                record.error_kind = data.get("error_kind")  # a delete that kept failing
                record.call = data.get("call")
            return
        if report.when == "setup" and report.passed:
            return
        outcome = data.get("outcome") or _outcome_of(report)
        record.outcome = outcome
        record.error_kind = data.get("error_kind")
        record.call = data.get("call")
        if outcome != compliance.PASSED:
            record.message = self.redactor(data.get("message") or _message(report))

    def cloud_of_nodeid(self, nodeid: str) -> str | None:
        """The cloud an item ran on, from its parameter id (``[other-params-]cloud``)."""
        if not nodeid.endswith("]") or "[" not in nodeid:
            return None
        params = nodeid[nodeid.index("[") + 1 : -1]
        for name in self._names_longest_first:
            if params == name or params.endswith(f"-{name}") or params.startswith(f"{name}-"):
                return name
        return None

    def outcomes(self) -> list[compliance.TestOutcome]:
        return [record.to_outcome() for record in self.records.values()]

    def durations(self) -> dict[str, float]:
        """Each recorded test's time, setup to teardown."""
        return {nodeid: record.duration for nodeid, record in self.records.items()}

    def evaluate(
        self, outcomes: Sequence[compliance.TestOutcome] | None = None
    ) -> list[compliance.CloudVerdict]:
        """The verdicts, from ``outcomes`` when the caller already made them (else made here)."""
        if outcomes is None:
            outcomes = self.outcomes()
        from pytest_interop import partial

        self.verdicts = partial.evaluate(
            self.selections, self.cloud_names, outcomes, self.missing, self.deselected
        )
        return self.verdicts


def _read_own_journal(path: Path) -> list[Any]:
    """A journal of this run; one whose only line a kill tore holds nothing to sweep."""
    from pytest_interop.resources import JournalError, read_journal

    try:
        return list(read_journal(path))
    except JournalError:
        return []


def _outcome_of(report: pytest.TestReport) -> str:
    if report.passed:
        return compliance.PASSED
    if report.skipped:
        return compliance.SKIPPED
    return compliance.FAILED if report.when == "call" else compliance.ERROR


def _message(report: pytest.TestReport) -> str:
    if report.skipped and isinstance(report.longrepr, tuple):
        return str(report.longrepr[2])
    text = report.longreprtext or ""
    lines = [line for line in text.splitlines() if line.startswith("E ")]
    return "\n".join(lines[:5]) if lines else text[-500:]


# -- building a run --------------------------------------------------------------------


def run_journal_root() -> Path:
    """Where runs journal by default (one directory per run id)."""
    return Path(tempfile.gettempdir()) / "pytest-interop"


def build_controller_run(
    config: pytest.Config,
    guidelines: Sequence[Guideline],
    guideline_refs: Sequence[str],
    guideline_dirs: Sequence[str],
    target: str | None,
    cloud_names: Sequence[str],
    journal_dir: str | None,
    reference_faults: Mapping[str, Any] | None = None,
) -> InteropRun:
    """Select, resolve and start, or raise ConfigurationError with one clear line.

    ``reference_faults`` are fault knobs for the embedded reference clouds it starts."""
    try:
        selections = compliance.select(guidelines, target)
    except KeyError:
        available = sorted({t for g in guidelines for t in g.targets()})
        raise ConfigurationError(
            f"--target={target}: no such platform or component in "
            f"{', '.join(g.id for g in guidelines)}; choose one of: {', '.join(available)}"
        ) from None

    run_id = new_run_id()
    embedded: list[Any] = []
    embedded_names: set[str] = set()  # started here: nothing to check

    def start_reference(kind: str, profile: str, name: str) -> CloudSpec:
        embedded_names.add(name)
        if kind == REFERENCE:
            from pytest_interop.reference import ReferenceCloud
            from pytest_interop.reference.profiles import PROFILES
            from pytest_interop.reference.vm.backend import split_profile

            profile, machines = split_profile(profile)  # reference:PROFILE+vm: QEMU guests
            if profile not in PROFILES:
                raise CloudNotFound(
                    f"--cloud={name}: unknown reference profile {profile!r}; "
                    f"choose one of: {', '.join(sorted(PROFILES))}"
                )
            knobs: dict[str, Any] = dict(reference_faults or {})
            if machines:
                knobs["machines"] = machines
            reference = ReferenceCloud(profile=profile, quotas=RUN_QUOTAS, **knobs)
            reference.start()
            embedded.append(reference)
            return CloudSpec(name, "openstack", {"config": reference.cloud_config(name)})
        from pytest_interop.reference.aws import ReferenceAws

        if profile != "default":  # reference-aws:x would silently be reference-aws
            raise CloudNotFound(
                f"--cloud={name}: the embedded AWS endpoint has no variants; "
                "use --cloud=reference-aws"
            )
        endpoint = ReferenceAws()
        endpoint.start()
        embedded.append(endpoint)
        return CloudSpec(name, "aws", endpoint.settings())

    specs = []
    try:
        for name in dict.fromkeys(cloud_names):  # each cloud once, in order
            spec = config.hook.pytest_interop_resolve_cloud(config=config, name=name)
            if spec is None:
                spec = resolve_cloud(
                    name,
                    start_reference=lambda kind, profile, n=name: start_reference(kind, profile, n),
                )
            specs.append(spec)
        for spec in specs:
            if spec.name not in embedded_names:
                check_cloud(spec)
    except BaseException:
        for cloud in embedded:
            cloud.stop()
        raise

    if journal_dir is None:
        journal_dir = str(run_journal_root() / run_id)
    settings = RunSettings(
        run_id=run_id,
        guideline_refs=list(guideline_refs),
        guideline_dirs=list(guideline_dirs),
        target=target,
        clouds=[spec.to_dict() for spec in specs],
        journal_dir=journal_dir,
    )
    run = InteropRun(settings, guidelines, selections, specs)
    run.embedded = embedded
    return run


def check_cloud(spec: CloudSpec) -> None:
    """Authenticate to a configured cloud once, before collection (ConfigurationError if not).

    A wrong password or an unreachable endpoint then stops the run with one line instead of
    failing every test. The embedded clouds need no check; plugin providers are not checked.
    """
    if spec.provider not in ("openstack", "aws"):
        return
    with warnings.catch_warnings():  # the SDKs' own deprecations, not the user's concern
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        cloud = make_cloud(spec, None)
        try:
            check = getattr(cloud, "check", None)
            if check is not None:
                check()
        finally:
            cloud.close()


def build_worker_run(data: dict[str, Any], guidelines: Sequence[Guideline]) -> InteropRun:
    settings = RunSettings(**data)
    specs = [CloudSpec.from_dict(spec) for spec in settings.clouds]
    selections = compliance.select(guidelines, settings.target) if guidelines else []
    return InteropRun(settings, guidelines, selections, specs)
