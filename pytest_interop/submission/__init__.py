"""Certification submissions: bundle, sign and verify (``interop submission ...``).

The plugin calls :func:`create_submission` for ``pytest --submission=DIR``; reviewers run
:func:`verify_submission` through ``interop submission verify``.
"""

from pytest_interop.submission.bundle import create_submission, redact_log
from pytest_interop.submission.verify import VerifyResult, compare_verdicts, verify_submission

__all__ = [
    "VerifyResult",
    "compare_verdicts",
    "create_submission",
    "redact_log",
    "verify_submission",
]
