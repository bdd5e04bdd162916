"""Where a run writes: every output and journal path checked before any test runs.

A report path in ``/proc``, an existing directory given as a report file, or a device node
would otherwise be found out after every test ran (a traceback at the end), or turn every
test into a setup error. :func:`check_run_outputs` tries each place the way the writer will
use it (create the parent directories, create a file there) and raises one
:class:`~pytest_interop.errors.ConfigurationError` naming the option, the path and the fix.

The writers replace files atomically (a temporary file renamed over the target), which is
right for regular files only: :func:`refuse_non_regular` keeps them off a device node, a
FIFO, a socket or a directory, which are refused rather than written into (renaming over
``/dev/null`` would replace the device node itself for everyone).
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path

from pytest_interop.errors import ConfigurationError

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
)


def file_kind(mode: int) -> str:
    """What a ``st_mode`` is, in words (``a FIFO``, ``a regular file``)."""
    for test, kind in _KINDS:
        if test(mode):
            return kind
    return "a regular file" if stat.S_ISREG(mode) else "not a regular file"


def refuse_non_regular(path: str | os.PathLike[str], option: str | None = None) -> None:
    """ConfigurationError if ``path`` exists and is not a regular file (links followed)."""
    where = f"{option} {path}" if option else str(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise ConfigurationError(f"{where}: cannot be written ({exc.strerror})") from None
    if not stat.S_ISREG(mode):
        raise ConfigurationError(
            f"{where}: is {file_kind(mode)}, not a regular file; give the path of a file "
            "to create or replace"
        )


def _probe_directory(directory: Path, where: str) -> None:
    """Create ``directory`` (and its parents) and a file in it, as the writer will."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".interop-probe-", dir=directory)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigurationError(
            f"{where}: cannot write in {directory} ({reason}); choose a writable place"
        ) from None
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(probe)


def check_output_file(path: str | os.PathLike[str], option: str) -> None:
    """A file the run will write (replace) at its end: a regular file or nothing yet, in
    a directory that exists or can be made, and can be written."""
    target = Path(path)
    refuse_non_regular(target, option)
    _probe_directory(target.parent, f"{option} {path}")


def check_output_dir(path: str | os.PathLike[str], option: str) -> None:
    """A directory the run will create or write files in."""
    target = Path(path)
    if target.exists() and not target.is_dir():
        mode = os.stat(target).st_mode
        raise ConfigurationError(
            f"{option} {path}: is {file_kind(mode)}, not a directory; give a directory path"
        )
    _probe_directory(target, f"{option} {path}")


def check_run_outputs(
    base: str | os.PathLike[str],
    files: Iterable[tuple[str, str | None]],
    directories: Iterable[tuple[str, str | None]] = (),
    bundles: Iterable[tuple[str, str | None]] = (),
) -> None:
    """Check every ``(option, path)`` (relative to ``base``; None: not given).

    ``bundles`` are directories that the run puts in place whole at its end: their parent
    must be writable, and they must be a directory or nothing yet.
    """
    root = Path(base)
    for option, path in files:
        if path:
            check_output_file(root / path, option)
    for option, path in directories:
        if path:
            check_output_dir(root / path, option)
    for option, path in bundles:
        if not path:
            continue
        target = root / path
        if target.exists() and not target.is_dir():
            raise ConfigurationError(
                f"{option} {path}: is {file_kind(os.stat(target).st_mode)}, not a directory; "
                "give a new or empty directory"
            )
        _probe_directory(target.parent, f"{option} {path}")
