"""Private-key directories that a killed run left in the temporary directory.

Key directories are removed when their run ends, but not when a SIGKILL ends it. Each is
named ``interop-<kind>keys-<pid>-<random>`` after the process that made it; the next run (in
its controller) and ``interop cleanup`` remove those of processes that no longer exist,
owned by this user. Others' directories, and those of live processes, are left alone.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

_KEY_DIR = re.compile(r"^interop-(?:run-|shared-)?keys-(?P<pid>\d+)-[A-Za-z0-9_]+$")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def remove_stale_key_dirs(directory: str | os.PathLike[str] | None = None) -> list[Path]:
    """Remove the key directories of dead processes; returns what was removed."""
    root = Path(directory or tempfile.gettempdir())
    removed = []
    try:
        entries = list(root.iterdir())
    except OSError:
        return removed
    for entry in entries:
        match = _KEY_DIR.match(entry.name)
        if match is None or _alive(int(match["pid"])):
            continue
        try:
            info = entry.lstat()
        except OSError:
            continue
        if not entry.is_dir() or entry.is_symlink() or info.st_uid != os.getuid():
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry)
    return removed
