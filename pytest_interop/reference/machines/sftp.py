"""The SFTP subsystem of an emulated machine (what `scp`-less tools, Ansible, Libcloud use),
serving the machine's filesystem with the logged-in user's permissions."""

from __future__ import annotations

import os
import stat
import time
from typing import Any

import paramiko

from pytest_interop.reference.machines.filesystem import (
    DENIED,
    DEVICE,
    DIR,
    NOT_FOUND,
    FsError,
    Inode,
    normalize,
)
from pytest_interop.reference.machines.image import cred_for, find_account

_KIND_BITS = {DIR: stat.S_IFDIR, DEVICE: stat.S_IFBLK}


def _attributes(name: str, inode: Inode) -> paramiko.SFTPAttributes:
    attributes = paramiko.SFTPAttributes()
    attributes.filename = name
    attributes.st_mode = _KIND_BITS.get(inode.kind, stat.S_IFREG) | inode.mode
    attributes.st_uid, attributes.st_gid = inode.uid, inode.gid
    attributes.st_size = inode.byte_size
    attributes.st_atime = attributes.st_mtime = int(time.time())
    return attributes


def _code(error: FsError) -> int:
    if error.reason == NOT_FOUND:
        return paramiko.SFTP_NO_SUCH_FILE
    if error.reason == DENIED:
        return paramiko.SFTP_PERMISSION_DENIED
    return paramiko.SFTP_FAILURE


class _Handle(paramiko.SFTPHandle):
    def __init__(self, interface: MachineSFTP, path: str, flags: int) -> None:
        super().__init__(flags)
        self._interface = interface
        self._path = path

    def _bytes(self) -> bytes:
        text = self._interface.fs.read(self._path, self._interface.cred)
        return text.encode("utf-8", "surrogateescape")

    def read(self, offset: int, length: int) -> bytes | int:
        try:
            return self._bytes()[offset : offset + length]
        except FsError as error:
            return _code(error)

    def write(self, offset: int, data: bytes) -> int:
        try:
            current = self._bytes()
            if self._interface.fs.raw(self._path) is None:
                current = b""
            merged = current[:offset].ljust(offset, b"\0") + data + current[offset + len(data) :]
            self._interface.fs.write(
                self._path, merged.decode("utf-8", "surrogateescape"), self._interface.cred
            )
        except FsError as error:
            return _code(error)
        return paramiko.SFTP_OK

    def stat(self) -> paramiko.SFTPAttributes | int:
        return self._interface.stat(self._path)

    def chattr(self, attr: paramiko.SFTPAttributes) -> int:
        return self._interface.chattr(self._path, attr)


class MachineSFTP(paramiko.SFTPServerInterface):
    def __init__(self, server: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(server, *args, **kwargs)
        machine = server.machine
        account = find_account(machine.fs, server.username or "")
        if account is None:
            raise PermissionError("no logged-in account")
        self.fs = machine.fs
        self.home = account.home
        self.cred = cred_for(machine.fs, account)

    def _path(self, path: str) -> str:
        return normalize(path if path.startswith("/") else f"{self.home}/{path}")

    def canonicalize(self, path: str) -> str:
        return self._path(path or ".")

    def list_folder(self, path: str) -> list[paramiko.SFTPAttributes] | int:
        full = self._path(path)
        try:
            names = self.fs.listdir(full, self.cred)
            return [
                _attributes(name, self.fs.lookup(f"{full}/{name}", self.cred)) for name in names
            ]
        except FsError as error:
            return _code(error)

    def stat(self, path: str) -> paramiko.SFTPAttributes | int:
        full = self._path(path)
        try:
            return _attributes(full.rsplit("/", 1)[-1], self.fs.lookup(full, self.cred))
        except FsError as error:
            return _code(error)

    lstat = stat

    def open(self, path: str, flags: int, attr: paramiko.SFTPAttributes) -> _Handle | int:
        full = self._path(path)
        try:
            exists = self.fs.exists(full, self.cred)
            if not exists and not flags & os.O_CREAT:
                return paramiko.SFTP_NO_SUCH_FILE
            if exists and flags & os.O_CREAT and flags & os.O_EXCL:
                return paramiko.SFTP_FAILURE
            writing = flags & (os.O_WRONLY | os.O_RDWR)
            if not exists or (writing and flags & os.O_TRUNC):
                mode = attr.st_mode & 0o7777 if attr and attr.st_mode is not None else 0o644
                self.fs.write(full, "", self.cred, create_mode=mode)
            elif writing:
                self.fs.write(full, "", self.cred, append=True)  # checks write permission
            else:
                self.fs.read(full, self.cred)  # checks read permission
        except FsError as error:
            return _code(error)
        handle = _Handle(self, full, flags)
        handle.filename = full
        return handle

    def remove(self, path: str) -> int:
        try:
            self.fs.remove(self._path(path), self.cred)
        except FsError as error:
            return _code(error)
        return paramiko.SFTP_OK

    def rename(self, oldpath: str, newpath: str) -> int:
        try:
            self.fs.rename(self._path(oldpath), self._path(newpath), self.cred)
        except FsError as error:
            return _code(error)
        return paramiko.SFTP_OK

    posix_rename = rename

    def mkdir(self, path: str, attr: paramiko.SFTPAttributes) -> int:
        mode = attr.st_mode & 0o7777 if attr and attr.st_mode is not None else 0o755
        try:
            self.fs.mkdir(self._path(path), self.cred, mode=mode)
        except FsError as error:
            return _code(error)
        return paramiko.SFTP_OK

    def rmdir(self, path: str) -> int:
        full = self._path(path)
        try:
            if self.fs.listdir(full, self.cred):
                return paramiko.SFTP_FAILURE
            self.fs.remove(full, self.cred, recursive=True)
        except FsError as error:
            return _code(error)
        return paramiko.SFTP_OK

    def chattr(self, path: str, attr: paramiko.SFTPAttributes) -> int:
        full = self._path(path)
        try:
            if attr.st_mode is not None:
                self.fs.chmod(full, attr.st_mode & 0o7777, self.cred)
            if attr.st_uid is not None or attr.st_gid is not None:
                inode = self.fs.lookup(full, self.cred)
                if (attr.st_uid, attr.st_gid) != (inode.uid, inode.gid):
                    self.fs.chown(full, attr.st_uid, attr.st_gid, self.cred)
        except FsError as error:
            return _code(error)
        return paramiko.SFTP_OK
