"""Keeping secrets out of everything a run writes.

A :class:`Redactor` knows the secret values of the run's cloud settings (passwords,
application credential secrets, AWS secret keys, tokens, private key material) and
replaces each occurrence with ``***`` in any text before it reaches a report or a log; it
also masks what only *looks* like a credential (:func:`mask_look_alikes`): the private key
in a Nova or EC2 key pair response, a password or secret field of a logged body, a token
header. Values it cannot know beforehand are caught that way.

:class:`Secrets` holds an adapter's secret values where a traceback may show them
(``--showlocals``): its repr and its items' reprs are masked.
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

# What a credential looks like where its value is not known beforehand: a PEM private key
# (whole, or cut short by a log's truncation: then up to the quote that ends the string), a
# token header, and a secret-named field of JSON, XML, a Python repr or a query string.
_PRIVATE_KEY_BLOCK = re.compile(
    r"(?P<begin>-----BEGIN (?P<kind>[A-Z0-9 ]*)PRIVATE KEY-----)(?!\*\*\*)"
    r"(?:.*?(?P<end>-----END (?P=kind)PRIVATE KEY-----)|[^\"'<]*)",
    re.DOTALL,
)
_SECRET_WORDS = (
    r"password|passwd|passphrase|secret|token|private_?key|credential|passcode|session_?key|"
    r"key_?material|adminpass"
)
_TRIGGER = re.compile(rf"PRIVATE KEY|{_SECRET_WORDS}", re.IGNORECASE)
_SECRET_HEADER = re.compile(
    r"(?P<name>X-Auth-Token|X-Subject-Token|X-Storage-Token|X-Service-Token|"
    r"X-Amz-Security-Token)(?P<sep>[\"']?\s*[:=]\s*[\"']?)(?P<value>[^\s\"',}]+)",
    re.IGNORECASE,
)
_SECRET_FIELD = re.compile(
    rf"(?P<name>[\w.-]*(?:{_SECRET_WORDS})[\w.-]*)"
    r"(?P<sep>[\"']?\s*[:=]\s*)(?P<quote>[\"'])(?P<value>(?:\\.|(?!(?P=quote)).)+)(?P=quote)",
    re.IGNORECASE,
)
_SECRET_BARE = re.compile(  # key=value in a query string or a command line
    rf"(?P<name>\b[\w.-]*(?:{_SECRET_WORDS})[\w.-]*)(?P<sep>=)(?P<value>[^\s&\"',;)}}]{{4,}})",
    re.IGNORECASE,
)
_SECRET_TAG = re.compile(
    rf"<(?P<tag>[\w:-]*(?:{_SECRET_WORDS})[\w:-]*)>(?P<value>[^<]+)</(?P=tag)>",
    re.IGNORECASE,
)


def mask_look_alikes(text: str) -> str:
    """Mask what looks like a credential whatever its value: private keys, token headers,
    secret-named fields (``"private_key": "..."``, ``password='...'``, ``<SecretAccessKey>``)."""
    if not text or not _TRIGGER.search(text):
        return text
    text = _PRIVATE_KEY_BLOCK.sub(lambda m: f"{m['begin']}{MASK}{m['end'] or ''}", text)
    text = _SECRET_HEADER.sub(lambda m: f"{m['name']}{m['sep']}{MASK}", text)
    text = _SECRET_FIELD.sub(
        lambda m: (
            m[0] if m["value"] == MASK else f"{m['name']}{m['sep']}{m['quote']}{MASK}{m['quote']}"
        ),
        text,
    )
    text = _SECRET_BARE.sub(lambda m: f"{m['name']}{m['sep']}{MASK}", text)
    return _SECRET_TAG.sub(lambda m: f"<{m['tag']}>{MASK}</{m['tag']}>", text)


class Secret(str):
    """A secret value: a ``str`` everywhere but in its repr, which tracebacks show."""

    __slots__ = ()

    def __repr__(self) -> str:
        return repr(MASK)


class Secrets(list[Secret]):
    """An adapter's secret values (to mask them in messages), safe in a traceback's locals:
    ``--showlocals`` prints ``<3 secrets, masked>``, never the values."""

    def __init__(self, values: Iterable[str | None] = ()) -> None:
        super().__init__(Secret(v) for v in values if v)

    def append(self, value: str | None) -> None:  # type: ignore[override]
        if value:
            super().append(Secret(value))

    def extend(self, values: Iterable[str | None]) -> None:  # type: ignore[override]
        super().extend(Secret(v) for v in values if v)

    def __repr__(self) -> str:
        return f"<{len(self)} secrets, masked>"


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
        """``text`` with the known secrets and anything that looks like one masked."""
        if not text:
            return text
        if self._pattern is not None:
            text = self._pattern.sub(MASK, text)
        return mask_look_alikes(text)

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


def redact_test_report(report: Any, redactor: Redactor) -> None:
    """Mask secrets in what pytest prints and writes of a test report (the traceback with
    its ``--showlocals`` locals, the crash line, captured output and logs): the terminal,
    ``-rA`` and JUnit XML all render these. Redacted in place, keeping pytest's own
    representation (and its colours); a last guard behind :class:`Secrets` and the log
    record factory, for a secret in a frame that is not ours."""
    if report.longrepr is not None:
        report.longrepr = _redacted(report.longrepr, redactor, set())
    if report.sections:
        report.sections = [(title, redactor(text)) for title, text in report.sections]


def _redacted(value: Any, redactor: Redactor, seen: set[int]) -> Any:
    if isinstance(value, str):
        return redactor(value)
    if isinstance(value, tuple):
        return tuple(_redacted(one, redactor, seen) for one in value)
    if isinstance(value, list):
        value[:] = [_redacted(one, redactor, seen) for one in value]
        return value
    # pytest's representations of a failure (ExceptionChainRepr, ReprEntry, ReprLocals, ...)
    if type(value).__module__.startswith("_pytest") and hasattr(value, "__dict__"):
        if id(value) in seen:
            return value
        seen.add(id(value))
        for name, attribute in list(vars(value).items()):
            object.__setattr__(value, name, _redacted(attribute, redactor, seen))
    return value
