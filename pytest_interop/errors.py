"""Exceptions that carry meaning for the report, shared by every part of the tool."""

from __future__ import annotations

import re


class InteropError(Exception):
    """Base class of the tool's own errors."""


class ConfigurationError(InteropError):
    """Bad input from the user: one line naming the file or option, and the fix.

    The plugin turns it into pytest's usage error (exit code 4); the CLI into exit code 2.
    """


class GuidelineError(ConfigurationError):
    """A guideline file that cannot be found, parsed or validated."""


class CloudNotFound(ConfigurationError):
    """A cloud name that no configuration source knows."""


class NotApplicable(InteropError):
    """The cloud lacks the facet a test needs (AWS has no Nova lock, say).

    Reported as *not applicable*, never as a pass or a failure.
    """


class InfrastructureError(InteropError):
    """The cloud's infrastructure failed (5xx after retries, a boot that never came up).

    Reported apart from a capability failure, naming the call that failed.
    """

    def __init__(self, message: str, *, call: str | None = None) -> None:
        super().__init__(message)
        self.call = call


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` with control characters escaped (``\\x1b``, ``\\n``): an option value echoed
    in an error must not move the cursor, recolour the terminal or split the one line."""
    return _CONTROL.sub(lambda match: repr(match.group())[1:-1], text)
