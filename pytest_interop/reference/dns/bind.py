"""A real authoritative name server for the reference cloud: BIND 9's ``named``, per cloud.

Designate drives BIND through ``rndc addzone``/``delzone`` (``allow-new-zones yes``); the
records of a zone reach the server as TSIG-signed dynamic updates (RFC 2136), each carrying
the zone's new SOA, so the serial BIND serves is the serial the API shows. Designate itself
has BIND pull zones from its mini-DNS by AXFR; dynamic updates keep one process less here and
give the same observable result: a change is served, with a higher serial, or it is not.

Each ``NamedServer`` runs one ``named -g`` on 127.0.0.1 and a free port (named listens only on
addresses an interface carries, not on the rest of 127/8), with its configuration, keys, zone
files and log in a private temporary directory. ``stop()`` ends the process and removes the
directory; a parent killed without a chance to stop it takes ``named`` along
(``PR_SET_PDEATHSIG``, Linux), and the next ``NamedServer`` removes directories whose owner
process is gone.
"""

from __future__ import annotations

import base64
import ctypes
import errno
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DIR_PREFIX = "interop-named-"
OWNER_FILE = "owner.pid"
UPDATE_KEY = "interop-update"
RNDC_KEY = "interop-rndc"
ALGORITHM = "hmac-sha256"
START_TIMEOUT = 20.0
PORT_ATTEMPTS = 64
BIND_DIR_VARIABLE = "INTEROP_BIND_DIR"
INSTALL_HINT = "install BIND 9 (Debian: apt-get install bind9 bind9-utils)"


# (owner name, type, TTL, record data): the whole RRset as it should be served
RRsetChange = tuple[str, str, int, list[str]]


class NamedUnavailable(RuntimeError):
    """named cannot serve here; the message says why in one line, and the fix."""


def find_tools() -> tuple[str, str]:
    """The paths of ``named`` and ``rndc``, or NamedUnavailable saying which is missing.

    Looked for in ``$INTEROP_BIND_DIR`` alone when it is set, else on PATH and in the sbin
    directories (not on a normal user's PATH on Debian).
    """
    where = os.environ.get(BIND_DIR_VARIABLE)
    search = where if where is not None else None
    found = []
    for tool in ("named", "rndc"):
        path = shutil.which(tool, path=search)
        if path is None and where is None:
            path = shutil.which(tool, path="/usr/sbin:/usr/local/sbin")
        if path is None:
            place = f"in {BIND_DIR_VARIABLE}={where}" if where is not None else "installed here"
            raise NamedUnavailable(f"BIND 9's {tool} is not {place}; {INSTALL_HINT}")
        found.append(path)
    return found[0], found[1]


def _die_with_parent() -> None:  # runs in the child between fork and exec
    libc = _LIBC
    if libc is not None:
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


_LIBC = ctypes.CDLL(None) if sys.platform.startswith("linux") else None


def _free_udp_port_also_free_for_tcp(host: str) -> int:
    """A port the kernel gives UDP on ``host`` if TCP can bind it as well, else 0."""
    with (
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp,
        socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp,
    ):
        try:
            udp.bind((host, 0))
            chosen = udp.getsockname()[1]
            tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            tcp.bind((host, chosen))
        except OSError as exc:
            if exc.errno in (errno.EACCES, errno.EADDRINUSE, errno.EPERM):
                return 0
            raise
        return chosen


def pick_port(host: str) -> int:
    # The kernel's free UDP port is often a TCP port in use (a busy machine has thousands of
    # TCP connections): ask again, enough times that a busy machine still finds one.
    for _ in range(PORT_ATTEMPTS):
        port = _free_udp_port_also_free_for_tcp(host)
        if port:
            return port
    raise NamedUnavailable(f"no free UDP and TCP port on {host} for named")


def sweep_stale(root: Path | None = None) -> list[Path]:
    """Remove the directories of named servers whose owner process no longer exists."""
    removed = []
    for directory in Path(root or tempfile.gettempdir()).glob(f"{DIR_PREFIX}*"):
        try:
            owner = int((directory / OWNER_FILE).read_text().strip())
        except (OSError, ValueError):
            continue
        try:
            os.kill(owner, 0)
        except ProcessLookupError:
            shutil.rmtree(directory, ignore_errors=True)
            removed.append(directory)
        except PermissionError:
            continue  # another user's process: alive
    return removed


class NamedServer:
    """One ``named`` on loopback: zones added and removed with rndc, records by updates."""

    def __init__(self, host: str = "127.0.0.1", port: int | None = None) -> None:
        self.named, self.rndc = find_tools()
        self.host = host
        self.port = port or 0
        self.control_port = 0
        self.directory: Path | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self.update_secret = base64.b64encode(secrets.token_bytes(32)).decode()
        self._rndc_secret = base64.b64encode(secrets.token_bytes(32)).decode()
        self._adds = 0

    def __repr__(self) -> str:  # never the keys
        return f"NamedServer({self.host}:{self.port}, pid={self.pid})"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    @property
    def address(self) -> tuple[str, int]:
        return self.host, self.port

    # -- life cycle ---------------------------------------------------------------------------
    def start(self) -> None:
        sweep_stale()
        self.directory = Path(tempfile.mkdtemp(prefix=DIR_PREFIX))
        try:
            (self.directory / OWNER_FILE).write_text(f"{os.getpid()}\n")
            self.port = self.port or pick_port(self.host)
            self.control_port = pick_port(self.host)
            self._write_config()
            log = open(self.directory / "named.log", "wb")  # noqa: SIM115 - the child's stderr
            with log:
                self.process = subprocess.Popen(
                    [self.named, "-g", "-4", "-c", str(self.directory / "named.conf")],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=self.directory,
                    preexec_fn=_die_with_parent,  # prctl only: takes no lock in the child
                )
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def _write_config(self) -> None:
        assert self.directory is not None
        directory = self.directory
        keys = (
            f'key "{RNDC_KEY}" {{ algorithm {ALGORITHM}; secret "{self._rndc_secret}"; }};\n'
            f'key "{UPDATE_KEY}" {{ algorithm {ALGORITHM}; secret "{self.update_secret}"; }};\n'
        )
        (directory / "keys.conf").write_text(keys)
        (directory / "keys.conf").chmod(0o600)
        (directory / "zones").mkdir()
        (directory / "named.conf").write_text(
            f'include "{directory}/keys.conf";\n'
            "options {\n"
            f'  directory "{directory}/zones";\n'
            f'  pid-file "{directory}/named.pid";\n'
            f'  session-keyfile "{directory}/session.key";\n'
            f'  managed-keys-directory "{directory}";\n'
            f"  listen-on port {self.port} {{ {self.host}; }};\n"
            "  listen-on-v6 { none; };\n"
            "  recursion no;\n"
            "  allow-new-zones yes;\n"
            "  notify no;\n"
            "  dnssec-validation no;\n"
            "  minimal-responses no;\n"
            "};\n"
            f"controls {{ inet {self.host} port {self.control_port} allow {{ 127.0.0.0/8; }} "
            f'keys {{ "{RNDC_KEY}"; }}; }};\n'
        )
        (directory / "rndc.conf").write_text(
            f'include "{directory}/keys.conf";\n'
            f'options {{ default-key "{RNDC_KEY}"; default-server {self.host}; '
            f"default-port {self.control_port}; }};\n"
        )

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            assert self.process is not None
            if self.process.poll() is not None:
                raise NamedUnavailable(
                    f"named exited at start on {self.host}#{self.port}: {self.log_problems()}"
                )
            if self._rndc("status", check=False).returncode == 0:
                # named carries on without a socket it could not bind: make sure it has it
                bound = f"{self.host}#{self.port}"
                if not any("listening on" in line and bound in line for line in self.log_lines()):
                    raise NamedUnavailable(f"named could not listen on {bound}: {self.log_tail(2)}")
                return
            if time.monotonic() > deadline:
                raise NamedUnavailable(f"named did not answer rndc in {START_TIMEOUT:.0f}s")
            time.sleep(0.1)

    def log_lines(self) -> list[str]:
        if self.directory is None:
            return []
        try:
            return (self.directory / "named.log").read_text(errors="replace").splitlines()
        except OSError:
            return []

    def log_problems(self, lines: int = 3) -> str:
        """The log's last lines that say what went wrong (its last line if none does)."""
        words = ("could not", "failed", "error", "fatal", "denied")
        found = [
            line.strip()
            for line in self.log_lines()
            if any(w in line for w in words) and "built with" not in line
        ]
        return " / ".join(found[-lines:]) or self.log_tail()

    def log_tail(self, lines: int = 1) -> str:
        return " / ".join(line.strip() for line in self.log_lines()[-lines:])

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    # -- zones ----------------------------------------------------------------------------
    def _rndc(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        assert self.directory is not None
        result = subprocess.run(
            [self.rndc, "-c", str(self.directory / "rndc.conf"), *args],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if check and result.returncode != 0:
            reason = (result.stderr or result.stdout).strip().splitlines()
            raise RuntimeError(
                f"rndc {args[0]} failed: {reason[-1] if reason else '?'} ({self.log_tail(3)})"
            )
        return result

    def add_zone(self, name: str, zone_text: str) -> None:
        """Serve ``name`` (absolute, with the dot) from ``zone_text``, updates allowed by key."""
        assert self.directory is not None
        # A file of its own per add: ``delzone -clean`` removes the file of the zone it
        # deleted after it returns, so a zone added again at once must not share that name.
        self._adds += 1
        file_name = f"{name.rstrip('.') or 'root'}.{self._adds}.zone"
        (self.directory / "zones" / file_name).write_text(zone_text)
        options = (
            f'{{ type primary; file "{file_name}"; allow-update {{ key "{UPDATE_KEY}"; }}; }};'
        )
        self._rndc("addzone", name, options)

    def delete_zone(self, name: str) -> None:
        result = self._rndc("delzone", "-clean", name, check=False)
        if result.returncode != 0 and "not found" not in (result.stderr + result.stdout):
            self._rndc("delzone", "-clean", name)  # raise with rndc's own reason

    def zone_count(self) -> int:
        """How many zones named holds (their files, which delzone -clean removes)."""
        if self.directory is None:
            return 0
        return sum(1 for _ in (self.directory / "zones").glob("*.zone"))

    def keyring(self) -> dict:
        import dns.tsigkeyring

        return dns.tsigkeyring.from_text({UPDATE_KEY: (ALGORITHM, self.update_secret)})

    def update(self, zone: str, soa: tuple[int, str], changes: list[RRsetChange]) -> None:
        """One signed update: each change replaces its RRset (no records: deletes it), and
        the SOA (``(ttl, rdata)``) is replaced last, so the serial moves with the data."""
        import dns.query
        import dns.rcode
        import dns.update

        message = dns.update.UpdateMessage(
            zone, keyring=self.keyring(), keyname=UPDATE_KEY, keyalgorithm=ALGORITHM
        )
        for name, rdtype, ttl, records in changes:
            if records:
                message.replace(name, ttl, rdtype, *records)
            else:
                message.delete(name, rdtype)
        message.replace(zone, soa[0], "SOA", soa[1])
        response = dns.query.tcp(message, self.host, port=self.port, timeout=10)
        if response.rcode() != dns.rcode.NOERROR:
            raise RuntimeError(
                f"named refused the update of {zone}: {dns.rcode.to_text(response.rcode())}"
            )

    def served_serial(self, zone: str) -> int | None:
        """The SOA serial named serves for ``zone`` with authority, or None (not served)."""
        import dns.exception
        import dns.flags
        import dns.message
        import dns.query
        import dns.rcode
        import dns.rdatatype

        query = dns.message.make_query(zone, "SOA")
        try:
            response = dns.query.udp(query, self.host, port=self.port, timeout=2)
        except (dns.exception.Timeout, OSError):
            return None
        if response.rcode() != dns.rcode.NOERROR or not response.flags & dns.flags.AA:
            return None
        for rrset in response.answer:
            if rrset.rdtype == dns.rdatatype.SOA:
                return int(rrset[0].serial)
        return None
