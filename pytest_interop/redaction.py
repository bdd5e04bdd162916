"""Keeping secrets out of everything a run writes.

A :class:`Redactor` knows the secret values of the run's cloud settings (passwords,
application credential secrets, AWS secret keys, tokens, private key material) and
replaces each occurrence with ``***`` in any text before it reaches a report or a log.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

MASK = "***"
SECRET_KEY_PATTERN = re.compile(
    r"(password|secret|token|private_key|credential|passcode|session_key)", re.IGNORECASE
)
# Too short a value would mask ordinary words; real secrets are longer.
MIN_SECRET_LENGTH = 4


def secret_values(settings: Any) -> set[str]:
    """Every string stored under a secret-looking key, at any depth."""
    found: set[str] = set()

    def walk(value: Any, secret: bool) -> None:
        if isinstance(value, Mapping):
            for key, sub in value.items():
                walk(sub, secret or bool(SECRET_KEY_PATTERN.search(str(key))))
        elif isinstance(value, list | tuple):
            for sub in value:
                walk(sub, secret)
        elif secret and isinstance(value, str) and len(value) >= MIN_SECRET_LENGTH:
            found.add(value)

    walk(settings, False)
    return found


class Redactor:
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self.add(secrets)

    @classmethod
    def from_settings(cls, settings: Iterable[Any]) -> Redactor:
        values: set[str] = set()
        for one in settings:
            values |= secret_values(one)
        return cls(values)

    def add(self, secrets: Iterable[str]) -> None:
        self._secrets.update(s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH)
        if self._secrets:
            # Longest first, so a secret that contains another is masked whole.
            ordered = sorted(self._secrets, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(s) for s in ordered))

    def __call__(self, text: str) -> str:
        if not text or self._pattern is None:
            return text
        return self._pattern.sub(MASK, text)

    def __repr__(self) -> str:
        return f"Redactor({len(self._secrets)} secrets)"


def install_log_redaction(redactor: Redactor) -> Callable[[], None]:
    """Mask the run's secrets in every log record made from now on (the SDKs' DEBUG logs
    of request bodies included), whatever handler writes it; returns the undo function.

    A record factory rather than a handler filter: pytest, xdist and the user add handlers
    of their own (``--log-file``, live logs, caplog) that a filter would have to chase.
    """
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: leave it to logging's own error path
            return record
        masked = redactor(message)
        if masked != message:
            record.msg, record.args = masked, ()
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = redactor(logging.Formatter().formatException(record.exc_info))
        return record

    logging.setLogRecordFactory(factory)

    def undo() -> None:
        if logging.getLogRecordFactory() is factory:
            logging.setLogRecordFactory(previous)

    return undo
