"""pytest hooks of pytest-interop: the table of contents of a guideline run.

1. options; 2. configure: load guidelines and resolve clouds once, in the controller;
3. collection: keep the target's tests, run each once per cloud; 4. fixtures (module
``fixtures``); 5. outcomes travel with capability data in ``user_properties``;
6. the controller computes verdicts, prints the summary, writes reports, sets the exit status.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_interop import compliance, partial, scheduling, sharding, sharing, shipped
from pytest_interop.errors import (
    ConfigurationError,
    InfrastructureError,
    NotApplicable,
    printable,
)
from pytest_interop.findings import FINDINGS_KEY
from pytest_interop.run import (
    RUN_KEY,
    WORKERINPUT_KEY,
    InteropRun,
    build_controller_run,
    build_worker_run,
    run_journal_root,
)
from pytest_interop.selection import ID_MARKER, item_idempotent_id, select_items

DEFAULT_REPORT = "interop-report.json"
MESSAGE_LIMIT = 2000
OPENSTACK_PROVIDER = "openstack"  # the clouds whose adapter uses openstacksdk
SDK_INTERNAL_WARNINGS = (
    "openstack.warnings.OpenStackDeprecationWarning",
    "openstack.warnings.RemovedInSDK50Warning",
    "openstack.warnings.RemovedInSDK60Warning",
)
# Exit statuses a verdict replaces; usage errors, interrupts and crashes keep pytest's.
EXIT_BY_VERDICT = (
    pytest.ExitCode.OK,
    pytest.ExitCode.TESTS_FAILED,
    pytest.ExitCode.NO_TESTS_COLLECTED,
)


# -- 1. options -----------------------------------------------------------------------


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from pytest_interop import newhooks

    pluginmanager.add_hookspecs(newhooks)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("interop", "interoperability guidelines (pytest-interop)")
    group.addoption(
        "--guideline",
        action="append",
        default=[],
        metavar="ID|PATH",
        help="run this guideline's must-pass tests; repeat for add-ons (e.g. hybrid.2017.01)",
    )
    group.addoption(
        "--guideline-dir",
        action="append",
        default=[],
        metavar="DIR",
        help="look guideline ids up here first, then in the guidelines the package ships "
        "(ini interop_guideline_dir)",
    )
    group.addoption(
        "--cloud",
        action="append",
        default=[],
        metavar="NAME",
        help="a clouds.yaml cloud, aws:PROFILE@REGION, reference[:PROFILE] or reference-aws; "
        "repeat for several clouds (default: ini interop_clouds, else reference)",
    )
    group.addoption(
        "--target",
        default=None,
        metavar="PLATFORM|COMPONENT",
        help="the part of the guideline to judge against (default: its broadest platform)",
    )
    group.addoption(
        "--interop-report",
        default=None,
        metavar="PATH",
        help=f"where the JSON compliance report goes (default: {DEFAULT_REPORT})",
    )
    group.addoption(
        "--interop-html",
        default=None,
        metavar="PATH",
        help="also write the report as one self-contained HTML page",
    )
    group.addoption(
        "--submission",
        default=None,
        metavar="DIR",
        help="write a signed certification bundle to DIR (needs --submission-key and "
        "--submission-product)",
    )
    group.addoption(
        "--submission-key",
        default=None,
        metavar="KEY",
        help="the vendor's SSH private key (Ed25519, ECDSA or RSA) that signs the bundle",
    )
    group.addoption(
        "--submission-product",
        default=None,
        metavar="PRODUCT.yaml",
        help="the product declaration (`interop submission product-template` prints one)",
    )
    group.addoption(
        "--interop-suite",
        action="append",
        default=[],
        metavar="DIR",
        help="a local directory of must-pass tests, collected beside the shipped suite "
        "(repeatable; ini interop_suite)",
    )
    group.addoption(
        "--interop-shard",
        default=None,
        metavar="I/N",
        help="run only the I-th of N deterministic parts of the run (1/4 .. 4/4; ini "
        "interop_shard); `interop report merge` joins the parts' reports",
    )
    group.addoption(
        "--interop-shard-durations",
        default=None,
        metavar="REPORT.json",
        help="balance the shards by the test durations of an earlier run's report (the same "
        "file for every shard; default: estimates)",
    )
    group.addoption(
        "--interop-journal-dir",
        default=None,
        metavar="DIR",
        help="where the resource ledger journals what the run creates (default: a temp dir)",
    )
    group.addoption(
        "--interop-reference-fault",
        action="append",
        default=[],
        metavar="KNOB=VALUE",
        help="inject faults into the embedded reference clouds of the run, repeatable "
        "(5xx=0.2, 429=0.1, boot-failure=0.5, seed=7, ...; ini interop_reference_faults)",
    )
    parser.addini(
        "interop_reference_faults",
        "default --interop-reference-fault values (KNOB=VALUE ...)",
        type="args",
        default=[],
    )
    parser.addini("interop_guideline", "default --guideline values", type="args", default=[])
    parser.addini(
        "interop_guideline_dir",
        "directories where guideline ids are looked up",
        type="paths",
        default=[],
    )
    parser.addini("interop_clouds", "default --cloud values", type="args", default=[])
    parser.addini("interop_target", "default --target", default="")
    parser.addini("interop_report", "default --interop-report path", default="")
    parser.addini("interop_shard", "default --interop-shard (I/N)", default="")
    parser.addini(
        "interop_suite",
        "local directories of must-pass tests a guideline run collects beside the shipped "
        "suite when no paths are given",
        type="paths",
        default=[],
    )


# -- 2. configure ---------------------------------------------------------------------


LOCAL_GUIDELINE_DIR = "guidelines"  # a project's own guideline folder, beside its ini file


def _guideline_dirs(config: pytest.Config) -> list[str]:
    """Local directories first (a local ``next.json`` shadows the shipped one), then the
    guidelines the package ships."""
    dirs = [str(Path(d).resolve()) for d in config.option.guideline_dir]
    dirs += [str(p) for p in config.getini("interop_guideline_dir")]
    local = config.rootpath / LOCAL_GUIDELINE_DIR
    if not dirs and local.is_dir():
        dirs.append(str(local))
    dirs.append(str(shipped.GUIDELINES_DIR))
    return list(dict.fromkeys(dirs))


def _load_guidelines(refs: list[str], dirs: list[str]) -> list[Any]:
    from pytest_interop.guideline.loading import load_guideline

    guidelines = [load_guideline(ref, dirs) for ref in refs]
    ids = [g.id for g in guidelines]
    if len(set(ids)) != len(ids):
        raise ConfigurationError(f"--guideline: a guideline is named twice ({', '.join(ids)})")
    from pytest_interop.run_checks import check_unique_ids

    check_unique_ids(guidelines)
    return guidelines


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{ID_MARKER}(uuid): the stable id a guideline refers to this test by"
    )
    config.pluginmanager.import_plugin("pytest_interop.inconclusive")

    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        data = workerinput.get(WORKERINPUT_KEY)
        if data is not None:
            from pytest_interop.guideline.loading import load_guideline

            config.pluginmanager.import_plugin("pytest_interop.fixtures")

            guidelines = [load_guideline(r, data["guideline_dirs"]) for r in data["guideline_refs"]]
            sharding.configure(config)
            _start(config, build_worker_run(data, guidelines))
        return

    _check_submission_options(config)
    refs = list(config.option.guideline) or list(config.getini("interop_guideline"))
    clouds = list(config.option.cloud) or list(config.getini("interop_clouds"))
    if not refs and not clouds:
        return  # dormant: not a guideline run (a foreign `server` fixture stays pytest's own)
    # The fixtures (server, node, keypair, ...) exist only in a run: outside one, a test
    # asking for `server` gets pytest's "fixture not found", not "this test needs a cloud".
    config.pluginmanager.import_plugin("pytest_interop.fixtures")
    from pytest_interop.stale_dirs import remove_stale_key_dirs

    remove_stale_key_dirs()  # what runs killed before this one left
    if not clouds:
        clouds = ["reference"]
    target = config.option.target or config.getini("interop_target") or None
    if config.option.collectonly and not refs:
        return
    try:
        _check_outputs(config)
        sharding.configure(config)
        dirs = _guideline_dirs(config)
        guidelines = _load_guidelines(refs, dirs)
        run = build_controller_run(
            config,
            guidelines,
            [str(g.path) for g in guidelines],
            dirs,
            target,
            clouds,
            config.option.interop_journal_dir,
            reference_faults=_reference_faults(config),
        )
    except ConfigurationError as exc:
        raise pytest.UsageError(printable(str(exc))) from None
    _start(config, run)
    config.add_cleanup(run.stop_embedded)
    config.pluginmanager.register(OutcomeRecorder(run), f"interop-outcomes-{id(run)}")


def _reference_faults(config: pytest.Config) -> dict[str, Any]:
    """The fault knobs for the embedded reference clouds (option, else ini)."""
    items = list(config.option.interop_reference_fault)
    option = "--interop-reference-fault"
    if not items:
        items, option = list(config.getini("interop_reference_faults")), "interop_reference_faults"
    if not items:
        return {}
    from pytest_interop.reference.fault_options import parse_faults

    return parse_faults(items, option)


def _check_outputs(config: pytest.Config) -> None:
    """Every file and directory the run writes, tried before any test runs (exit 4)."""
    from pytest_interop.outputs import check_run_outputs

    option = config.option
    report = option.interop_report or config.getini("interop_report") or DEFAULT_REPORT
    journal = option.interop_journal_dir
    check_run_outputs(
        config.invocation_params.dir,
        files=[
            ("--interop-report", report),
            ("--interop-html", option.interop_html),
            ("--junitxml", getattr(option, "xmlpath", None)),
        ],
        directories=[
            ("--interop-journal-dir", journal),
            ("journal directory (TMPDIR)", None if journal else run_journal_root()),
        ],
        bundles=[("--submission", option.submission)],
    )


def _start(config: pytest.Config, run: InteropRun) -> None:
    """What the controller and every worker do with their run once it is built."""
    config.stash[RUN_KEY] = run
    _quiet_sdk_warnings(config, run)
    _guard_run(config, run)
    if run.has_guideline:
        _collect_suite_only(config, run)
        config.pluginmanager.register(partial.SelectionWatcher(run), f"interop-partial-{id(run)}")
        scheduling.enable(config, run.durations)


def _collect_suite_only(config: pytest.Config, run: InteropRun) -> None:
    """A guideline run without paths collects the must-pass suites, not every test of the
    project (each xdist worker collects, and the project's own tests would only be
    deselected): the shipped suite when a guideline names a test in it, and every local suite
    (``--interop-suite``, ini ``interop_suite``). With neither, pytest's own default stays."""
    implicit = (pytest.Config.ArgsSource.TESTPATHS, pytest.Config.ArgsSource.INVOCATION_DIR)
    if config.args_source not in implicit:
        return
    suites = [str(Path(p).resolve()) for p in config.option.interop_suite]
    suites += [str(p) for p in config.getini("interop_suite")]
    prefix = shipped.SUITE_NODE_PREFIX + "/"
    if any(
        test.name.startswith(prefix)
        for selection in run.selections
        for test in selection.tests_to_run()
    ):
        suites.insert(0, str(shipped.SUITE_DIR))
    if suites:
        config.args = list(dict.fromkeys(suites))


def _check_submission_options(config: pytest.Config) -> None:
    """A bad key or product file stops the run before any test, not after all of them."""
    option = config.option
    if option.submission is None:
        return
    if not option.guideline and not config.getini("interop_guideline"):
        raise pytest.UsageError("--submission: a submission needs a guideline run (--guideline)")
    if not option.submission_key or not option.submission_product:
        raise pytest.UsageError(
            "--submission needs --submission-key KEY and --submission-product PRODUCT.yaml "
            "(`interop submission product-template` prints a product declaration to fill in)"
        )
    from pytest_interop.submission.product import load_product
    from pytest_interop.submission.signing import load_private_key

    try:
        load_private_key(option.submission_key)
        load_product(option.submission_product)
    except ConfigurationError as exc:
        raise pytest.UsageError(printable(str(exc))) from None


def _quiet_sdk_warnings(config: pytest.Config, run: InteropRun) -> None:
    """The SDKs' deprecation warnings are raised inside the SDKs, not by the tests.

    Only when a cloud of the run talks through openstacksdk: pytest imports a filter's
    category to resolve it and re-applies the filters on every test phase, and importing
    ``openstack`` loads the whole SDK (and its 30 loggers, which pytest's log capture then
    visits on every phase) into runs that never use it.
    """
    if not any(spec.provider == OPENSTACK_PROVIDER for spec in run.specs.values()):
        return
    for warning in SDK_INTERNAL_WARNINGS:
        config.addinivalue_line("filterwarnings", f"ignore::{warning}")


def _guard_run(config: pytest.Config, run: InteropRun) -> None:
    """Secrets masked in every log record; SIGTERM ends the run as Ctrl-C does."""
    from pytest_interop.redaction import install_log_redaction

    config.add_cleanup(install_log_redaction(run.redactor))
    config.add_cleanup(install_sigterm_as_interrupt())


def _sigterm(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum} (SIGTERM)")


def install_sigterm_as_interrupt() -> Any:
    """pytest handles only SIGINT; turn SIGTERM into KeyboardInterrupt as well, so that
    teardown, clean-up and the (partial, interrupted) report still run. Returns the undo."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = signal.signal(signal.SIGTERM, _sigterm)
    if previous is None:  # set outside Python: restore the default
        previous = signal.SIG_DFL

    def undo() -> None:
        if signal.getsignal(signal.SIGTERM) is _sigterm:
            signal.signal(signal.SIGTERM, previous)

    return undo


@pytest.hookimpl(tryfirst=True)
def pytest_keyboard_interrupt(excinfo: pytest.ExceptionInfo[BaseException]) -> None:
    """CPython 3.11 may record no line number (None) for the frame a signal interrupted, and
    pytest's report of the interrupt then fails with a TypeError and a traceback instead of
    exiting 2. Cut the traceback before such a frame (``tb_next`` is writable)."""
    tb = excinfo.tb
    while tb is not None and tb.tb_next is not None:
        if tb.tb_next.tb_lineno is None:
            tb.tb_next = None
            return
        tb = tb.tb_next


def _run(config: pytest.Config) -> InteropRun | None:
    return config.stash.get(RUN_KEY, None)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist: every worker joins the same run and talks to the same clouds."""
    run = _run(node.config)
    if run is not None:
        node.workerinput[WORKERINPUT_KEY] = run.settings.to_dict()


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    run = _run(config)
    if run is None or hasattr(config, "workerinput"):
        return None
    lines = [f"interop run {run.settings.run_id}: clouds {', '.join(run.cloud_names)}"]
    for guideline in run.guidelines:
        lines.append(f"interop guideline {guideline.id} ({guideline.path})")
    return lines


# -- 3. collection --------------------------------------------------------------------


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test that uses a cloud runs once per cloud; ids end in [cloud]."""
    if "cloud" not in metafunc.fixturenames or not _uses_plugin_cloud(metafunc):
        return
    run = _run(metafunc.config)
    if run is None:
        return
    names = run.cloud_names
    metafunc.parametrize("cloud", names, ids=names, indirect=True, scope="session")


def _uses_plugin_cloud(metafunc: pytest.Metafunc) -> bool:
    """True unless a test module or conftest defines a ``cloud`` fixture of its own."""
    definitions = metafunc._arg2fixturedefs.get("cloud") or ()
    return bool(definitions) and definitions[-1].func.__module__ == __name__


def pytest_pycollect_makemodule(module_path: Path, parent: Any) -> pytest.Module | None:
    """Shipped test modules keep one node id wherever the package is installed, the one a
    guideline names (``pytest_interop/suite/...``), so reports, ``--lf`` and ``--deselect``
    agree between a checkout and an installed package."""
    nodeid = shipped.suite_module_nodeid(module_path)
    if nodeid is None:
        return None
    return pytest.Module.from_parent(parent, path=module_path, nodeid=nodeid)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    run = _run(config)
    if run is None or not run.has_guideline:
        return
    result = select_items(items, run.selections)
    if result.deselected:
        config.hook.pytest_deselected(items=result.deselected)
        items[:] = result.kept
    other_shards = sharding.apply(config, items)
    if other_shards:
        config.hook.pytest_deselected(items=other_shards)
    run.missing.update(result.missing)
    run.renamed.update(result.renamed)


# -- 4. the cloud fixture (the rest live in pytest_interop.fixtures) -------------------


@pytest.fixture(scope="session")
def cloud(request: pytest.FixtureRequest) -> Any:
    """The adapter of the cloud this test item runs on."""
    run = _run(request.config)
    name = getattr(request, "param", None)
    if run is None or name is None:
        raise pytest.UsageError(
            "this test needs a cloud: run it with --cloud=NAME (e.g. --cloud=reference) "
            "or --guideline=ID"
        )
    return run.connect(name, request.config.hook)


# -- 5. outcomes ----------------------------------------------------------------------


def _cloud_param(item: pytest.Item) -> str | None:
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return None
    return callspec.params.get("cloud")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    report: pytest.TestReport = yield
    run = _run(item.config)
    if run is not None and (report.longrepr is not None or report.sections):
        from pytest_interop.redaction import redact_test_report

        redact_test_report(report, run.redactor)
    if report.when != "call" and report.passed:
        return report  # a passing setup or teardown adds nothing; reports stay small
    cloud = _cloud_param(item)
    if run is None or cloud is None:
        return report
    data: dict[str, Any] = {"cloud": cloud, "idempotent_id": item_idempotent_id(item)}
    excinfo = call.excinfo
    if excinfo is not None and excinfo.errisinstance(NotApplicable):
        reason = str(excinfo.value)
        report.outcome = "skipped"
        report.longrepr = (str(item.path), item.location[1] or 0, f"not applicable: {reason}")
        data["outcome"] = compliance.NOT_APPLICABLE
        data["message"] = run.redactor(reason)
    elif excinfo is not None and excinfo.errisinstance(InfrastructureError):
        data["outcome"] = compliance.ERROR
        data["error_kind"] = compliance.INFRASTRUCTURE
        data["call"] = excinfo.value.call
        data["message"] = run.redactor(excinfo.exconly())[:MESSAGE_LIMIT]
    elif excinfo is not None and not report.skipped:
        data["message"] = run.redactor(excinfo.exconly())[:MESSAGE_LIMIT]
    findings = item.stash.get(FINDINGS_KEY, None)
    if findings:
        data["findings"] = _jsonable(findings)
    report.user_properties = [*report.user_properties, ("interop", data)]
    return report


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


class OutcomeRecorder:
    """Controller side (also of a serial run): folds each phase report into its outcome.

    A plugin object per run rather than a module-level hook, so nested runs (pytester)
    never see each other's reports.
    """

    def __init__(self, run: InteropRun) -> None:
        self.run = run

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.run.record(report)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """xdist: what a worker alone knew — selection gaps, what it created and removed."""
    run = _run(node.config)
    output = getattr(node, "workeroutput", None) or {}
    data = output.get(WORKERINPUT_KEY)
    if run is None or data is None:
        return
    run.missing.update(data.get("missing", []))
    run.renamed.update(data.get("renamed", {}))
    for cloud, ids in data.get("deselected", {}).items():
        run.deselected.setdefault(cloud, set()).update(ids)
    run.narrowed_by = run.narrowed_by or list(data.get("narrowed_by", []))
    run.add_resource_totals(data.get("resources", {}))
    sharding.adopt(node.config, data.get("shard"))


# -- 6. the end -----------------------------------------------------------------------


@pytest.hookimpl(trylast=True)  # after junitxml wrote its file, so bundles can carry it
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    run = _run(config)
    if run is None:
        return
    sharing.finish_deferred(config)  # shared servers this process made, once others are done
    run.finish_teardown_deletes()
    totals = run.release_clouds()
    workeroutput = getattr(config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput[WORKERINPUT_KEY] = {
            "missing": sorted(run.missing),
            "renamed": run.renamed,
            "resources": totals,
            "shard": sharding.record(config),
            "deselected": {cloud: sorted(ids) for cloud, ids in run.deselected.items()},
            "narrowed_by": run.narrowed_by,
        }
        return
    run.add_resource_totals(totals)
    try:
        if not run.cleanup_interrupted:
            run.sweep_leftovers()
    except KeyboardInterrupt:
        run.cleanup_interrupted = True
    if run.cleanup_interrupted:
        _tell_how_to_clean_up(config, run)
    if not run.has_guideline or config.option.collectonly:
        return  # --collect-only shows what would run; it judges nothing and writes no report
    run.finished = dt.datetime.now(dt.UTC)
    run.interrupted = (
        exitstatus == pytest.ExitCode.INTERRUPTED
        or bool(session.shouldstop)
        or run.cleanup_interrupted
        or run.interrupted_in_teardown
    )
    path = config.option.interop_report or config.getini("interop_report") or DEFAULT_REPORT
    from pytest_interop.report.json_report import write_report

    with _cyclic_gc_paused():
        outcomes = run.outcomes()  # made once: the verdicts and the report both need them
        run.evaluate(outcomes)
        run.report = _build_report(run, outcomes)
        shard = sharding.record(config)
        if shard is not None:
            run.report["selection"]["shard"] = shard
    run.report_path = write_report(Path(config.invocation_params.dir, path), run.report)
    _write_renderings(config, run)
    if run.cleanup_interrupted or run.interrupted_in_teardown:
        session.exitstatus = pytest.ExitCode.INTERRUPTED  # even if the tests had all ended
    elif exitstatus in EXIT_BY_VERDICT:
        from pytest_interop.inconclusive import exit_status

        session.exitstatus = exit_status(run.verdicts or [])  # 0, 1, or 7: inconclusive
        # 6 for a partial run, whatever it saw: it judges nothing
        session.exitstatus = partial.exit_status(run.verdicts or []) or session.exitstatus


@contextlib.contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Verdicts and report are some 10 new objects per test, none in a cycle. Allocating them
    with the cyclic collector on sets off a full collection that walks the whole session heap
    (every item and every test report: 0.5 s at 20,000 tests) and frees nothing."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _write_renderings(config: pytest.Config, run: InteropRun) -> None:
    """The HTML page and the submission bundle, both made from the written JSON report."""
    base = config.invocation_params.dir
    if config.option.interop_html:
        from pytest_interop.report.html import write_html

        run.html_path = write_html(Path(base, config.option.interop_html), run.report)
    if config.option.submission and not run.interrupted and not run.report.get("partial"):
        from pytest_interop.submission import create_submission

        junit = getattr(config.option, "xmlpath", None)
        log = config.getoption("log_file", None)
        run.submission_path = create_submission(
            run.report_path,
            Path(base, config.option.submission),
            config.option.submission_key,
            config.option.submission_product,
            # Without --junitxml the bundle makes its JUnit XML from the report.
            junit_path=junit if junit and Path(junit).is_file() else None,
            log_path=log if log and Path(log).is_file() else None,
            guideline_dirs=run.settings.guideline_dirs,
            redactor=run.redactor,
        )


def _tell_how_to_clean_up(config: pytest.Config, run: InteropRun) -> None:
    """After a second interrupt stopped the clean-up: the one command that finishes it."""
    writer = config.pluginmanager.get_plugin("terminalreporter")
    for name in run.cloud_names:
        line = (
            f"interop: clean-up interrupted; remove what run {run.settings.run_id} left on "
            f"{name} with: interop cleanup --cloud {name} --run-id {run.settings.run_id}"
        )
        if writer is not None:
            writer.write_line(line, yellow=True, bold=True)
        else:
            import sys

            print(line, file=sys.stderr)


def _build_report(run: InteropRun, outcomes: list[compliance.TestOutcome]) -> dict[str, Any]:
    from pytest_interop.clouds.registry import public_identity
    from pytest_interop.report.json_report import build_report

    finished = run.finished or dt.datetime.now(dt.UTC)
    main = next((g for g in run.guidelines if not g.is_add_on), None)
    target = run.settings.target or (main.broadest_platform if main else None)
    return build_report(
        run_id=run.settings.run_id,
        guidelines=run.guidelines,
        target=target,
        started=run.started.isoformat(),
        finished=finished.isoformat(),
        duration_seconds=(finished - run.started).total_seconds(),
        interrupted=run.interrupted,
        verdicts=run.verdicts or [],
        identities={name: public_identity(spec) for name, spec in run.specs.items()},
        resources_used=run.resources,
        outcomes=outcomes,
        missing=sorted(run.missing),
        renamed=run.renamed,
        deselected=partial.still_left_out(run.deselected, outcomes),
        narrowed_by=run.narrowed_by,
    )


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    run = _run(config)
    report = getattr(run, "report", None) if run is not None else None
    if report is None:
        if run is not None and run.has_guideline and config.option.collectonly:
            terminalreporter.write_line(
                f"interop: collected only, no report written; {len(run.missing)} guideline "
                "tests are missing from this suite"
            )
        return
    from pytest_interop.report.terminal import summary_lines
    from pytest_interop.report.variance import variance_lines

    terminalreporter.section("interop compliance")
    variance = variance_lines(report)
    for line in [*summary_lines(report), *([""] if variance else []), *variance]:
        terminalreporter.write_line(line)
    for label, path in (
        ("report", run.report_path),
        ("html", run.html_path),
        ("submission", run.submission_path),
    ):
        if path is not None:
            terminalreporter.write_line(f"{label}: {os.path.relpath(path)}")
    if run.interrupted and config.option.submission:
        terminalreporter.write_line("submission: not written, the run was interrupted")
    elif report.get("partial") and config.option.submission:
        terminalreporter.write_line("submission: not written, the run was partial")
