"""An *inconclusive* verdict: the cloud's infrastructure failed, not a capability.

A run whose only non-passing required capabilities failed with infrastructure errors (5xx
after the retries, boots that never came up, waits that timed out) says nothing about the
cloud's capabilities: it is neither compliant nor not compliant, and ends with its own exit
status (:data:`EXIT_INCONCLUSIVE`) so that CI can retry it rather than file a bug. Any real
failure, error or gap among the required capabilities keeps the verdict *not compliant*.

Also a pytest plugin: a test that failed with an infrastructure error is counted by pytest
as an *error*, as the compliance summary counts it (not as a failure of the test).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from pytest_interop import compliance

EXIT_INCONCLUSIVE = 7  # pytest's own statuses end at 5 (NO_TESTS_COLLECTED)


def only_infrastructure(capabilities: Sequence[compliance.CapabilityResult]) -> bool:
    """True when some counted capability did not pass, and every counted test that did not
    pass in those failed with an infrastructure error."""
    failing = [c for c in capabilities if c.counted and c.result != compliance.PASSED]
    if not failing:
        return False
    return all(
        capability.result == compliance.ERROR
        and all(
            test.error_kind == compliance.INFRASTRUCTURE
            for test in capability.tests
            if test.counted and test.result != compliance.PASSED
        )
        for capability in failing
    )


def exit_status(verdicts: Sequence[compliance.CloudVerdict]) -> int:
    """0 when every cloud is compliant; 1 when one is not compliant; else 7 (inconclusive)."""
    found = {verdict.verdict for verdict in verdicts}
    if compliance.NOT_COMPLIANT in found:
        return int(pytest.ExitCode.TESTS_FAILED)
    if compliance.INCONCLUSIVE in found:
        return EXIT_INCONCLUSIVE
    if found - {compliance.COMPLIANT}:  # a verdict of another kind (a plugin's): not a pass
        return int(pytest.ExitCode.TESTS_FAILED)
    return int(pytest.ExitCode.OK)


def _infrastructure_failure(report: pytest.TestReport) -> bool:
    if report.when != "call" or not report.failed:
        return False
    for name, value in report.user_properties:
        if name == "interop" and value.get("error_kind") == compliance.INFRASTRUCTURE:
            return True
    return False


@pytest.hookimpl(tryfirst=True)
def pytest_report_teststatus(report: Any, config: pytest.Config) -> Any:
    """pytest's tallies ("2 errors") agree with the summary's (ERROR) for infrastructure."""
    if isinstance(report, pytest.TestReport) and _infrastructure_failure(report):
        return "error", "E", ("ERROR", {"red": True})
    return None
