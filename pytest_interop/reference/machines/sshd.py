"""The SSH server of one emulated machine: listeners, connections, auth and sessions (paramiko).

Threads: one accept thread per listening address, paramiko's transport thread per connection,
and one thread per running command. All are tracked by the machine and joined when it stops.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import paramiko

from pytest_interop.reference.machines.image import find_account, password_matches, stored_password
from pytest_interop.reference.machines.sshd_policy import find_authorized_key

if TYPE_CHECKING:
    from pytest_interop.reference.machines.machine import Machine

log = logging.getLogger(__name__)

ACCEPT_POLL_SECONDS = 0.5


class ThreadGroup:
    """Threads started for one machine, so that stopping it can wait for every one of them."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._threads: set[threading.Thread] = set()
        self._lock = threading.Lock()

    def start(self, target: Callable[[], None], label: str) -> threading.Thread:
        def run() -> None:
            try:
                target()
            finally:
                with self._lock:
                    self._threads.discard(threading.current_thread())

        thread = threading.Thread(target=run, name=f"{self._name}-{label}", daemon=True)
        with self._lock:
            self._threads.add(thread)
        thread.start()
        return thread

    def adopt(self, thread: threading.Thread) -> None:
        with self._lock:
            self._threads.add(thread)

    def release(self, thread: threading.Thread) -> None:
        with self._lock:
            self._threads.discard(thread)

    def join(self, timeout: float = 5.0) -> None:
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            if thread is not threading.current_thread():
                thread.join(timeout)


def _handle_request_then_start(channel: paramiko.Channel, message: paramiko.Message) -> None:
    """paramiko replies to an exec/shell request after the server check returns; a session that
    started inside the check could finish and close the channel before that reply, so sessions
    start only once the request is fully handled."""
    paramiko.Channel._handle_request(channel, message)
    server = channel.get_transport().server_object
    if isinstance(server, MachineServer):
        starter = server.pending.pop(channel.get_id(), None)
        if starter is not None:
            starter()


class MachineTransport(paramiko.Transport):
    """A server transport that tells its machine when its thread ends."""

    _channel_handler_table = {
        **paramiko.Transport._channel_handler_table,
        paramiko.common.MSG_CHANNEL_REQUEST: _handle_request_then_start,
    }

    def __init__(self, sock: socket.socket, on_end: Callable[[MachineTransport], None]) -> None:
        super().__init__(sock)
        self._on_end = on_end

    def run(self) -> None:
        try:
            super().run()
        finally:
            self._on_end(self)


class TrackedSFTPServer(paramiko.SFTPServer):
    """paramiko's SFTP server, its thread registered with the machine so stopping waits for it."""

    def start_subsystem(self, name: str, transport: paramiko.Transport, channel: Any) -> None:
        group: ThreadGroup = transport.server_object.machine.threads
        group.adopt(threading.current_thread())
        try:
            super().start_subsystem(name, transport, channel)
        finally:
            group.release(threading.current_thread())


class Listener:
    """Accepts SSH connections for a machine on one loopback address."""

    def __init__(self, machine: Machine, ip: str, port: int) -> None:
        self.machine = machine
        self.ip = ip
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._socket.bind((ip, port))
            self._socket.listen(128)
        except OSError:
            self._socket.close()
            raise
        self._socket.settimeout(ACCEPT_POLL_SECONDS)
        self._stopping = threading.Event()
        self._thread = threading.Thread(
            target=self._accept_loop, name=f"machine-{machine.server_id}-accept-{ip}", daemon=True
        )
        self._thread.start()

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                connection, _ = self._socket.accept()
            except TimeoutError:
                continue
            except OSError:
                break
            if self._stopping.is_set():
                connection.close()
                break
            self.machine.accept_connection(connection, self.ip)

    def close(self) -> None:
        self._stopping.set()
        with contextlib.suppress(OSError):
            self._socket.shutdown(socket.SHUT_RDWR)  # wakes accept() at once on Linux
        self._socket.close()
        if self._thread is not threading.current_thread():
            self._thread.join(ACCEPT_POLL_SECONDS * 4)


class MachineServer(paramiko.ServerInterface):
    """Authentication and channel rules for one connection, read from the machine's sshd state."""

    def __init__(self, machine: Machine, via_ip: str) -> None:
        self.machine = machine
        self.via_ip = via_ip
        self.forced_commands: dict[str, str | None] = {}
        self.ptys: set[int] = set()
        self.environments: dict[int, dict[str, str]] = {}
        self.pending: dict[int, Callable[[], None]] = {}
        self.username: str | None = None  # the account that logged in

    # --- authentication ---
    def get_allowed_auths(self, username: str) -> str:
        settings = self.machine.sshd_settings
        methods = []
        if settings.pubkey_authentication:
            methods.append("publickey")
        if settings.password_authentication:
            methods.append("password")
        return ",".join(methods) or "publickey"

    def check_auth_none(self, username: str) -> int:
        return paramiko.AUTH_FAILED

    def check_auth_publickey(self, username: str, key: paramiko.PKey) -> int:
        settings = self.machine.sshd_settings
        fs = self.machine.fs
        account = find_account(fs, username)
        if account is None or not settings.pubkey_authentication:
            return paramiko.AUTH_FAILED
        if account.uid == 0 and not settings.root_may_use_keys:
            return paramiko.AUTH_FAILED
        entry = find_authorized_key(fs, settings, account, key)
        if entry is None:
            return paramiko.AUTH_FAILED
        forced_only = settings.permit_root_login == "forced-commands-only"
        if account.uid == 0 and forced_only and entry.forced_command is None:
            return paramiko.AUTH_FAILED
        self.forced_commands[username] = entry.forced_command
        self.username = username
        return paramiko.AUTH_SUCCESSFUL

    def check_auth_password(self, username: str, password: str) -> int:
        settings = self.machine.sshd_settings
        account = find_account(self.machine.fs, username)
        if account is None or not settings.password_authentication:
            return paramiko.AUTH_FAILED
        if account.uid == 0 and not settings.root_may_use_password:
            return paramiko.AUTH_FAILED
        if not password_matches(stored_password(self.machine.fs, username), password):
            return paramiko.AUTH_FAILED
        self.forced_commands[username] = None
        self.username = username
        return paramiko.AUTH_SUCCESSFUL

    # --- channels ---
    def check_channel_request(self, kind: str, chanid: int) -> int:
        if kind == "session":
            return paramiko.OPEN_SUCCEEDED
        return paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

    def check_channel_pty_request(self, channel: Any, *args: Any) -> bool:
        self.ptys.add(channel.get_id())
        return True

    def check_channel_env_request(self, channel: Any, name: bytes, value: bytes) -> bool:
        key = name.decode("utf-8", "replace")
        if key == "LANG" or key.startswith("LC_"):  # sshd's default AcceptEnv LANG LC_*
            self.environments.setdefault(channel.get_id(), {})[key] = value.decode(
                "utf-8", "replace"
            )
            return True
        return False

    def check_channel_exec_request(self, channel: paramiko.Channel, command: bytes) -> bool:
        return self._start(channel, command.decode("utf-8", "surrogateescape"))

    def check_channel_subsystem_request(self, channel: paramiko.Channel, name: str) -> bool:
        if self.forced_commands.get(self.username or "") is not None:
            return False  # a forced command allows no subsystem, as in sshd
        return super().check_channel_subsystem_request(channel, name)

    def check_channel_shell_request(self, channel: paramiko.Channel) -> bool:
        return self._start(channel, None)

    def _start(self, channel: paramiko.Channel, command: str | None) -> bool:
        username = channel.get_transport().get_username()
        account = find_account(self.machine.fs, username or "")
        if account is None:
            return False
        forced = self.forced_commands.get(username or "")
        has_pty = channel.get_id() in self.ptys
        env = self.environments.get(channel.get_id(), {})
        self.pending[channel.get_id()] = lambda: self.machine.start_session(
            channel, account, command, forced, has_pty, env
        )
        return True
