"""An in-memory POSIX-like filesystem with owners, modes and permission checks.

Just enough of Linux's rules for what the must-pass tests do over SSH: a normal user cannot
write /etc or read /root, root can do anything except write the kernel's read-only files.
"""

from __future__ import annotations

import posixpath
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace

FILE, DIR, DEVICE, NULL = "file", "dir", "device", "null"


@dataclass(frozen=True)
class Cred:
    """Who is acting: the uid, primary gid and supplementary groups of a process."""

    uid: int
    gid: int
    groups: frozenset[int] = frozenset()

    @property
    def is_root(self) -> bool:
        return self.uid == 0


ROOT = Cred(0, 0, frozenset({0}))


@dataclass
class Inode:
    kind: str
    uid: int
    gid: int
    mode: int
    data: str = ""
    size: int = 0  # block devices: size in bytes
    read_only: bool = False  # block devices: a disk attached read-only (lsblk RO=1)
    provider: Callable[[], str] | None = field(default=None, repr=False)  # /proc files

    def content(self) -> str:
        return self.provider() if self.provider is not None else self.data

    @property
    def byte_size(self) -> int:
        if self.kind == DEVICE:
            return self.size
        return len(self.content().encode())


class FsError(Exception):
    """A failed filesystem call, worded as coreutils would: '<path>: <reason>'."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


DENIED = "Permission denied"
NOT_FOUND = "No such file or directory"
NOT_DIR = "Not a directory"
IS_DIR = "Is a directory"
EXISTS = "File exists"
NOT_PERMITTED = "Operation not permitted"
NOT_EMPTY = "Directory not empty"
READ_ONLY = "Read-only file system"  # EROFS: opening a read-only disk for writing


def _may(inode: Inode, cred: Cred, want: int) -> bool:
    """want is a mask of 4 (read), 2 (write), 1 (execute/search)."""
    if cred.is_root:
        if want & 1 and inode.kind == FILE:
            return bool(inode.mode & 0o111)
        return True
    if cred.uid == inode.uid:
        bits = (inode.mode >> 6) & 7
    elif inode.gid == cred.gid or inode.gid in cred.groups:
        bits = (inode.mode >> 3) & 7
    else:
        bits = inode.mode & 7
    return bits & want == want


class Filesystem:
    """Paths are absolute and normalised; callers resolve relative paths against their cwd."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._nodes: dict[str, Inode] = {"/": Inode(DIR, 0, 0, 0o755)}

    # --- setup, without permission checks (used when building an image) ---
    def put_dir(self, path: str, *, uid: int = 0, gid: int = 0, mode: int = 0o755) -> None:
        with self.lock:
            path = normalize(path)
            parent = posixpath.dirname(path)
            if parent not in self._nodes:
                self.put_dir(parent)
            self._nodes[path] = Inode(DIR, uid, gid, mode)

    def put_file(
        self,
        path: str,
        data: str = "",
        *,
        uid: int = 0,
        gid: int = 0,
        mode: int = 0o644,
        provider: Callable[[], str] | None = None,
    ) -> None:
        with self.lock:
            path = normalize(path)
            parent = posixpath.dirname(path)
            if parent not in self._nodes:
                self.put_dir(parent)
            self._nodes[path] = Inode(FILE, uid, gid, mode, data, provider=provider)

    def put_node(self, path: str, inode: Inode) -> None:
        with self.lock:
            self._nodes[normalize(path)] = inode

    def drop(self, path: str) -> None:
        with self.lock:
            self._nodes.pop(normalize(path), None)

    def raw(self, path: str) -> Inode | None:
        """The inode at path, ignoring permissions (the SSH server's own reads)."""
        with self.lock:
            return self._nodes.get(normalize(path))

    def raw_read(self, path: str) -> str | None:
        inode = self.raw(path)
        return inode.content() if inode is not None and inode.kind == FILE else None

    def remove_tree(self, path: str) -> None:
        with self.lock:
            prefix = normalize(path).rstrip("/") + "/"
            for name in [p for p in self._nodes if p.startswith(prefix)]:
                del self._nodes[name]

    # --- lookups with permission checks ---
    def lookup(self, path: str, cred: Cred) -> Inode:
        """The inode at path, checking search permission on every ancestor."""
        with self.lock:
            path = normalize(path)
            self._check_search(path, cred)
            inode = self._nodes.get(path)
            if inode is None:
                raise FsError(path, NOT_FOUND)
            return inode

    def exists(self, path: str, cred: Cred) -> bool:
        try:
            self.lookup(path, cred)
        except FsError:
            return False
        return True

    def _check_search(self, path: str, cred: Cred) -> None:
        parts = [p for p in path.split("/") if p][:-1]
        current = "/"
        for part in parts:
            current = posixpath.join(current, part)
            inode = self._nodes.get(current)
            if inode is None:
                raise FsError(path, NOT_FOUND)
            if inode.kind != DIR:
                raise FsError(path, NOT_DIR)
            if not _may(inode, cred, 1):
                raise FsError(path, DENIED)

    def _parent_for_change(self, path: str, cred: Cred) -> Inode:
        parent_path = posixpath.dirname(path)
        parent = self.lookup(parent_path, cred)
        if parent.kind != DIR:
            raise FsError(path, NOT_DIR)
        if not _may(parent, cred, 3):
            raise FsError(path, DENIED)
        return parent

    def read(self, path: str, cred: Cred) -> str:
        with self.lock:
            inode = self.lookup(path, cred)
            if inode.kind == DIR:
                raise FsError(normalize(path), IS_DIR)
            if not _may(inode, cred, 4):
                raise FsError(normalize(path), DENIED)
            if inode.kind in (NULL, DEVICE):
                return ""
            return inode.content()

    def write(
        self, path: str, data: str, cred: Cred, *, append: bool = False, create_mode: int = 0o644
    ) -> None:
        with self.lock:
            path = normalize(path)
            try:
                inode = self.lookup(path, cred)
            except FsError as error:
                if error.reason != NOT_FOUND or posixpath.dirname(path) not in self._nodes:
                    raise
                self._parent_for_change(path, cred)
                self._nodes[path] = Inode(FILE, cred.uid, cred.gid, create_mode, data)
                return
            if inode.kind == DIR:
                raise FsError(path, IS_DIR)
            if not _may(inode, cred, 2):
                raise FsError(path, DENIED)
            if inode.read_only:  # even root cannot open it for writing
                raise FsError(path, READ_ONLY)
            if inode.kind in (NULL, DEVICE):
                return
            if inode.provider is not None:
                raise FsError(path, NOT_PERMITTED)
            inode.data = inode.data + data if append else data

    def mkdir(self, path: str, cred: Cred, *, parents: bool = False, mode: int = 0o755) -> None:
        with self.lock:
            path = normalize(path)
            existing = self._nodes.get(path)
            if existing is not None:
                if parents and existing.kind == DIR:
                    return
                raise FsError(path, EXISTS)
            parent_path = posixpath.dirname(path)
            if parents and parent_path not in self._nodes:
                self.mkdir(parent_path, cred, parents=True, mode=0o755)
            self._parent_for_change(path, cred)
            self._nodes[path] = Inode(DIR, cred.uid, cred.gid, mode)

    def listdir(self, path: str, cred: Cred) -> list[str]:
        with self.lock:
            path = normalize(path)
            inode = self.lookup(path, cred)
            if inode.kind != DIR:
                raise FsError(path, NOT_DIR)
            if not _may(inode, cred, 4):
                raise FsError(path, DENIED)
            return sorted(
                posixpath.basename(p)
                for p in self._nodes
                if p != "/" and posixpath.dirname(p) == path
            )

    def remove(self, path: str, cred: Cred, *, recursive: bool = False) -> None:
        with self.lock:
            path = normalize(path)
            inode = self.lookup(path, cred)
            self._parent_for_change(path, cred)
            if inode.kind == DIR:
                children = [p for p in self._nodes if p.startswith(path.rstrip("/") + "/")]
                if not recursive:
                    raise FsError(path, IS_DIR)
                for child in children:
                    del self._nodes[child]
            if inode.provider is not None or inode.kind in (NULL, DEVICE):
                raise FsError(path, NOT_PERMITTED)
            del self._nodes[path]

    def chmod(self, path: str, mode: int, cred: Cred) -> None:
        with self.lock:
            inode = self.lookup(path, cred)
            if not cred.is_root and cred.uid != inode.uid:
                raise FsError(normalize(path), NOT_PERMITTED)
            inode.mode = mode & 0o7777

    def chown(self, path: str, uid: int | None, gid: int | None, cred: Cred) -> None:
        with self.lock:
            inode = self.lookup(path, cred)
            if not cred.is_root:
                raise FsError(normalize(path), NOT_PERMITTED)
            if uid is not None:
                inode.uid = uid
            if gid is not None:
                inode.gid = gid

    def rename(self, source: str, target: str, cred: Cred) -> None:
        with self.lock:
            source, target = normalize(source), normalize(target)
            inode = self.lookup(source, cred)
            self._parent_for_change(source, cred)
            existing = self._nodes.get(target)
            if existing is not None and existing.kind == DIR:
                target = posixpath.join(target, posixpath.basename(source))
            self._parent_for_change(target, cred)
            moved = {source: inode}
            if inode.kind == DIR:
                prefix = source.rstrip("/") + "/"
                moved.update({p: n for p, n in self._nodes.items() if p.startswith(prefix)})
            for old, node in moved.items():
                del self._nodes[old]
                self._nodes[target + old[len(source) :]] = node

    def all_paths(self) -> list[str]:
        with self.lock:
            return sorted(self._nodes)

    def disk_contents(self) -> dict[str, Inode]:
        """What a disk image of this filesystem holds: copies of every stored file and
        directory, without the kernel's and the run-time trees (/proc, /sys, /dev, /run, /tmp)."""
        with self.lock:
            return {
                path: replace(inode)
                for path, inode in self._nodes.items()
                if inode.provider is None and not _volatile(path)
            }


VOLATILE_ROOTS = ("/proc", "/sys", "/dev", "/run", "/tmp")


def _volatile(path: str) -> bool:
    return any(path == root or path.startswith(root + "/") for root in VOLATILE_ROOTS)


def normalize(path: str) -> str:
    normal = posixpath.normpath(path)
    if normal.startswith("//"):
        normal = "/" + normal.lstrip("/")
    return normal
