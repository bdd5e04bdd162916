"""One emulated server: its disk, its power state, its SSH endpoints and its console log."""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import logging
import socket
import threading
import uuid
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING

import paramiko

from pytest_interop.reference.machines.disks import AttachedDisks, BlockDevice
from pytest_interop.reference.machines.filesystem import FILE, Filesystem, Inode
from pytest_interop.reference.machines.hostkeys import (
    HostKey,
    generate_host_keys,
    sha256_fingerprint,
)
from pytest_interop.reference.machines.image import (
    CLOUD_INIT_VERSION,
    Account,
    build_image,
    cred_for,
    distro_for,
)
from pytest_interop.reference.machines.sftp import MachineSFTP
from pytest_interop.reference.machines.shell import (
    CallbackOutput,
    Process,
    StreamInput,
    environment_for,
    run_script,
)
from pytest_interop.reference.machines.sshd import (
    Listener,
    MachineServer,
    MachineTransport,
    ThreadGroup,
    TrackedSFTPServer,
)
from pytest_interop.reference.machines.sshd_policy import (
    SshdConfigError,
    SshdSettings,
    load_settings,
)

if TYPE_CHECKING:
    from pytest_interop.reference.machines.host import MachineHost
    from pytest_interop.reference.machines.volume_disks import DiskContent

log = logging.getLogger(__name__)


class _ProbeResetFilter(logging.Filter):
    """A TCP port probe (connect, then close) resets the SSH handshake: expected, not an error."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "Connection reset by peer" not in record.getMessage()


logging.getLogger(f"{__name__}.transport").addFilter(_ProbeResetFilter())

ROOT_LOGIN_CHOICES = ("yes", "no", "prohibit-password", "without-password", "forced-commands-only")
KERNEL_RESERVED_FRACTION = 0.03  # a guest sees a little less RAM than its flavor gives it
MAX_SLEEP_SECONDS = 60.0
GUEST_POWER_DELAY_SECONDS = 0.1


class Machine:
    """A server of the reference cloud you can SSH into. Thread-safe; create it via MachineHost."""

    def __init__(
        self,
        host: MachineHost,
        server_id: str,
        *,
        hostname: str,
        login_user: str,
        authorized_keys: list[str],
        vcpus: int,
        ram_mb: int,
        disk_gb: int,
        image_name: str,
        root_login: str,
        sudo_requires_tty: bool,
        password: str | None,
        disable_root_keys: bool = False,
        disk: Mapping[str, Inode] | None = None,
    ) -> None:
        if root_login not in ROOT_LOGIN_CHOICES:
            raise ValueError(f"root_login must be one of {ROOT_LOGIN_CHOICES}")
        self.host = host
        self.server_id = server_id
        self.hostname = hostname
        self.vcpus, self.ram_mb, self.disk_gb = vcpus, ram_mb, disk_gb
        self._root_login = root_login
        self._sudo_requires_tty = sudo_requires_tty
        self._disable_root_keys = disable_root_keys
        self._lock = threading.RLock()
        self._ips: list[str] = []
        self._listeners: dict[str, Listener] = {}
        self._transports: dict[MachineTransport, str] = {}
        self._threads = ThreadGroup(f"machine-{server_id}")
        self._off = threading.Event()
        self.disks = AttachedDisks(self)
        self._console: list[str] = []
        self.powered_on = False
        self.destroyed = False
        self.boot_id = ""
        self._suspended = False  # memory saved: power_on resumes the same boot
        self.boot_time = datetime.datetime.now(datetime.UTC)
        self.sshd_settings = SshdSettings()
        self._first_boot_pending = True
        self._install(image_name, login_user, authorized_keys, password)
        if disk:
            self._restore_disk(disk)
        self._boot(new_instance=True)

    def __repr__(self) -> str:
        state = "on" if self.powered_on else "off"
        return f"Machine({self.server_id!r}, {self.hostname!r}, {state}, ips={self._ips})"

    # ------------------------------------------------------------------------------------------
    # installing and booting

    def _install(
        self, image_name: str, login_user: str, authorized_keys: list[str], password: str | None
    ) -> None:
        self.image_name = image_name
        self.login_user = login_user
        self.distro = distro_for(image_name)
        self.host_keys: list[HostKey] = generate_host_keys()
        self.fs = Filesystem()
        build_image(
            self.fs,
            distro=self.distro,
            hostname=self.hostname,
            login_user=login_user,
            authorized_keys=authorized_keys,
            password=password,
            root_login=self._root_login,
            sudo_requires_tty=self._sudo_requires_tty,
            disable_root_keys=self._disable_root_keys,
            host_public_lines=[k.public_line for k in self.host_keys],
        )
        self.fs.put_file(
            "/proc/sys/kernel/random/boot_id", mode=0o444, provider=lambda: self.boot_id + "\n"
        )
        self.fs.put_file("/proc/cpuinfo", mode=0o444, provider=self._cpuinfo)
        self.fs.put_file("/proc/meminfo", mode=0o444, provider=self._meminfo)
        self.fs.put_file(
            "/proc/sys/kernel/hostname", mode=0o444, provider=lambda: self.hostname + "\n"
        )
        self.fs.put_file(
            "/proc/uptime", mode=0o444, provider=lambda: f"{self.uptime_seconds():.2f} 0.00\n"
        )
        self._sync_disk_nodes()

    def _restore_disk(self, disk: Mapping[str, Inode]) -> None:
        """Booted from a snapshot: the snapshotted disk, with what cloud-init makes anew for a
        new instance (host keys, host name) kept from the fresh install; the new instance's
        keys are added to the accounts' authorized_keys, as cloud-init adds them."""
        for path, inode in disk.items():
            if path.startswith("/etc/ssh/ssh_host_") or path == "/etc/hostname":
                continue
            fresh = self.fs.raw(path)
            if path.endswith("/authorized_keys") and fresh is not None and inode.kind == FILE:
                lines = inode.data.splitlines()
                added = [line for line in fresh.data.splitlines() if line not in lines]
                inode = replace(inode, data="".join(f"{line}\n" for line in lines + added))
            self.fs.put_node(path, replace(inode))

    def disk_contents(self) -> dict[str, Inode]:
        """A copy of the machine's disk, as a snapshot takes it."""
        return self.fs.disk_contents()

    def _cpuinfo(self) -> str:
        return "".join(
            f"processor\t: {n}\nvendor_id\t: GenuineIntel\nmodel name\t: Intel Xeon Processor "
            f"(Reference Cloud)\ncpu cores\t: 1\n\n"
            for n in range(self.vcpus)
        )

    def _meminfo(self) -> str:
        total = int(self.ram_mb * 1024 * (1 - KERNEL_RESERVED_FRACTION))
        cached = min(total // 8, 300 * 1024)
        free = total - cached - min(total // 10, 200 * 1024)
        return (
            f"MemTotal:       {total} kB\nMemFree:        {free} kB\n"
            f"MemAvailable:   {free + cached} kB\nBuffers:        0 kB\n"
            f"Cached:         {cached} kB\n"
            "SwapTotal:      0 kB\nSwapFree:       0 kB\n"
        )

    def _sync_disk_nodes(self) -> None:
        self.disks.put_device_nodes(self.fs, self.disk_gb)

    def block_devices(self) -> list[BlockDevice]:
        """(name, bytes, type, mountpoint, parent, read_only) for lsblk."""
        with self._lock:
            return self.disks.block_devices(self.disk_gb)

    def _boot(self, *, new_instance: bool) -> None:
        with self._lock:
            self.boot_id = str(uuid.uuid4())
            self.boot_time = datetime.datetime.now(datetime.UTC)
            self._off.clear()
            self.fs.remove_tree("/tmp")  # tmpfs-like: gone at each boot
            self.hostname = (
                self.fs.raw_read("/etc/hostname") or self.hostname
            ).strip() or self.hostname
            try:
                self.sshd_settings = load_settings(self.fs)
            except SshdConfigError:
                log.warning(
                    "machine %s: sshd config invalid at boot, using defaults", self.server_id
                )
                self.sshd_settings = SshdSettings()
            self._write_boot_log(new_instance)
            self._first_boot_pending = False
            self._run()

    def _run(self) -> None:
        """Powered on: accept SSH again on every address (the caller holds the lock)."""
        self._suspended = False
        self._off.clear()
        self.powered_on = True
        for ip in list(self._ips):
            try:
                self._listeners[ip] = Listener(self, ip, self.host.ssh_port)
            except OSError:
                log.warning("machine %s: %s:%s is taken", self.server_id, ip, self.host.ssh_port)

    def _write_boot_log(self, new_instance: bool) -> None:
        stamp = self.boot_time.strftime("%b %d %H:%M:%S")
        iso = self.boot_time.strftime("%a, %d %b %Y %H:%M:%S +0000")
        name = self.hostname
        lines = [
            f"[    0.000000] Linux version {self.distro.kernel} (buildd@reference) #1 SMP",
            "[    0.000000] Command line: BOOT_IMAGE=/boot/vmlinuz root=LABEL=cloudimg-rootfs ro "
            "console=ttyS0",
            f"[    0.000000] random: boot id {self.boot_id}",
            "[    1.402311] Run /sbin/init as init process",
            f"[    3.104219] cloud-init[498]: Cloud-init v. {CLOUD_INIT_VERSION} running 'init' "
            f"at {iso}. Up 3.10 seconds.",
        ]
        if new_instance:
            lines += [
                f"[    3.611020] cloud-init[498]: Generating public/private {k.label.lower()} "
                "key pair."
                for k in self.host_keys
            ]
            user_home = f"/home/{self.login_user}"
            keys_text = self.fs.raw_read(f"{user_home}/.ssh/authorized_keys") or ""
            lines.append(
                f"ci-info: ++++++++Authorized keys from {user_home}/.ssh/authorized_keys for user "
                f"{self.login_user}++++++++"
            )
            for entry in keys_text.splitlines():
                fields = entry.split()
                if len(fields) >= 2:
                    try:
                        blob = paramiko.PKey.from_type_string(fields[0], _b64(fields[1])).asbytes()
                        lines.append(f"ci-info: | {fields[0]} | {sha256_fingerprint(blob)} |")
                    except Exception:  # an unreadable key is listed by type only
                        lines.append(f"ci-info: | {fields[0]} | (unreadable) |")
            prefix = f"<14>{stamp} cloud-init: "
            lines += [
                prefix + "#" * 61,
                prefix + "-----BEGIN SSH HOST KEY FINGERPRINTS-----",
                *(
                    prefix + f"{k.bits} {k.sha256_fingerprint} root@{name} ({k.label})"
                    for k in self.host_keys
                ),
                prefix + "-----END SSH HOST KEY FINGERPRINTS-----",
                prefix + "#" * 61,
                "-----BEGIN SSH HOST KEY KEYS-----",
                *(f"{k.public_line} root@{name}" for k in self.host_keys),
                "-----END SSH HOST KEY KEYS-----",
            ]
        lines += [
            f"[    5.020114] cloud-init[611]: Cloud-init v. {CLOUD_INIT_VERSION} "
            f"finished at {iso}. "
            "Datasource DataSourceOpenStackLocal [net,ver=2].  Up 5.02 seconds",
            "",
            f"{self.distro.pretty_name} {name} ttyS0",
            "",
            f"{name} login: ",
        ]
        self._console.extend(lines)

    def _stop(self) -> None:
        """Close listeners and sessions, and wait for every thread of this machine to end."""
        with self._lock:
            self.powered_on = False
            self._off.set()
            listeners = list(self._listeners.values())
            self._listeners.clear()
            transports = list(self._transports)
        for listener in listeners:
            listener.close()
        for transport in transports:
            transport.close()
        for transport in transports:
            if transport is not threading.current_thread():
                transport.join(5)
        self._threads.join()

    # ------------------------------------------------------------------------------------------
    # the API the reference cloud calls

    def listen(self, ip: str) -> None:
        """Accept SSH on ip:ssh_port (loopback only); OSError if the address is taken."""
        if not ipaddress.ip_address(ip).is_loopback:
            raise ValueError(
                f"{ip} is not a loopback address; the reference cloud binds loopback only"
            )
        with self._lock:
            self._check_alive()
            if ip in self._ips:
                return
            if self.powered_on:
                self._listeners[ip] = Listener(self, ip, self.host.ssh_port)
            self._ips.append(ip)

    def unlisten(self, ip: str) -> None:
        """Stop accepting on ip, and drop the sessions that came in through it."""
        with self._lock:
            if ip in self._ips:
                self._ips.remove(ip)
            listener = self._listeners.pop(ip, None)
            transports = [t for t, via in self._transports.items() if via == ip]
        if listener is not None:
            listener.close()
        for transport in transports:
            transport.close()

    def listen_ips(self) -> list[str]:
        with self._lock:
            return list(self._ips)

    def console_log(self) -> str:
        with self._lock:
            return "\n".join(self._console) + "\n"

    def run_user_data(self, text: str) -> None:
        """cloud-init's scripts-user: the instance's user data, once, after the first boot."""
        from pytest_interop.reference.machines.user_data import run_user_data

        self._threads.start(lambda: run_user_data(self, text), "user-data")

    def power_off(self) -> None:
        with self._lock:
            if not self.powered_on:
                self._suspended = False  # a saved guest that is powered off boots afresh
                return
            self._console.append(f"[{self.uptime_seconds():12.6f}] reboot: Power down")
        self._stop()

    def power_on(self) -> None:
        with self._lock:
            self._check_alive()
            if self.powered_on:
                return
            if self._suspended:
                self._run()  # resume: same boot id, /tmp and uptime, no boot log
            else:
                self._boot(new_instance=self._first_boot_pending)

    def suspend(self) -> None:
        """Save the running guest (Nova's suspend): SSH closes; power_on resumes this boot."""
        with self._lock:
            if not self.powered_on:
                return
        self._stop()
        with self._lock:
            self._suspended = True

    def reboot(self) -> None:
        self.power_off()
        self.power_on()

    def resize(self, vcpus: int, ram_mb: int, disk_gb: int) -> None:
        """New flavor; a running machine is restarted, as a cold migration does."""
        was_on = self.powered_on
        self.power_off()
        with self._lock:
            self.vcpus, self.ram_mb, self.disk_gb = vcpus, ram_mb, disk_gb
            self._sync_disk_nodes()
        if was_on:
            self.power_on()

    def rebuild(
        self,
        image_name: str,
        login_user: str,
        authorized_keys: list[str],
        *,
        password: str | None = None,
    ) -> None:
        """A fresh disk from the image with new host keys; same addresses and attached disks."""
        was_on = self.powered_on
        self.power_off()
        with self._lock:
            self._check_alive()
            self.disks.release_mounts()  # the old root disk goes with what is mounted on it
            self._install(image_name, login_user, authorized_keys, password)
            self._first_boot_pending = True  # cloud-init runs as a new instance at next boot
        if was_on:
            self.power_on()

    def attach_disk(
        self,
        device: str,
        size_gb: int,
        *,
        read_only: bool = False,
        content: DiskContent | None = None,
    ) -> None:
        """A disk at /dev/<device>; read_only as a read-only Cinder volume is attached (lsblk
        shows RO=1, opening it for writing fails with EROFS, for root too). A volume with
        files (content) shows its partition, /dev/<device>1, which `mount` mounts."""
        with self._lock:
            self.disks.attach(
                device.removeprefix("/dev/"), size_gb, read_only=read_only, content=content
            )
            self._sync_disk_nodes()

    def detach_disk(self, device: str) -> None:
        with self._lock:
            self.disks.detach(device.removeprefix("/dev/"))
            self._sync_disk_nodes()

    def destroy(self) -> None:
        with self._lock:
            self.destroyed = True  # first, so that no power_on can race the stop below
            self.disks.release_mounts()
        self._stop()
        with self._lock:
            self._ips.clear()
        self.host._forget(self)

    # ------------------------------------------------------------------------------------------
    # used by the SSH server and the commands

    def request_power_action(self, action: str) -> None:
        """`sudo reboot` inside the guest: done from a host thread, shortly after the command
        returns, so the session that asked can see its exit status before the drop."""

        def act() -> None:
            if self._off.wait(GUEST_POWER_DELAY_SECONDS):
                return  # already stopping
            with contextlib.suppress(RuntimeError):  # destroyed meanwhile
                self.reboot() if action == "reboot" else self.power_off()

        self.host._background.start(act, f"{self.server_id}-{action}")

    @property
    def threads(self) -> ThreadGroup:
        return self._threads

    def _check_alive(self) -> None:
        if self.destroyed:
            raise RuntimeError(f"machine {self.server_id} was destroyed")

    def host_key_fingerprints(self) -> list[str]:
        return [k.sha256_fingerprint for k in self.host_keys]

    def uptime_seconds(self) -> float:
        return (datetime.datetime.now(datetime.UTC) - self.boot_time).total_seconds()

    def is_stopping(self) -> bool:
        """True once a power-off began: running sessions should end."""
        return self._off.is_set()

    def sleep(self, seconds: float) -> None:
        """`sleep` in a session: ends early when the machine powers off."""
        self._off.wait(min(max(seconds, 0.0), MAX_SLEEP_SECONDS))

    def reload_sshd(self) -> str | None:
        """`systemctl reload ssh`: re-read the config; on an invalid one keep the old (sshd -t)."""
        try:
            settings = load_settings(self.fs)
        except SshdConfigError as error:
            return str(error)
        self.sshd_settings = settings
        return None

    def accept_connection(self, connection: socket.socket, via_ip: str) -> None:
        if not self.host._connection_slots.acquire(blocking=False):
            connection.close()  # like sshd's MaxStartups: refuse rather than queue without bound
            return
        transport: MachineTransport | None = None
        registered = False
        try:
            transport = MachineTransport(connection, self._transport_ended)
            transport.set_log_channel(f"{__name__}.transport")
            for key in self.host_keys:
                transport.add_server_key(key.key)
            transport.set_subsystem_handler("sftp", TrackedSFTPServer, MachineSFTP)
            with self._lock:
                if not self.powered_on:
                    raise OSError("powered off")
                self._transports[transport] = via_ip
                registered = True
            transport.start_server(event=threading.Event(), server=MachineServer(self, via_ip))
        except Exception:
            log.debug("machine %s: connection not started", self.server_id, exc_info=True)
            if transport is not None:
                transport.close()
            connection.close()
            owned = True  # the slot is ours to give back unless the transport's end did it
            if registered:
                with self._lock:
                    owned = self._transports.pop(transport, None) is not None
            if owned:
                self.host._connection_slots.release()

    def _transport_ended(self, transport: MachineTransport) -> None:
        with self._lock:
            known = self._transports.pop(transport, None) is not None
        if known:
            self.host._connection_slots.release()

    def start_session(
        self,
        channel: paramiko.Channel,
        account: Account,
        command: str | None,
        forced_command: str | None,
        has_pty: bool,
        env: dict[str, str],
    ) -> None:
        def session() -> None:
            status = 255
            try:
                status = self._run_session(channel, account, command, forced_command, has_pty, env)
            except Exception as error:  # a lost connection or a bug: the client sees status 255
                log.debug("machine %s: session ended: %r", self.server_id, error, exc_info=True)
            finally:
                try:
                    channel.send_exit_status(status)
                    channel.shutdown_write()
                    channel.close()
                except Exception:
                    pass

        self._threads.start(session, f"session-{channel.get_id()}")

    def _run_session(
        self,
        channel: paramiko.Channel,
        account: Account,
        command: str | None,
        forced_command: str | None,
        has_pty: bool,
        env: dict[str, str],
    ) -> int:
        def send(text: str) -> None:
            data = text.replace("\n", "\r\n") if has_pty else text
            channel.sendall(data.encode("utf-8", "surrogateescape"))

        def send_error(text: str) -> None:
            if has_pty:
                send(text)  # a pty carries both streams
            else:
                channel.sendall_stderr(text.encode("utf-8", "surrogateescape"))

        def receive() -> bytes:
            data = channel.recv(65536)
            if data and has_pty:  # a terminal echoes what is typed into it
                send(data.decode("utf-8", "surrogateescape"))
            return data

        environment = environment_for(account)
        environment.update(env)
        environment["SSH_CONNECTION"] = "127.0.0.1 0 0 22"
        if command is not None and forced_command is not None:
            environment["SSH_ORIGINAL_COMMAND"] = command
        process = Process(
            machine=self,
            account=account,
            cred=cred_for(self.fs, account),
            cwd=account.home,
            env=environment,
            stdin=StreamInput(receive),
            stdout=CallbackOutput(send),
            stderr=CallbackOutput(send_error),
            has_pty=has_pty,
            positional=[account.shell],
        )
        script = forced_command if forced_command is not None else command
        if script is None:
            return self._interactive(channel, process, send)
        return run_script(process, script)

    def _interactive(self, channel: paramiko.Channel, process: Process, send) -> int:
        """A minimal line-oriented shell for `invoke_shell` users."""
        prompt = "# " if process.cred.is_root else "$ "
        send(prompt)
        buffer = b""
        status = 0
        while not self._off.is_set():
            data = channel.recv(4096)
            if not data:
                break
            buffer += data
            while b"\n" in buffer.replace(b"\r", b"\n"):
                normalized = buffer.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
                line, _, rest = normalized.partition(b"\n")
                buffer = rest
                text = line.decode("utf-8", "surrogateescape").strip()
                if text in ("exit", "logout"):
                    return status
                if text:
                    status = run_script(process, text)
                    process.last_status = status
                send(prompt)
        return status


def _b64(text: str) -> bytes:
    import base64

    return base64.b64decode(text)
