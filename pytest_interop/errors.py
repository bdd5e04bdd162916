"""Exceptions that carry meaning for the report, shared by every part of the tool."""

from __future__ import annotations


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
